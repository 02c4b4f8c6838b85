import { readFile } from 'node:fs/promises';
import * as z from '#shared/zod.ts';
import { keystoneCredentialsSchema } from '../auth/keystone-client.ts';
import { redactUrl } from './design-ref.ts';
import { DesignRefError } from './errors.ts';
import { fetchHttp, type HttpFetchContext } from './http-fetch.ts';
import { createDesignSecret, type SecretReader } from './secrets.ts';

/**
 * Shape of the secret named by `DESIGN_KEYSTONE_SECRET_ARN` (and of the local file named by
 * `DESIGN_KEYSTONE_SECRET_FILE`).
 */
export const KeystoneSecretSchema = z.lazySchema(() =>
  keystoneCredentialsSchema({ auth_url: z.url() }),
);
export type KeystoneSecret = z.Parsed<typeof KeystoneSecretSchema>;

/**
 * Where the Keystone credentials for `deckhand+`/`promenade+` references come from: Secrets
 * Manager on AWS; under `npm start` a local JSON file or OpenStack's `OS_*` variables (an
 * operator's sourced openrc), so a Deckhand design can be validated from a workstation.
 */
export type KeystoneCredentialsSource =
  | { kind: 'secret'; arn: string }
  | { kind: 'file'; path: string }
  | { kind: 'env'; env: Readonly<Record<string, string | undefined>> };

/** The setting an operator changes for each source, as error messages name it. */
export function keystoneSetting(source: KeystoneCredentialsSource): string {
  if (source.kind === 'secret') return 'DESIGN_KEYSTONE_SECRET_ARN';
  if (source.kind === 'file') return 'DESIGN_KEYSTONE_SECRET_FILE';
  return 'the OS_* variables';
}

/**
 * Reads the credentials of a source when first needed, validated; the secret and the file are
 * read again after `ttlMs` (rotation, an edited file). Errors name the setting, never a value.
 */
export function loadKeystoneCredentials(
  source: KeystoneCredentialsSource,
  deps: { readSecret: SecretReader; now: () => number; ttlMs: number },
): () => Promise<KeystoneSecret> {
  const setting = keystoneSetting(source);
  if (source.kind === 'env') {
    const e = source.env;
    const parsed = KeystoneSecretSchema().safeParse(
      Object.fromEntries(
        Object.entries({
          auth_url: e.OS_AUTH_URL,
          username: e.OS_USERNAME,
          password: e.OS_PASSWORD,
          project_name: e.OS_PROJECT_NAME,
          project_id: e.OS_PROJECT_ID,
          user_domain_name: e.OS_USER_DOMAIN_NAME,
          project_domain_name: e.OS_PROJECT_DOMAIN_NAME,
        }).filter(([, v]) => v !== undefined),
      ),
    );
    return async () => {
      if (parsed.success) return parsed.data;
      const paths = parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
      throw new DesignRefError(
        'unavailable',
        `${setting} do not give complete Keystone credentials (at: ${paths}; OS_AUTH_URL, OS_USERNAME, OS_PASSWORD and OS_PROJECT_NAME or OS_PROJECT_ID are needed)`,
      );
    };
  }
  return createDesignSecret({
    arn: source.kind === 'secret' ? source.arn : source.path,
    setting,
    schema: KeystoneSecretSchema(),
    read: source.kind === 'secret' ? deps.readSecret : (path) => readFile(path, 'utf8'),
    now: deps.now,
    ttlMs: deps.ttlMs,
  });
}

const TokenBodySchema = z.lazySchema(() =>
  z.object({
    token: z.catchall(z.object({ expires_at: z.optional(z.string()) }), z.unknown()),
  }),
);

// Renew this long before Keystone's expiry so a token never lapses mid-request.
const EXPIRY_MARGIN_MS = 60_000;
// Used when Keystone omits `expires_at`: short enough to be harmless.
const FALLBACK_LIFETIME_MS = 5 * 60_000;

/** Hands out a Keystone v3 token, reusing it until shortly before it expires. */
export type KeystoneTokens = {
  token(deadline: number, signal?: AbortSignal): Promise<string>;
  /** Forgets the token (after a 401), so the next call authenticates again. */
  invalidate(): void;
};

/**
 * Keystone v3 password authentication with a project scope. One token per container is shared
 * by every deckhand/promenade fetch until it nears `expires_at` (Drydock made a new session per
 * fetch, defect 36). Concurrent callers share one authentication request.
 */
export function createKeystoneTokens(
  http: HttpFetchContext,
  secret: () => Promise<KeystoneSecret>,
  setting = 'DESIGN_KEYSTONE_SECRET_ARN',
): KeystoneTokens {
  let current: { token: string; renewAt: number } | undefined;
  let inflight: Promise<string> | undefined;

  const authenticate = async (deadline: number, signal?: AbortSignal): Promise<string> => {
    const s = await secret();
    const base = s.auth_url.replace(/\/+$/, '');
    const url = new URL(`${/\/v3$/.test(base) ? base : `${base}/v3`}/auth/tokens`);
    const project =
      s.project_id !== undefined
        ? { id: s.project_id }
        : { name: s.project_name, domain: { name: s.project_domain_name } };
    const body = JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: {
            user: { name: s.username, password: s.password, domain: { name: s.user_domain_name } },
          },
        },
        scope: { project },
      },
    });
    const shown = redactUrl(url);
    let res: Awaited<ReturnType<typeof fetchHttp>>;
    try {
      res = await fetchHttp(http, {
        url,
        shown,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body,
        deadline,
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (
        error instanceof DesignRefError &&
        (error.failure === 'rejected' || error.failure === 'not_found')
      ) {
        throw new DesignRefError(
          'rejected',
          `Keystone refused the credentials configured by ${setting} (${error.message})`,
          { cause: error },
        );
      }
      throw error;
    }
    const token = res.headers['x-subject-token'];
    if (typeof token !== 'string' || token === '') {
      throw new DesignRefError('unavailable', `${shown}: Keystone returned no X-Subject-Token`);
    }
    let expiresAt = Number.NaN;
    try {
      const parsed = TokenBodySchema().safeParse(JSON.parse(res.bytes.toString('utf8')));
      if (parsed.success && parsed.data.token.expires_at) {
        expiresAt = Date.parse(parsed.data.token.expires_at);
      }
    } catch {
      // Keystone's body is only needed for the expiry; fall back to a short lifetime.
    }
    const now = http.clock.now();
    const renewAt = Number.isNaN(expiresAt)
      ? now + FALLBACK_LIFETIME_MS
      : Math.max(now, expiresAt - EXPIRY_MARGIN_MS);
    current = { token, renewAt };
    return token;
  };

  return {
    token(deadline, signal) {
      if (current && http.clock.now() < current.renewAt) return Promise.resolve(current.token);
      inflight ??= authenticate(deadline, signal).finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
    invalidate() {
      current = undefined;
    },
  };
}
