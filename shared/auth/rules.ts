/**
 * The policy rules callers with a Keystone token are held to: Drydock's own (its `policy.py`,
 * names and defaults unchanged, so an operator's existing `policy.yaml` overrides carry over)
 * and the rules of the routes Drydock does not have, in the same `physical_provisioner:`
 * namespace. A route names its rule in its table (`Route.policy`); a route without one is public.
 */
import type { USER_ACTIONS } from '../domain.ts';

/** One registered rule: its default check string and what it guards. */
export interface RuleDefault {
  /** oslo.policy check string used unless the policy document overrides it. */
  readonly check: string;
  readonly description: string;
  /** Whether Drydock defines the rule (true) or this service adds it (false). */
  readonly drydock: boolean;
}

const drydock = (description: string, check = 'role:admin'): RuleDefault => ({
  check,
  description,
  drydock: true,
});
const own = (description: string): RuleDefault => ({
  check: 'role:admin',
  description,
  drydock: false,
});

/**
 * Every rule with its default. Drydock registers each task and data rule as plain `role:admin`;
 * `admin_required` (`role:admin or is_admin:1`) is its base rule, there for overrides to refer to
 * with `rule:admin_required`. Drydock's policy view carries no `is_admin`, so `is_admin:1` never
 * matches there or here.
 */
export const POLICY_RULES = {
  admin_required: drydock('Actions requiring admin authority', 'role:admin or is_admin:1'),
  'physical_provisioner:read_task': drydock('Get task status (GET /tasks, GET /tasks/{id})'),
  'physical_provisioner:create_task': drydock('Create a task (POST /tasks)'),
  'physical_provisioner:validate_design': drydock('Create validate_design task'),
  'physical_provisioner:verify_site': drydock('Create verify_site task'),
  'physical_provisioner:prepare_site': drydock('Create prepare_site task'),
  'physical_provisioner:verify_nodes': drydock('Create verify_nodes task'),
  'physical_provisioner:prepare_nodes': drydock('Create prepare_nodes task'),
  'physical_provisioner:deploy_nodes': drydock('Create deploy_nodes task'),
  'physical_provisioner:destroy_nodes': drydock('Create destroy_nodes task'),
  'physical_provisioner:relabel_nodes': drydock('Create relabel_nodes task'),
  'physical_provisioner:delete_tasks': drydock('Deletes tasks by age (DELETE /tasks)'),
  'physical_provisioner:read_build_data': drydock('Read build data for a node or a task'),
  'physical_provisioner:read_data': drydock('Read loaded design data'),
  'physical_provisioner:ingest_data': drydock('Load design data'),
  'physical_provisioner:health_data': drydock('Get health status (GET /health/extended)'),
  'physical_provisioner:validate_site_design': drydock('Validate site design'),
  'physical_provisioner:update_task': own(
    "Change a task's status, result or retry, retry it, and roll subtask results up (the orchestrator)",
  ),
  'physical_provisioner:create_subtask': own('Register a subtask under a task (the orchestrator)'),
  'physical_provisioner:terminate_task': own('Request termination of a task (and its subtasks)'),
  'physical_provisioner:claim_tasks': own('Claim queued tasks as the lease holder'),
  'physical_provisioner:append_messages': own("Append result messages to a task's result"),
  'physical_provisioner:create_build_data': own('Record build data for a node'),
  'physical_provisioner:read_lease': own('Read the orchestrator lease'),
  'physical_provisioner:hold_lease': own(
    'Claim, renew and abdicate the orchestrator lease; requeue work stranded by a dead epoch',
  ),
  'physical_provisioner:read_api_document': own('Read the OpenAPI document of this service'),
  'physical_provisioner:create_bootaction_context': own(
    "Create a node's boot-action context and its key (the orchestrator, while deploying the node)",
  ),
  'physical_provisioner:read_bootaction': own("Read a node's boot actions and their statuses"),
} as const satisfies Record<string, RuleDefault>;

/** The name of a registered rule; route tables may only name these. */
export type RuleName = keyof typeof POLICY_RULES;

/** Every registered rule name, in registration order. */
export const RULE_NAMES = Object.keys(POLICY_RULES) as RuleName[];

/**
 * The rule Drydock checks per action when a task is created, besides `create_task`
 * (`physical_provisioner:deploy_nodes` for a deploy_nodes task). Typed so that a user action
 * without a registered rule does not compile.
 */
export function actionRule(action: (typeof USER_ACTIONS)[number]): RuleName {
  return `physical_provisioner:${action}`;
}
