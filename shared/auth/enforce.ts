import { ForbiddenError } from '../errors.ts';
import type { KeystonePrincipal } from './principal.ts';
import type { RuleName } from './rules.ts';

/**
 * Holds a Keystone caller to a route's rule, as Drydock's `ApiEnforcer` does per handler: 403
 * when the authoriser did not grant it. Callers without a Keystone principal are not subject to
 * the rules: on AWS, IAM already decided for a SigV4 caller, and the open local server has no
 * identity to check. A route without a rule is public.
 *
 * @example enforcePolicy(request.caller.keystone, 'physical_provisioner:read_task')
 */
export function enforcePolicy(
  principal: KeystonePrincipal | null,
  rule: RuleName | undefined,
): void {
  if (rule === undefined || principal === null) return;
  if (!principal.granted.has(rule)) {
    throw new ForbiddenError(`Forbidden: the policy rule ${rule} does not allow this caller.`);
  }
}
