/**
 * From an `X-Auth-Token` header to a Keystone principal with the rules it passes: the one piece
 * both the API Gateway authoriser and the local server run, so `npm start` with `KEYSTONE_URL`
 * answers exactly as the deployed Keystone API does.
 */
import { createHash } from 'node:crypto';
import { IdentityUnavailableError, UnauthorizedError } from '../errors.ts';
import type { KeystoneClient, KeystoneToken } from './keystone-client.ts';
import type { PolicyEngine } from './policy.ts';
import { credentialsOf, type KeystonePrincipal, principalOf } from './principal.ts';

/** The 401 message: Drydock's word first, then what to do about it. */
export const UNAUTHENTICATED_MESSAGE =
  'Unauthenticated: send a valid Keystone token in X-Auth-Token.';

/** Longest token accepted (Fernet tokens are about 200 characters, JWS tokens under 1 KiB). */
export const MAX_TOKEN_LENGTH = 8192;
/** Tokens are printable ASCII without spaces (Fernet and JWS are URL-safe base64). */
const TOKEN_PATTERN = /^[\x21-\x7e]+$/;
/** Enough for every caller of a deployment; the oldest entry goes first when full. */
const MAX_CACHE_ENTRIES = 10_000;

/** What the authenticator logs; Powertools' Logger fits. Attributes never hold a token. */
export interface AuthLogger {
  debug(message: string, attributes: Record<string, unknown>): void;
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
}

/** Options of {@link createKeystoneAuthenticator}. */
export interface KeystoneAuthenticatorOptions {
  readonly client: KeystoneClient;
  readonly policy: PolicyEngine;
  /** How long a positive answer is reused; 0 asks Keystone every time. */
  readonly cacheTtlMs: number;
  /** Epoch milliseconds. */
  readonly now: () => number;
  readonly logger: AuthLogger;
}

/** Request headers as API Gateway delivers them (any case; multi-value alongside). */
export interface AuthHeaders {
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
  readonly multiValueHeaders?: Readonly<Record<string, readonly string[] | undefined>> | null;
}

/** Turns the `X-Auth-Token` of a request into a principal, or refuses it. */
export interface KeystoneAuthenticator {
  /**
   * The caller of a request. Throws `UnauthorizedError` (401) for a missing, malformed, unknown,
   * revoked or expired token and `IdentityUnavailableError` (503) when Keystone cannot answer.
   */
  authenticate(request: AuthHeaders): Promise<KeystonePrincipal>;
}

class TokenRefused extends UnauthorizedError {
  readonly reason: string;
  constructor(reason: string) {
    super(UNAUTHENTICATED_MESSAGE);
    this.reason = reason;
  }
}

/** The one `X-Auth-Token` of a request, whatever its case; two different ones are refused. */
function tokenOf(request: AuthHeaders): string {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (name.toLowerCase() === 'x-auth-token' && value !== undefined) values.add(value.trim());
  }
  for (const [name, list] of Object.entries(request.multiValueHeaders ?? {})) {
    if (name.toLowerCase() !== 'x-auth-token') continue;
    for (const value of list ?? []) values.add(value.trim());
  }
  values.delete('');
  if (values.size === 0) throw new TokenRefused('no X-Auth-Token');
  if (values.size > 1) throw new TokenRefused('more than one X-Auth-Token');
  const token = [...values][0];
  if (token === undefined || token.length > MAX_TOKEN_LENGTH || !TOKEN_PATTERN.test(token)) {
    throw new TokenRefused('malformed X-Auth-Token');
  }
  return token;
}

/**
 * Validates tokens with Keystone and keeps each positive answer for `cacheTtlMs`, never past the
 * token's own expiry; a refusal or an outage is never kept, so a fixed token or a recovered
 * Keystone is seen on the next request. Entries are keyed by the token's SHA-256, so the cache
 * does not hold tokens. Concurrent requests with one token share one validation.
 *
 * The time bound is the price of the cache: a token revoked in Keystone keeps working here for
 * at most `cacheTtlMs` (keystonemiddleware's `token_cache_time` makes the same trade, 300 s by
 * default).
 */
export function createKeystoneAuthenticator(
  options: KeystoneAuthenticatorOptions,
): KeystoneAuthenticator {
  const { client, policy, logger, now } = options;
  const cache = new Map<string, { principal: KeystonePrincipal; until: number }>();
  const inflight = new Map<string, Promise<KeystoneToken>>();

  const remember = (key: string, token: KeystoneToken, principal: KeystonePrincipal) => {
    if (options.cacheTtlMs <= 0) return;
    const until = Math.min(now() + options.cacheTtlMs, token.expiresAt);
    if (until <= now()) return;
    cache.delete(key);
    if (cache.size >= MAX_CACHE_ENTRIES) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(key, { principal, until });
  };

  const validate = async (token: string): Promise<KeystoneToken> => {
    const answer = await client.validate(token);
    if (!answer.valid) throw new TokenRefused(`token ${answer.reason}`);
    return answer.token;
  };

  return {
    async authenticate(request) {
      try {
        const token = tokenOf(request);
        const key = createHash('sha256').update(token).digest('hex');
        const hit = cache.get(key);
        if (hit && now() < hit.until) {
          logger.debug('keystone token accepted', { userId: hit.principal.userId, cached: true });
          return hit.principal;
        }
        if (hit) cache.delete(key);
        let pending = inflight.get(key);
        if (!pending) {
          pending = validate(token).finally(() => inflight.delete(key));
          inflight.set(key, pending);
        }
        const validated = await pending;
        const principal = principalOf(validated, policy.granted(credentialsOf(validated)));
        remember(key, validated, principal);
        logger.debug('keystone token accepted', {
          userId: principal.userId,
          projectId: principal.projectId,
          roles: principal.roles,
          cached: false,
        });
        return principal;
      } catch (error) {
        if (error instanceof TokenRefused) {
          logger.info('keystone token refused', { reason: error.reason });
        } else if (error instanceof IdentityUnavailableError) {
          logger.warn('keystone unavailable', { reason: error.reason });
        }
        throw error;
      }
    },
  };
}
