/**
 * Terminology
 * - task: a unit of orchestrator work (an action on a design, optionally narrowed by a node
 *   filter). Top-level tasks are queued by callers and claimed by the lease holder; subtasks are
 *   registered under a parent by the orchestrator while it works; internal tasks are parentless
 *   tasks the lease holder creates for itself (Drydock's node check task, its health Noop).
 * - retry: a finished task with failures run again for the failed entities (Drydock's
 *   `retry_task`); `retry` counts the attempts and marks the subtasks of each attempt.
 * - roll-up: a task's result recomputed from its finished subtasks (Drydock's `bubble_results`
 *   for the entity lists, `align_result` for the status).
 * - result: a task's outcome summary (status, message, reason, successes, failures, links) and
 *   its error count.
 * - result message: one line of a task's log, numbered per task from 1 without gaps.
 * - build data: what was collected about a node while building it (lshw, lldp, script output);
 *   kept per node, newest first, and kept when its task is purged.
 * - lease: the single `active_instance` row; its holder is the one orchestrator instance allowed
 *   to claim tasks. Every takeover bumps its epoch, the fencing token writes carry; a task is
 *   owned by the epoch that claimed or created it, and recovered when that epoch is dead.
 * - design reference: a URI naming a site design; the service resolves it, never stores designs.
 */

export const TASK_STATUSES = [
  'requested',
  'queued',
  'running',
  'terminating',
  'terminated',
  'complete',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Statuses after which a task never changes again. */
export const FINISHED_STATUSES = [
  'terminated',
  'complete',
] as const satisfies readonly TaskStatus[];

export const RESULT_STATUSES = [
  'incomplete',
  'success',
  'partial_success',
  'failure',
  'unreported',
] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];

/** Actions a caller may create as a top-level task through `POST /tasks` (Drydock's list). */
export const USER_ACTIONS = [
  'validate_design',
  'verify_site',
  'prepare_site',
  'verify_nodes',
  'prepare_nodes',
  'deploy_nodes',
  'destroy_nodes',
  'relabel_nodes',
] as const;

/** Every orchestrator action Drydock knows (37). */
export const ACTIONS = [
  // orchestrator: the callers' actions, and two only the orchestrator creates
  'noop',
  ...USER_ACTIONS,
  'bootaction_report',
  // out-of-band driver
  'validate_oob_services',
  'config_node_pxe',
  'set_node_boot',
  'power_off_node',
  'power_on_node',
  'power_cycle_node',
  'interrogate_oob',
  // node driver
  'validate_node_services',
  'create_network_template',
  'create_storage_template',
  'create_boot_media',
  'configure_user_credentials',
  'configure_node_provisioner',
  'prepare_hardware_config',
  'identify_node',
  'configure_hardware',
  'interrogate_node',
  'apply_node_networking',
  'apply_node_storage',
  'apply_node_platform',
  'deploy_node',
  'destroy_node',
  // network driver
  'validate_network_services',
  'interrogate_port',
  'config_port_provisioning',
  'config_port_production',
  // kubernetes driver
  'relabel_node',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Whether a caller may create a top-level task of this action (`POST /tasks` without an epoch). */
export function isUserAction(action: string): action is (typeof USER_ACTIONS)[number] {
  return (USER_ACTIONS as readonly string[]).includes(action);
}

/**
 * Status moves a conditional update (`PATCH /tasks/{id}`, the SQS `update_task` event) may make,
 * written from what Drydock's orchestrator and drivers save (each edge with the Drydock code
 * path that needs it: `shared/store/README.md`). Staying put is always allowed (a repeated save).
 * Everything else is refused (409) rather than overwriting what a concurrent writer set: a
 * finished task never changes status through an update, and a terminating task never runs again.
 *
 * Other operations make their own moves and check them in their own statement: claim
 * (queued → running, or → terminated when termination was requested), terminate
 * (requested|queued → terminated, running → terminating), retry (complete → running, the one way
 * back from complete) and recovery (a dead epoch's running → queued, or its unfinished → terminated).
 */
export const STATUS_TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  requested: ['running', 'complete', 'terminated'],
  queued: ['terminated'],
  running: ['complete', 'terminated'],
  terminating: ['terminated', 'complete'],
  terminated: [],
  complete: [],
};

/** Drydock's default grace before another instance may take a silent holder's lease. */
export const DEFAULT_LEASE_GRACE_SECONDS = 300;
