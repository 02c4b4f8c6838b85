// Secrets Manager for everything that reads a secret: the pg driver's URL, design-reference
// credentials and the Keystone authoriser's service credentials.
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type * as z from '#shared/zod.ts';

/**
 * A secret could not be read, was not JSON or had another shape. The message names the setting
 * and the JSON paths at fault, never the secret's content; callers map it to their own answer.
 */
export class SecretUnavailableError extends Error {
  override readonly name = 'SecretUnavailableError';
}

/** Reads a secret's string value by ARN (Secrets Manager in production). */
export type SecretReader = (arn: string) => Promise<string>;

/**
 * The default `SecretReader`: one lazily created Secrets Manager client per container. The SDK
 * client is imported on the first read, so no function carries it in its init code: the
 * secrets it reads (the pg URL, design and Keystone credentials) are read on first use.
 */
export function createSecretsManagerReader(client?: SecretsManagerClient): SecretReader {
  let sm = client;
  return async (arn) => {
    const sdk = await import('@aws-sdk/client-secrets-manager');
    sm ??= new sdk.SecretsManagerClient({});
    const out = await sm.send(new sdk.GetSecretValueCommand({ SecretId: arn }));
    if (typeof out.SecretString !== 'string') {
      throw new Error('the secret has no string value');
    }
    return out.SecretString;
  };
}

/**
 * A JSON secret fetched on first use, validated, and kept for `ttlMs` so rotations are picked
 * up without a cold start. Concurrent callers share one fetch; a failed fetch is not kept.
 * Error messages name the setting and the JSON paths at fault, never the secret's content.
 */
export function createCachedSecret<T>(options: {
  arn: string;
  setting: string;
  schema: z.ZodMiniType<T>;
  read: SecretReader;
  now: () => number;
  ttlMs: number;
}): () => Promise<T> {
  let cached: { value: T; until: number } | undefined;
  let inflight: Promise<T> | undefined;
  const load = async (): Promise<T> => {
    let text: string;
    try {
      text = await options.read(options.arn);
    } catch (error) {
      throw new SecretUnavailableError(
        `could not read the secret configured by ${options.setting} (${(error as Error).name})`,
        { cause: error },
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new SecretUnavailableError(`the secret configured by ${options.setting} is not JSON`);
    }
    const parsed = options.schema.safeParse(json);
    if (!parsed.success) {
      const paths = parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
      throw new SecretUnavailableError(
        `the secret configured by ${options.setting} does not have the expected shape (at: ${paths})`,
      );
    }
    cached = { value: parsed.data, until: options.now() + options.ttlMs };
    return parsed.data;
  };
  return () => {
    if (cached && options.now() < cached.until) return Promise.resolve(cached.value);
    inflight ??= load().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };
}
