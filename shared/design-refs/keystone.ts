import { z } from 'zod';
import { DesignRefError } from './errors.ts';
import { fetchHttp, type HttpFetchContext } from './http-fetch.ts';

/** Shape of the secret named by `DESIGN_KEYSTONE_SECRET_ARN`. */
export const KeystoneSecretSchema = z
  .object({
    auth_url: z.url(),
    username: z.string().min(1),
    password: z.string().min(1),
    project_name: z.string().min(1).optional(),
    project_id: z.string().min(1).optional(),
    user_domain_name: z.string().min(1).default('Default'),
    project_domain_name: z.string().min(1).default('Default'),
  })
  .refine((s) => s.project_name !== undefined || s.project_id !== undefined, {
    message: 'project_name or project_id is required',
    path: ['project_name'],
  });
export type KeystoneSecret = z.infer<typeof KeystoneSecretSchema>;

const TokenBodySchema = z.object({
  token: z.object({ expires_at: z.string().optional() }).loose(),
});

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
    const shown = `${url.origin}${url.pathname}`;
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
          `Keystone refused the credentials configured by DESIGN_KEYSTONE_SECRET_ARN (${error.message})`,
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
      const parsed = TokenBodySchema.safeParse(JSON.parse(res.bytes.toString('utf8')));
      if (parsed.success && parsed.data.token.expires_at) {
        expiresAt = Date.parse(parsed.data.token.expires_at);
      }
    } catch {
      // Keystone's body is only needed for the expiry; fall back to a short lifetime.
    }
    const now = http.now();
    const renewAt = Number.isNaN(expiresAt)
      ? now + FALLBACK_LIFETIME_MS
      : Math.max(now, expiresAt - EXPIRY_MARGIN_MS);
    current = { token, renewAt };
    return token;
  };

  return {
    token(deadline, signal) {
      if (current && http.now() < current.renewAt) return Promise.resolve(current.token);
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
