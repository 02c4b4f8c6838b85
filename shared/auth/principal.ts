/**
 * A Keystone caller as the rest of the service sees it, and how it travels from the authoriser to
 * the functions: API Gateway hands the authoriser's `context` (flat strings) to the integration
 * as `requestContext.authorizer`, and the local server puts the same object in the same place.
 */
import * as z from '#shared/zod.ts';
import type { KeystoneToken } from './keystone-client.ts';
import type { PolicyCredentials } from './policy.ts';
import { RULE_NAMES, type RuleName } from './rules.ts';

/**
 * Who called with a Keystone token (the validated token's identity and scope, its user name
 * renamed), and which rules the authoriser found them to pass.
 */
export interface KeystonePrincipal extends Omit<KeystoneToken, 'userName' | 'expiresAt'> {
  /** The user name: Drydock's `context.user`, and so `created_by`. */
  readonly user: string;
  /** The registered rules this caller passes, decided once by the authoriser. */
  readonly granted: ReadonlySet<RuleName>;
}

/** Drydock's policy view (`to_policy_view()`) of a validated token. */
export function credentialsOf(token: KeystoneToken): PolicyCredentials {
  return {
    user_id: token.userId,
    user_domain_id: token.userDomainId,
    project_id: token.projectId,
    project_domain_id: token.projectDomainId,
    roles: token.roles,
    is_admin_project: token.isAdminProject,
  };
}

/** The principal of a validated token with the rules it passes. */
export function principalOf(token: KeystoneToken, granted: readonly RuleName[]): KeystonePrincipal {
  return {
    user: token.userName,
    userId: token.userId,
    userDomainId: token.userDomainId,
    projectId: token.projectId,
    projectName: token.projectName,
    projectDomainId: token.projectDomainId,
    domainId: token.domainId,
    roles: token.roles,
    isAdminProject: token.isAdminProject,
    granted: new Set(granted),
  };
}

/** The value that marks an authoriser context as a Keystone principal's. */
const KEYSTONE = 'keystone';

/**
 * The authoriser's `context`: flat string values, as API Gateway requires (no nulls, no
 * arrays); lists are comma-joined as keystonemiddleware joins `X-Roles`.
 */
export function authorizerContextOf(principal: KeystonePrincipal): Record<string, string> {
  return {
    auth: KEYSTONE,
    user: principal.user,
    user_id: principal.userId,
    user_domain_id: principal.userDomainId ?? '',
    project_id: principal.projectId ?? '',
    project_name: principal.projectName ?? '',
    project_domain_id: principal.projectDomainId ?? '',
    domain_id: principal.domainId ?? '',
    roles: principal.roles.join(','),
    is_admin_project: String(principal.isAdminProject),
    granted: [...principal.granted].join(','),
  };
}

const list = (text: string) => text.split(',').filter((item) => item !== '');
const optional = z.lazySchema(() =>
  z.pipe(
    z.string(),
    z.transform((value) => (value === '' ? null : value)),
  ),
);

const AuthorizerContextSchema = z.lazySchema(() =>
  z.object({
    auth: z.literal(KEYSTONE),
    user: z.string().check(z.minLength(1)),
    user_id: z.string().check(z.minLength(1)),
    user_domain_id: optional(),
    project_id: optional(),
    project_name: optional(),
    project_domain_id: optional(),
    domain_id: optional(),
    roles: z.pipe(z.string(), z.transform(list)),
    is_admin_project: z.pipe(
      z.enum(['true', 'false']),
      z.transform((value) => value === 'true'),
    ),
    granted: z.pipe(
      z.string(),
      z.transform((value) =>
        list(value).filter((rule): rule is RuleName => (RULE_NAMES as string[]).includes(rule)),
      ),
    ),
  }),
);

/**
 * The Keystone principal in `requestContext.authorizer`, or null when the request was not
 * authorised by the Keystone authoriser (IAM, a public route, the open local server). A Keystone
 * context that does not parse throws (a 500), never reads as null.
 */
export function keystonePrincipalFromContext(authorizer: unknown): KeystonePrincipal | null {
  if ((authorizer as { auth?: unknown } | null | undefined)?.auth !== KEYSTONE) return null;
  const parsed = AuthorizerContextSchema().safeParse(authorizer);
  // Fail closed: a Keystone context that cannot be read must never pass as "no Keystone caller",
  // which would skip the policy check.
  if (!parsed.success) throw new Error('the Keystone authoriser context is malformed');
  const c = parsed.data;
  return {
    user: c.user,
    userId: c.user_id,
    userDomainId: c.user_domain_id,
    projectId: c.project_id,
    projectName: c.project_name,
    projectDomainId: c.project_domain_id,
    domainId: c.domain_id,
    roles: c.roles,
    isAdminProject: c.is_admin_project,
    granted: new Set(c.granted),
  };
}
