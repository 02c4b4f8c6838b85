import { describe, expect, it } from 'vitest';
import { CheckSyntaxError, parseCheckString } from '#shared/auth/check-string.ts';
import {
  createPolicyEngine,
  type PolicyCredentials,
  PolicyError,
  parsePolicyDocument,
} from '#shared/auth/policy.ts';
import { actionRule, POLICY_RULES, RULE_NAMES } from '#shared/auth/rules.ts';
import { USER_ACTIONS } from '#shared/domain.ts';

const caller = (roles: string[], extra: Partial<PolicyCredentials> = {}): PolicyCredentials => ({
  user_id: 'u-1',
  user_domain_id: 'default',
  project_id: 'p-admin',
  project_domain_id: 'default',
  roles,
  is_admin_project: true,
  ...extra,
});

describe("Drydock's rules and defaults", () => {
  it("registers every rule of Drydock's policy.py with its default, plus the service's own", () => {
    // The names and defaults of python/drydock_provisioner/policy.py.
    const drydock = [
      'physical_provisioner:read_task',
      'physical_provisioner:create_task',
      'physical_provisioner:validate_design',
      'physical_provisioner:verify_site',
      'physical_provisioner:prepare_site',
      'physical_provisioner:verify_nodes',
      'physical_provisioner:prepare_nodes',
      'physical_provisioner:deploy_nodes',
      'physical_provisioner:destroy_nodes',
      'physical_provisioner:delete_tasks',
      'physical_provisioner:relabel_nodes',
      'physical_provisioner:read_build_data',
      'physical_provisioner:read_data',
      'physical_provisioner:ingest_data',
      'physical_provisioner:health_data',
      'physical_provisioner:validate_site_design',
    ];
    for (const name of drydock) {
      expect(POLICY_RULES).toHaveProperty([name]);
      expect(POLICY_RULES[name as keyof typeof POLICY_RULES]).toMatchObject({
        check: 'role:admin',
        drydock: true,
      });
    }
    expect(POLICY_RULES.admin_required.check).toBe('role:admin or is_admin:1');
    const own = RULE_NAMES.filter((name) => !POLICY_RULES[name].drydock);
    expect(own.length).toBeGreaterThan(0);
    for (const name of own) {
      expect(name.startsWith('physical_provisioner:')).toBe(true);
      expect(POLICY_RULES[name].check).toBe('role:admin');
    }
    for (const action of USER_ACTIONS) expect(RULE_NAMES).toContain(actionRule(action));
  });

  it('grants every rule to role:admin (any case) and nothing to other roles', () => {
    const policy = createPolicyEngine();
    expect(policy.granted(caller(['admin']))).toEqual(RULE_NAMES);
    expect(policy.granted(caller(['Admin', 'member']))).toEqual(RULE_NAMES);
    expect(policy.granted(caller(['reader', 'member']))).toEqual([]);
    expect(policy.granted(caller([]))).toEqual([]);
  });

  it('never matches is_admin:1: Drydock puts no is_admin in its policy view', () => {
    const policy = createPolicyEngine({ 'physical_provisioner:read_task': 'is_admin:1' });
    expect(policy.allows('physical_provisioner:read_task', caller(['admin']))).toBe(false);
  });
});

