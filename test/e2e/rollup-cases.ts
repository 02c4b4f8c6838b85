import type { Action, ResultStatus } from '#shared/domain.ts';

/**
 * Task trees and what Drydock's `Task.bubble_results(action_filter)` and
 * `Task.align_result(action_filter, reset_status)` (python/drydock_provisioner/objects/task.py)
 * make of them. Each expected result is worked out by hand from that code:
 * - bubble clears the lists, then for every finished (complete or terminated) subtask, in
 *   registration order, adds its successes when its action matches the filter (or there is no
 *   filter), and its failures, whatever the filter, when the task's retry is 0 or equal to the
 *   subtask's; `add_success`/`add_failure` skip entities already listed.
 * - align, with reset_status (the default), starts from `success` when the task has no subtasks
 *   at all, else `incomplete`; then every finished subtask matching its filter calls `success()`
 *   for a success/partial_success result and `failure()` for a failure/partial_success result
 *   within the retry sequence. success(): failure|partial → partial, else success. failure():
 *   success|partial → partial, else failure.
 */

export interface TreeChild {
  action: Action;
  status: 'requested' | 'running' | 'complete' | 'terminated';
  result: ResultStatus;
  successes?: string[];
  failures?: string[];
  retry?: number;
}

export interface RollupRequest {
  bubble?: { action_filter?: Action };
  align?: { action_filter?: Action; reset_status?: boolean };
}

export interface RollupCase {
  name: string;
  /** The task rolled up: its retry sequence and what its result held before (none: retry 0, nothing). */
  parent?: { retry?: number; result?: ResultStatus; successes?: string[]; failures?: string[] };
  children: TreeChild[];
  /** The roll-up route's options; none runs both steps unfiltered, as Drydock's drivers do. */
  request?: RollupRequest;
  expected: { status: ResultStatus; successes: string[]; failures: string[] };
}

const ok = (action: Action, successes: string[], retry = 0): TreeChild => ({
  action,
  status: 'complete',
  result: 'success',
  successes,
  retry,
});
const bad = (action: Action, failures: string[], retry = 0): TreeChild => ({
  action,
  status: 'complete',
  result: 'failure',
  failures,
  retry,
});
const partial = (
  action: Action,
  successes: string[],
  failures: string[],
  retry?: number,
): TreeChild => ({
  action,
  status: 'complete',
  result: 'partial_success',
  successes,
  failures,
  ...(retry === undefined ? {} : { retry }),
});

/**
 * Align without reset from a stored result: what one more finished subtask's `success()` or
 * `failure()` makes of it; the lists are not touched (align alone).
 */
const alignWithoutReset = (
  stored: ResultStatus,
  child: TreeChild,
  status: ResultStatus,
): RollupCase => {
  const then = child.result === 'success' ? 'a successful subtask' : 'a failed subtask';
  return {
    name: `align without reset: ${stored} then ${then} → ${status}`,
    parent: { result: stored },
    children: [child],
    request: { align: { reset_status: false } },
    expected: { status, successes: [], failures: [] },
  };
};

