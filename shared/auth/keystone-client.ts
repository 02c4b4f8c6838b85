/**
 * The service's side of Keystone, as keystonemiddleware's `auth_token` does it: the service signs
 * in with its own credentials (password, project scope) and validates a caller's token with
 * `GET /v3/auth/tokens` (`X-Auth-Token`: the service's token, `X-Subject-Token`: the caller's).
 * Neither token nor any credential ever appears in an error message or a log line.
 */
import * as z from '#shared/zod.ts';
import { IdentityUnavailableError } from '../errors.ts';

type ProjectNaming = { project_name?: string | undefined; project_id?: string | undefined };
const namesProject = (s: ProjectNaming) =>
  s.project_name !== undefined || s.project_id !== undefined;

/**
 * Keystone password credentials scoped to a project, as every Keystone secret of this service
 * holds them (`extra` adds a field, e.g. the design function's `auth_url`): user and project
 * domains default to `Default`, and a project is named by name or id.
 */
export function keystoneCredentialsSchema<Extra extends z.core.$ZodLooseShape>(extra: Extra) {
  return z
    .object({
      ...extra,
      username: z.string().check(z.minLength(1)),
      password: z.string().check(z.minLength(1)),
      project_name: z.optional(z.string().check(z.minLength(1))),
      project_id: z.optional(z.string().check(z.minLength(1))),
      user_domain_name: z._default(z.string().check(z.minLength(1)), 'Default'),
      project_domain_name: z._default(z.string().check(z.minLength(1)), 'Default'),
    })
    .check(
      z.refine((s) => namesProject(s as ProjectNaming), {
        message: 'project_name or project_id is required',
        path: ['project_name'],
      }),
    );
}

/**
 * The service credentials in Secrets Manager. The same shape as the design function's Keystone
 * secret, so one secret can serve both; its `auth_url`, if present, is not used here: tokens are
 * validated at `KEYSTONE_URL`.
 */
export const KeystoneServiceSecretSchema = z.lazySchema(() => keystoneCredentialsSchema({}));
export type KeystoneServiceSecret = z.Parsed<typeof KeystoneServiceSecretSchema>;

const Named = z.lazySchema(() =>
  z.catchall(
    z.object({ id: z.string().check(z.minLength(1)), name: z.optional(z.string()) }),
    z.unknown(),
  ),
);
const Scope = z.lazySchema(() => z.extend(Named(), { domain: z.optional(Named()) }));

/** The part of Keystone's token body this service reads (`GET /v3/auth/tokens`). */
const TokenBodySchema = z.lazySchema(() =>
  z.object({
    token: z.catchall(
      z.object({
        expires_at: z.string().check(z.minLength(1)),
        user: z.object({
          id: z.string().check(z.minLength(1)),
          name: z.string().check(z.minLength(1)),
          domain: z.optional(Named()),
        }),
        project: z.optional(Scope()),
        domain: z.optional(Named()),
        roles: z._default(
          z.array(z.catchall(z.object({ name: z.string().check(z.minLength(1)) }), z.unknown())),
          [],
        ),
        is_admin_project: z.optional(z.boolean()),
      }),
      z.unknown(),
    ),
  }),
);

