/**
 * The policy engine: Drydock's rule defaults (`rules.ts`) overridden by an oslo.policy-style
 * document, evaluated against Drydock's policy view of a Keystone caller.
 */
import {
  type Check,
  CheckSyntaxError,
  evaluateCheck,
  parseCheckString,
  referencedRules,
} from './check-string.ts';
import { POLICY_RULES, RULE_NAMES, type RuleName } from './rules.ts';

/** Drydock's `DrydockRequestContext.to_policy_view()`: what check strings can test. */
export interface PolicyCredentials {
  readonly user_id: string;
  readonly user_domain_id: string | null;
  readonly project_id: string | null;
  readonly project_domain_id: string | null;
  readonly roles: readonly string[];
  readonly is_admin_project: boolean;
}

/** The policy document is unusable; the message names the setting and the rule at fault. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

/** Rule name → check string, as in Drydock's `policy.yaml`. */
export type PolicyOverrides = Readonly<Record<string, string>>;

/** Rule names in this namespace must be registered ones: a typo there would silently not apply. */
const NAMESPACE = 'physical_provisioner:';

/**
 * Reads a policy document: a mapping of rule name to check string, exactly the shape of Drydock's
 * `policy.yaml` (so an operator's overrides carry over), as JSON text (`KEYSTONE_POLICY`) or an
 * object already parsed (the CDK stage reads YAML too, and passes JSON on). Empty or absent means
 * "the defaults". JSON only here: a YAML parser would add a ninth to the authoriser's bundle.
 *
 * @example parsePolicyDocument('{"physical_provisioner:read_task": "role:admin or role:reader"}')
 */
export function parsePolicyDocument(
  source: string | Readonly<Record<string, unknown>> | undefined,
  setting = 'KEYSTONE_POLICY',
): PolicyOverrides {
  if (source === undefined) return {};
  let document: unknown = source;
  if (typeof source === 'string') {
    if (source.trim() === '') return {};
    try {
      document = JSON.parse(source);
    } catch (error) {
      throw new PolicyError(`${setting} is not JSON: ${(error as Error).message}`);
    }
  }
  if (document === null || document === undefined) return {};
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new PolicyError(`${setting} must be a mapping of rule name to check string`);
  }
  const overrides: Record<string, string> = {};
  for (const [name, check] of Object.entries(document)) {
    if (typeof check !== 'string') {
      throw new PolicyError(
        `${setting}: the rule ${name} must be a check string (oslo's list syntax is not supported)`,
      );
    }
    overrides[name] = check;
  }
  validateOverrides(overrides, setting);
  return overrides;
}

function validateOverrides(overrides: PolicyOverrides, setting: string): Map<string, Check> {
  for (const name of Object.keys(overrides)) {
    if (name.startsWith(NAMESPACE) && !(name in POLICY_RULES)) {
      throw new PolicyError(
        `${setting}: unknown rule ${name}; the registered rules are ${RULE_NAMES.join(', ')}`,
      );
    }
  }
  const checks = new Map<string, Check>();
  const sources: Record<string, string> = {
    ...Object.fromEntries(RULE_NAMES.map((name) => [name, POLICY_RULES[name].check])),
    ...overrides,
  };
  for (const [name, text] of Object.entries(sources)) {
    try {
      checks.set(name, parseCheckString(text));
    } catch (error) {
      if (error instanceof CheckSyntaxError) {
        throw new PolicyError(`${setting}: rule ${name}: ${error.message}`);
      }
      throw error;
    }
  }
  for (const [name, check] of checks) {
    for (const reference of referencedRules(check)) {
      if (!checks.has(reference)) {
        throw new PolicyError(`${setting}: rule ${name} refers to rule:${reference}, not defined`);
      }
    }
  }
  // `rule:` references must not loop: oslo.policy would recurse until it gives up.
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      throw new PolicyError(`${setting}: rules refer to each other in a loop: ${path.join(' → ')}`);
    }
    state.set(name, 'visiting');
    for (const next of referencedRules(checks.get(name) as Check)) visit(next, [...path, next]);
    state.set(name, 'done');
  };
  for (const name of checks.keys()) visit(name, [name]);
  return checks;
}

/** Decides rules for callers; built once per container. */
export interface PolicyEngine {
  /** Whether the caller passes `rule` (Drydock's `policy_engine.authorize`). */
  allows(rule: RuleName, credentials: PolicyCredentials): boolean;
  /** Every registered rule the caller passes: what a request context carries downstream. */
  granted(credentials: PolicyCredentials): RuleName[];
  /** The effective check string of each registered rule (defaults with overrides applied). */
  readonly effective: Readonly<Record<RuleName, string>>;
}

/**
 * Builds the engine from overrides already read by {@link parsePolicyDocument}.
 *
 * @example createPolicyEngine().allows('physical_provisioner:read_task', credentials)
 */
export function createPolicyEngine(overrides: PolicyOverrides = {}): PolicyEngine {
  const checks = validateOverrides(overrides, 'the policy document');
  const allows = (rule: RuleName, credentials: PolicyCredentials): boolean =>
    evaluateCheck(checks.get(rule) as Check, {
      credentials: credentials as unknown as Record<string, unknown>,
      // Drydock authorises against the caller's own project and user, never a resource's.
      target: { project_id: credentials.project_id, user_id: credentials.user_id },
      rule: (name) => checks.get(name),
    });
  return {
    allows,
    granted: (credentials) => RULE_NAMES.filter((rule) => allows(rule, credentials)),
    effective: Object.fromEntries(
      RULE_NAMES.map((rule) => [rule, overrides[rule] ?? POLICY_RULES[rule].check]),
    ) as Record<RuleName, string>,
  };
}
