// A small client for the AWS JSON APIs the functions call on their hot path (the RDS Data API):
// JSON over HTTPS, signed with SigV4 by aws4fetch, sent with the runtime's own fetch. The SDK's
// clients bring about 170 kB of middleware, protocol and credential-chain code into every bundle
// and into every cold start; a Lambda needs none of it, since its credentials are environment
// variables and each call here is one POST of a JSON body.
import { AwsV4Signer } from 'aws4fetch';

/** SigV4 credentials: a Lambda's are in its environment (the role's session). */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

/** Explicit credentials, or a function giving them (read on each call, so rotation is seen). */
export type CredentialSource = AwsCredentials | (() => AwsCredentials);

/**
 * The credentials Lambda puts in every function's environment (`AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`). Nothing else is looked up: no profiles, SSO or
 * instance metadata, which a function never has.
 */
export function environmentCredentials(env: NodeJS.ProcessEnv = process.env): AwsCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new AwsCallError(
      'CredentialsMissing',
      'no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set',
    );
  }
  return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined };
}

/**
 * Where a service is reached: the same endpoint overrides the SDK honours
 * (`AWS_ENDPOINT_URL_<SERVICE_ID>`, then `AWS_ENDPOINT_URL`), so a local emulator needs no code
 * path of its own; otherwise the service's regional endpoint.
 */
export function serviceEndpoint(
  serviceId: string,
  hostPrefix: string,
  region: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const specific = env[`AWS_ENDPOINT_URL_${serviceId.toUpperCase().replaceAll(/[ -]/g, '_')}`];
  return (specific || env.AWS_ENDPOINT_URL || `https://${hostPrefix}.${region}.amazonaws.com`)
    .trim()
    .replace(/\/+$/, '');
}

/** The region of the environment (Lambda sets `AWS_REGION`). */
export function environmentRegion(env: NodeJS.ProcessEnv = process.env): string {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region) {
    throw new AwsCallError('RegionMissing', 'no AWS region: AWS_REGION is not set');
  }
  return region;
}

/**
 * A failed call, shaped like the SDK's service errors so every reader of those (error mapping,
 * log redaction) reads it the same way: `name` is the service's error name (`x-amzn-ErrorType`,
 * e.g. `DatabaseResumingException`) with the HTTP status in `$metadata.httpStatusCode`; for a
 * call that never got an answer `name` says why (`TimeoutError` at the client timeout,
 * `AbortError` when the caller's signal ended it) and `code` is the socket's (`ECONNREFUSED`,
 * ...). Messages hold the service's text only, never the request.
 */
export class AwsCallError extends Error {
  override readonly name: string;
  readonly $metadata: { readonly httpStatusCode?: number | undefined };
  readonly code: string | undefined;

  constructor(
    name: string,
    message: string,
    details: { status?: number; code?: string | undefined } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = name;
    this.$metadata = { httpStatusCode: details.status };
    this.code = details.code;
  }
}

export interface SignedJsonClientOptions {
  /** The SigV4 signing name, e.g. `rds-data`. */
  readonly signingName: string;
  readonly region: string;
  /** Base URL without a trailing slash. */
  readonly endpoint: string;
  readonly credentials?: CredentialSource;
  /** The whole call, answer body included; past it the call fails with `TimeoutError`. */
  readonly requestTimeoutMs: number;
}

export interface SignedJsonCall {
  /** Path after the endpoint, e.g. `/Execute`. */
  readonly path: string;
  readonly body: unknown;
  /** Extra headers, e.g. `x-amz-target` for the awsJson protocols. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The caller's deadline; when it fires the call fails with `AbortError`. */
  readonly signal?: AbortSignal | undefined;
}

/** Sends signed JSON POSTs to one service endpoint and returns the parsed answer. */
export interface SignedJsonClient {
  post(call: SignedJsonCall): Promise<unknown>;
}

/** The error name as the SDK reads it: the header first, then `code` or `__type` in the body. */
function errorName(header: string | null, body: Record<string, unknown>): string {
  const raw =
    header ??
    (typeof body.code === 'string' ? body.code : undefined) ??
    (typeof body.__type === 'string' ? body.__type : undefined) ??
    'UnknownError';
  // `Name:http://internal.amazon.com/...` or `aws.protocol#Name`.
  return (raw.split(':')[0] as string).split('#').at(-1) || 'UnknownError';
}

function parseBody(text: string): Record<string, unknown> {
  if (text === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The socket error code behind a failed fetch (`fetch failed` carries it as its cause). */
function socketCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The credentials as aws4fetch takes them: a session token present only when there is one. */
function signingCredentials({ accessKeyId, secretAccessKey, sessionToken }: AwsCredentials) {
  return sessionToken === undefined
    ? { accessKeyId, secretAccessKey }
    : { accessKeyId, secretAccessKey, sessionToken };
}

export function createSignedJsonClient(options: SignedJsonClientOptions): SignedJsonClient {
  const credentials = (): AwsCredentials => {
    const source = options.credentials ?? environmentCredentials;
    return typeof source === 'function' ? source() : source;
  };
  // The signing key depends on the day only; aws4fetch caches it per secret, date and region.
  const signingKeys = new Map<string, ArrayBuffer>();
  return {
    async post(call) {
      const timeout = AbortSignal.timeout(options.requestTimeoutMs);
      const signal = call.signal ? AbortSignal.any([timeout, call.signal]) : timeout;
      const signer = new AwsV4Signer({
        method: 'POST',
        url: `${options.endpoint}${call.path}`,
        headers: { 'content-type': 'application/json', ...call.headers },
        body: JSON.stringify(call.body),
        ...signingCredentials(credentials()),
        service: options.signingName,
        region: options.region,
        cache: signingKeys,
      });
      let status: number;
      let text: string;
      let header: string | null;
      try {
        const signed = await signer.sign();
        const response = await fetch(signed.url, {
          method: signed.method,
          headers: signed.headers,
          body: signed.body ?? null,
          signal,
        });
        status = response.status;
        header = response.headers.get('x-amzn-errortype');
        text = await response.text();
      } catch (error) {
        if (call.signal?.aborted) {
          throw new AwsCallError(
            'AbortError',
            'the call was aborted by its deadline',
            {},
            {
              cause: error,
            },
          );
        }
        if (timeout.aborted) {
          throw new AwsCallError(
            'TimeoutError',
            `no answer within ${options.requestTimeoutMs} ms`,
            {},
            { cause: error },
          );
        }
        const code = socketCode(error);
        throw new AwsCallError(
          code ?? 'NetworkError',
          `the call failed before an answer: ${code ?? (error as Error).message}`,
          { code },
          { cause: error },
        );
      }
      const body = parseBody(text);
      if (status >= 200 && status < 300) return body;
      const message = body.message ?? body.Message;
      throw new AwsCallError(
        errorName(header, body),
        typeof message === 'string' ? message : `HTTP ${status}`,
        { status },
      );
    },
  };
}