/** A validated token: who it speaks for, in which scope, with which roles, until when. */
export interface KeystoneToken {
  readonly userId: string;
  readonly userName: string;
  readonly userDomainId: string | null;
  readonly projectId: string | null;
  readonly projectName: string | null;
  readonly projectDomainId: string | null;
  /** Set for a domain-scoped token. */
  readonly domainId: string | null;
  readonly roles: readonly string[];
  /**
   * keystoneauth reads a missing `is_admin_project` as true (`AccessInfoV3.is_admin_project`),
   * and keystonemiddleware passes that on to Drydock; so does this service.
   */
  readonly isAdminProject: boolean;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

/** What Keystone said about a caller's token. */
export type TokenValidation =
  | { readonly valid: true; readonly token: KeystoneToken }
  | { readonly valid: false; readonly reason: 'not found, revoked or expired' | 'expired' };

/** Options of {@link createKeystoneClient}. */
export interface KeystoneClientOptions {
  /** Keystone's identity endpoint, with or without the trailing `/v3`. */
  readonly url: string;
  /** The service's credentials (read from Secrets Manager, cached by the caller). */
  readonly credentials: () => Promise<KeystoneServiceSecret>;
  /** Bound on each request to Keystone (connect, headers and body). */
  readonly timeoutMs: number;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

/** Validates callers' tokens with the service's own token. */
export interface KeystoneClient {
  validate(token: string): Promise<TokenValidation>;
}

/** Keystone answers a token body of a few KiB without the catalog; anything huge is refused. */
const MAX_BODY_BYTES = 1024 * 1024;
/** Renew the service's token this long before Keystone's expiry. */
const SERVICE_TOKEN_MARGIN_MS = 60_000;

/** Keystone's v3 base from `KEYSTONE_URL` (`https://ks:5000`, `…/v3`, `…/identity/v3/`). */
export function identityBase(url: string): string {
  const base = url.replace(/\/+$/, '');
  return /\/v3$/.test(base) ? base : `${base}/v3`;
}

function unavailable(reason: string, cause?: unknown): IdentityUnavailableError {
  return new IdentityUnavailableError(reason, cause === undefined ? undefined : { cause });
}

/**
 * A Keystone client for token validation. The service's token is fetched on first use and reused
 * until a minute before it expires; when Keystone refuses it (401) it is fetched again once, as
 * keystonemiddleware retries. Keystone being down, slow, misconfigured or answering nonsense is
 * an {@link UnavailableError} (503), never "invalid token".
 */
export function createKeystoneClient(options: KeystoneClientOptions): KeystoneClient {
  const base = identityBase(options.url);
  let service: { token: string; renewAt: number } | undefined;
  let signingIn: Promise<string> | undefined;

  // Node's own fetch (keep-alive by default): undici as a package would add 700 KB to the
  // authoriser's bundle for nothing this needs. The signal bounds connect, headers and body.
  const exchange = async (
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<{ status: number; headers: Headers; text: string }> => {
    const url = new URL(`${base}${path}`);
    const signal = AbortSignal.timeout(options.timeoutMs);
    const what = `${method} ${url.pathname}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { accept: 'application/json', 'user-agent': 'drydock-statemgmt', ...headers },
        ...(body === undefined ? {} : { body }),
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      throw unavailable(`${what} failed: ${failureCode(error)}`, error);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body ?? []) {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          await response.body?.cancel();
          throw unavailable(`${what}: the answer is larger than 1 MiB`);
        }
        chunks.push(chunk);
      }
    } catch (error) {
      if (error instanceof IdentityUnavailableError) throw error;
      throw unavailable(`${what}: the answer was cut off (${failureCode(error)})`, error);
    }
    return {
      status: response.status,
      headers: response.headers,
      text: Buffer.concat(chunks).toString('utf8'),
    };
  };

  const signIn = async (): Promise<string> => {
    const secret = await options.credentials();
    const project =
      secret.project_id !== undefined
        ? { id: secret.project_id }
        : { name: secret.project_name, domain: { name: secret.project_domain_name } };
    const answer = await exchange(
      'POST',
      '/auth/tokens',
      { 'content-type': 'application/json' },
      JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: {
              user: {
                name: secret.username,
                password: secret.password,
                domain: { name: secret.user_domain_name },
              },
            },
          },
          scope: { project },
        },
      }),
    );
    if (answer.status === 401 || answer.status === 403) {
      throw unavailable(
        `Keystone refused the service credentials in KEYSTONE_SECRET_ARN (HTTP ${answer.status})`,
      );
    }
    if (answer.status !== 201 && answer.status !== 200) {
      throw unavailable(`Keystone answered HTTP ${answer.status} to the service's sign-in`);
    }
    const token = answer.headers.get('x-subject-token');
    if (token === null || token === '') {
      throw unavailable("Keystone's sign-in answer has no X-Subject-Token");
    }
    let expiresAt = Number.NaN;
    try {
      const parsed = z
        .object({ token: z.catchall(z.object({ expires_at: z.string() }), z.unknown()) })
        .safeParse(JSON.parse(answer.text));
      if (parsed.success) expiresAt = Date.parse(parsed.data.token.expires_at);
    } catch {
      // Only the expiry is read from the body; without it the token is kept for five minutes.
    }
    const now = options.now();
    service = {
      token,
      renewAt: Number.isNaN(expiresAt)
        ? now + 5 * 60_000
        : Math.max(now, expiresAt - SERVICE_TOKEN_MARGIN_MS),
    };
    return token;
  };

  const serviceToken = (): Promise<string> => {
    if (service && options.now() < service.renewAt) return Promise.resolve(service.token);
    signingIn ??= signIn().finally(() => {
      signingIn = undefined;
    });
    return signingIn;
  };

  const validate = async (token: string, retried = false): Promise<TokenValidation> => {
    const ownToken = await serviceToken();
    const answer = await exchange('GET', '/auth/tokens?nocatalog', {
      'x-auth-token': ownToken,
      'x-subject-token': token,
    });
    if (answer.status === 404) return { valid: false, reason: 'not found, revoked or expired' };
    if (answer.status === 401) {
      // The service's own token was refused (expired early, revoked): sign in again once.
      if (service?.token === ownToken) service = undefined;
      if (!retried) return validate(token, true);
      throw unavailable("Keystone refused the service's own token twice");
    }
    if (answer.status === 403) {
      throw unavailable(
        'Keystone does not let the service user validate tokens (HTTP 403): give it the service or admin role',
      );
    }
    if (answer.status !== 200) {
      throw unavailable(`Keystone answered HTTP ${answer.status} to a token validation`);
    }
    let body: z.Parsed<typeof TokenBodySchema>;
    try {
      body = TokenBodySchema().parse(JSON.parse(answer.text));
    } catch {
      throw unavailable("Keystone's token validation answer is not a v3 token body");
    }
    const t = body.token;
    const expiresAt = Date.parse(t.expires_at);
    if (Number.isNaN(expiresAt)) {
      throw unavailable("Keystone's token validation answer has an unreadable expires_at");
    }
    // keystonemiddleware refuses a token that Keystone still returns but whose time is up.
    if (expiresAt <= options.now()) return { valid: false, reason: 'expired' };
    return {
      valid: true,
      token: {
        userId: t.user.id,
        userName: t.user.name,
        userDomainId: t.user.domain?.id ?? null,
        projectId: t.project?.id ?? null,
        projectName: t.project?.name ?? null,
        projectDomainId: t.project?.domain?.id ?? null,
        domainId: t.domain?.id ?? null,
        roles: t.roles.map((role) => role.name),
        isAdminProject: t.is_admin_project ?? true,
        expiresAt,
      },
    };
  };

  return { validate: (token) => validate(token) };
}

/** A failed fetch's cause code (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`) or error name. */
function failureCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  return (error as Error | null)?.name ?? 'unknown error';
}