describe('overrides in the shape of policy.yaml', () => {
  it('reads JSON text and parsed mappings; empty means the defaults', () => {
    const text = parsePolicyDocument(
      '{"physical_provisioner:read_task": "role:admin or role:reader", "readers": "role:reader"}',
    );
    expect(text).toEqual({
      'physical_provisioner:read_task': 'role:admin or role:reader',
      readers: 'role:reader',
    });
    expect(parsePolicyDocument({ 'physical_provisioner:read_task': '@' })).toEqual({
      'physical_provisioner:read_task': '@',
    });
    expect(parsePolicyDocument(undefined)).toEqual({});
    expect(parsePolicyDocument('  ')).toEqual({});
  });

  it('evaluates role, rule, generic, @, !, not, and, or and parentheses as oslo.policy does', () => {
    const policy = createPolicyEngine(
      parsePolicyDocument({
        operators: 'role:operator or rule:admin_required',
        'physical_provisioner:read_task': 'rule:operators or role:reader',
        'physical_provisioner:create_task': 'rule:operators and not role:suspended',
        'physical_provisioner:deploy_nodes':
          '(role:deployer or role:admin) and is_admin_project:True',
        'physical_provisioner:destroy_nodes': '!',
        'physical_provisioner:verify_site': '@',
        'physical_provisioner:prepare_site': '',
        'physical_provisioner:delete_tasks': 'project_id:p-ops and user_id:%(user_id)s',
        'physical_provisioner:health_data': "'p-admin':%(project_id)s",
      }),
    );
    const allows = (rule: Parameters<typeof policy.allows>[0], c: PolicyCredentials) =>
      policy.allows(rule, c);
    expect(allows('physical_provisioner:read_task', caller(['reader']))).toBe(true);
    expect(allows('physical_provisioner:read_task', caller(['operator']))).toBe(true);
    expect(allows('physical_provisioner:read_task', caller(['member']))).toBe(false);
    expect(allows('physical_provisioner:create_task', caller(['operator']))).toBe(true);
    expect(allows('physical_provisioner:create_task', caller(['operator', 'suspended']))).toBe(
      false,
    );
    expect(allows('physical_provisioner:deploy_nodes', caller(['deployer']))).toBe(true);
    expect(
      allows(
        'physical_provisioner:deploy_nodes',
        caller(['deployer'], { is_admin_project: false }),
      ),
    ).toBe(false);
    expect(allows('physical_provisioner:destroy_nodes', caller(['admin']))).toBe(false);
    expect(allows('physical_provisioner:verify_site', caller([]))).toBe(true);
    expect(allows('physical_provisioner:prepare_site', caller([]))).toBe(true);
    expect(allows('physical_provisioner:delete_tasks', caller([], { project_id: 'p-ops' }))).toBe(
      true,
    );
    expect(allows('physical_provisioner:delete_tasks', caller([]))).toBe(false);
    expect(allows('physical_provisioner:health_data', caller([]))).toBe(true);
    expect(allows('physical_provisioner:health_data', caller([], { project_id: 'p-x' }))).toBe(
      false,
    );
    // Rules not overridden keep their defaults.
    expect(allows('physical_provisioner:read_build_data', caller(['reader']))).toBe(false);
    expect(policy.effective['physical_provisioner:read_build_data']).toBe('role:admin');
    expect(policy.effective['physical_provisioner:verify_site']).toBe('@');
  });

  it('refuses a document that would not do what it says, naming the setting and the rule', () => {
    const refused = (document: string | Record<string, unknown>) => {
      try {
        parsePolicyDocument(document, 'KEYSTONE_POLICY');
      } catch (error) {
        expect(error).toBeInstanceOf(PolicyError);
        expect((error as Error).message).toMatch(/^KEYSTONE_POLICY/);
        return (error as Error).message;
      }
      throw new Error(`accepted ${JSON.stringify(document)}`);
    };
    expect(refused({ 'physical_provisioner:read_tasks': 'role:admin' })).toContain(
      'unknown rule physical_provisioner:read_tasks',
    );
    expect(refused({ 'physical_provisioner:read_task': 'role:admin or' })).toContain(
      'ends where a check was expected',
    );
    expect(refused({ 'physical_provisioner:read_task': '(role:admin' })).toContain(
      'parenthesis is not closed',
    );
    expect(refused({ 'physical_provisioner:read_task': 'role:admin role:reader' })).toContain(
      'after a complete check',
    );
    expect(refused({ 'physical_provisioner:read_task': 'admin' })).toContain('not a kind:value');
    expect(refused({ 'physical_provisioner:read_task': 'rule:nobody' })).toContain(
      'rule:nobody, not defined',
    );
    expect(refused({ a: 'rule:b', b: 'rule:a' })).toContain('loop');
    expect(refused({ 'physical_provisioner:read_task': ['role:admin'] })).toContain(
      "oslo's list syntax",
    );
    expect(refused({ 'physical_provisioner:read_task': 'http://policy.example/check' })).toContain(
      'remote http: checks',
    );
    expect(refused('["just", "a list"]')).toContain('mapping');
    expect(refused('readers: role:reader')).toContain('is not JSON');
  });

  it('parses and, or, not with oslo precedence', () => {
    expect(parseCheckString('role:a or role:b and not role:c')).toEqual({
      kind: 'or',
      checks: [
        { kind: 'role', match: 'a' },
        {
          kind: 'and',
          checks: [
            { kind: 'role', match: 'b' },
            { kind: 'not', check: { kind: 'role', match: 'c' } },
          ],
        },
      ],
    });
    expect(parseCheckString('((role:a))')).toEqual({ kind: 'role', match: 'a' });
    expect(() => parseCheckString('role:a )')).toThrow(CheckSyntaxError);
    expect(() => parseCheckString('not')).toThrow(CheckSyntaxError);
  });
});
