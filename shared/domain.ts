/**
 * Terminology
 * - task: a unit of orchestrator work (an action on a design, optionally narrowed by a node
 *   filter). Top-level tasks are queued by callers and claimed by the lease holder; subtasks are
 *   registered under a parent by the orchestrator while it works.
 * - result: a task's outcome summary (status, message, reason, successes, failures, links) and
 *   its error count.
 * - result message: one line of a task's log, numbered per task from 1 without gaps.
 * - build data: what was collected about a node while building it (lshw, lldp, script output);
 *   kept per node, newest first, and kept when its task is purged.
 * - lease: the single `active_instance` row; its holder is the one orchestrator instance allowed
 *   to claim tasks. Every takeover bumps its epoch, the fencing token writes carry.
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

/** Every orchestrator action Drydock knows (37). */
export const ACTIONS = [
  // orchestrator
  'noop',
  'validate_design',
  'verify_site',
  'prepare_site',
  'verify_nodes',
  'prepare_nodes',
  'deploy_nodes',
  'destroy_nodes',
  'bootaction_report',
  'relabel_nodes',
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
] as const satisfies readonly Action[];

/**
 * Allowed status transitions for conditional updates. A change outside this table is refused
 * (409) instead of overwriting whatever a concurrent writer set, Drydock's lost-update defect.
 */
export const STATUS_TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  requested: ['queued', 'running', 'terminated'],
  queued: ['running', 'terminated'],
  running: ['complete', 'terminating', 'terminated', 'queued'],
  terminating: ['terminated', 'complete'],
  terminated: [],
  complete: [],
};

/** Drydock's default grace before another instance may take a silent holder's lease. */
export const DEFAULT_LEASE_GRACE_SECONDS = 300;