export const ROLLUP_CASES: readonly RollupCase[] = [
  {
    name: 'no subtasks: success (the fix of att-comdev/drydock#77)',
    children: [],
    expected: { status: 'success', successes: [], failures: [] },
  },
  {
    name: 'no subtasks, align without reset: the stored status and lists stay',
    parent: { result: 'failure', successes: ['x'], failures: ['y'] },
    children: [],
    request: { align: { reset_status: false } },
    expected: { status: 'failure', successes: ['x'], failures: ['y'] },
  },
  {
    name: 'only unfinished subtasks: incomplete, nothing bubbled',
    children: [
      { action: 'deploy_node', status: 'running', result: 'success', successes: ['n1'] },
      { action: 'deploy_node', status: 'requested', result: 'incomplete' },
    ],
    expected: { status: 'incomplete', successes: [], failures: [] },
  },
  {
    name: 'one successful subtask',
    children: [ok('deploy_node', ['n1'])],
    expected: { status: 'success', successes: ['n1'], failures: [] },
  },
  {
    name: 'one failed subtask',
    children: [bad('deploy_node', ['n1'])],
    expected: { status: 'failure', successes: [], failures: ['n1'] },
  },
  {
    name: 'a success and a failure: partial_success',
    children: [ok('deploy_node', ['n1']), bad('deploy_node', ['n2'])],
    expected: { status: 'partial_success', successes: ['n1'], failures: ['n2'] },
  },
  {
    name: 'DeployNodes: bubble filtered by deploy_node, align unfiltered (identify_node ok, deploy_node failed)',
    children: [ok('identify_node', ['n1']), bad('deploy_node', ['n2'])],
    request: { bubble: { action_filter: 'deploy_node' }, align: {} },
    expected: { status: 'partial_success', successes: [], failures: ['n2'] },
  },
  {
    name: 'the same tree with both steps filtered by deploy_node',
    children: [ok('identify_node', ['n1']), bad('deploy_node', ['n2'])],
    request: { bubble: { action_filter: 'deploy_node' }, align: { action_filter: 'deploy_node' } },
    expected: { status: 'failure', successes: [], failures: ['n2'] },
  },
  {
    name: 'a partial_success subtask calls success() and failure()',
    children: [partial('deploy_node', ['n1'], ['n2'])],
    expected: { status: 'partial_success', successes: ['n1'], failures: ['n2'] },
  },
  {
    name: 'a terminated subtask counts as finished',
    children: [
      ok('deploy_node', ['n1']),
      { action: 'deploy_node', status: 'terminated', result: 'failure', failures: ['n3'] },
    ],
    expected: { status: 'partial_success', successes: ['n1'], failures: ['n3'] },
  },
  {
    name: 'a terminated incomplete subtask gives its entities but no status',
    children: [
      ok('deploy_node', ['n1']),
      { action: 'deploy_node', status: 'terminated', result: 'incomplete', successes: ['n4'] },
    ],
    expected: { status: 'success', successes: ['n1', 'n4'], failures: [] },
  },
  {
    name: 'entities once each, in the order first reported, never sorted',
    children: [
      ok('deploy_node', ['zeta', 'alpha']),
      ok('deploy_node', ['alpha', 'beta', 'zeta', 'gamma']),
      bad('deploy_node', ['omega', 'delta']),
      bad('deploy_node', ['delta', 'beta']),
    ],
    expected: {
      status: 'partial_success',
      successes: ['zeta', 'alpha', 'beta', 'gamma'],
      failures: ['omega', 'delta', 'beta'],
    },
  },
  {
    name: 'an entity that succeeded in one subtask and failed in another is in both lists',
    children: [ok('deploy_node', ['n1']), bad('deploy_node', ['n1'])],
    expected: { status: 'partial_success', successes: ['n1'], failures: ['n1'] },
  },
  {
    name: 'retry 1: failures and failure() only from the retry-1 subtasks',
    parent: { retry: 1 },
    children: [
      bad('deploy_node', ['n2', 'n3']),
      ok('deploy_node', ['n1']),
      bad('deploy_node', ['n3'], 1),
    ],
    expected: { status: 'partial_success', successes: ['n1'], failures: ['n3'] },
  },
  {
    name: 'retry 1 that succeeded: the earlier failure no longer counts',
    parent: { retry: 1 },
    children: [ok('deploy_node', ['n1']), bad('deploy_node', ['n2']), ok('deploy_node', ['n2'], 1)],
    expected: { status: 'success', successes: ['n1', 'n2'], failures: [] },
  },
  {
    name: 'retry 2: an earlier partial_success counts as a success only',
    parent: { retry: 2 },
    children: [partial('deploy_node', ['n1'], ['n2'], 1), bad('deploy_node', ['n3'], 2)],
    expected: { status: 'partial_success', successes: ['n1'], failures: ['n3'] },
  },
  {
    name: 'retry 0: failures of every attempt bubble up',
    children: [
      bad('deploy_node', ['n2']),
      bad('deploy_node', ['n3'], 1),
      ok('deploy_node', ['n2'], 2),
    ],
    expected: { status: 'partial_success', successes: ['n2'], failures: ['n2', 'n3'] },
  },
  {
    name: 'bubble alone leaves the status as it was',
    parent: { result: 'failure' },
    children: [ok('deploy_node', ['n1'])],
    request: { bubble: {} },
    expected: { status: 'failure', successes: ['n1'], failures: [] },
  },
  {
    name: 'align alone leaves the lists as they were',
    parent: { successes: ['old'] },
    children: [ok('deploy_node', ['n1']), bad('deploy_node', ['n2'])],
    request: { align: {} },
    expected: { status: 'partial_success', successes: ['old'], failures: [] },
  },
  alignWithoutReset('success', bad('deploy_node', ['n2']), 'partial_success'),
  alignWithoutReset('failure', ok('deploy_node', ['n1']), 'partial_success'),
  alignWithoutReset('partial_success', ok('deploy_node', ['n1']), 'partial_success'),
  alignWithoutReset('unreported', ok('deploy_node', ['n1']), 'success'),
  {
    name: 'filters that match no subtask: incomplete and empty lists',
    children: [ok('identify_node', ['n1'])],
    request: { bubble: { action_filter: 'deploy_node' }, align: { action_filter: 'deploy_node' } },
    expected: { status: 'incomplete', successes: [], failures: [] },
  },
  {
    name: 'PrepareNodes: the filter picks successes, failures of other steps still bubble',
    children: [
      bad('set_node_boot', ['n1']),
      ok('power_cycle_node', ['n2']),
      ok('identify_node', ['n3']),
    ],
    request: {
      bubble: { action_filter: 'identify_node' },
      align: { action_filter: 'identify_node' },
    },
    expected: { status: 'success', successes: ['n3'], failures: ['n1'] },
  },
  {
    name: 'finished subtasks with incomplete or unreported results call nothing',
    children: [
      { action: 'deploy_node', status: 'complete', result: 'incomplete' },
      { action: 'deploy_node', status: 'complete', result: 'unreported', successes: ['n5'] },
    ],
    expected: { status: 'incomplete', successes: ['n5'], failures: [] },
  },
  {
    name: 'DeployNodes at the end: bubble filtered by bootaction_report, align unfiltered',
    children: [
      ok('apply_node_networking', ['n1', 'n2', 'n3']),
      ok('apply_node_platform', ['n1', 'n2', 'n3']),
      partial('deploy_node', ['n1', 'n2'], ['n3'], 3),
      ok('bootaction_report', ['n1', 'n2']),
    ],
    request: { bubble: { action_filter: 'bootaction_report' }, align: {} },
    expected: { status: 'partial_success', successes: ['n1', 'n2'], failures: ['n3'] },
  },
  {
    name: 'a MaaS driver task after one retry that failed again',
    parent: { retry: 1 },
    children: [
      ok('deploy_node', ['n1']),
      ok('deploy_node', ['n2']),
      bad('deploy_node', ['n3']),
      bad('deploy_node', ['n3'], 1),
    ],
    expected: { status: 'partial_success', successes: ['n1', 'n2'], failures: ['n3'] },
  },
  {
    name: 'a MaaS driver task after one retry that succeeded',
    parent: { retry: 1 },
    children: [
      ok('deploy_node', ['n1']),
      ok('deploy_node', ['n2']),
      bad('deploy_node', ['n3']),
      ok('deploy_node', ['n3'], 1),
    ],
    expected: { status: 'success', successes: ['n1', 'n2', 'n3'], failures: [] },
  },
  {
    name: 'libvirt and IPMI drivers align before they bubble: the same result',
    children: [ok('power_cycle_node', ['n1']), bad('power_cycle_node', ['n2'])],
    request: { align: {}, bubble: {} },
    expected: { status: 'partial_success', successes: ['n1'], failures: ['n2'] },
  },
];
