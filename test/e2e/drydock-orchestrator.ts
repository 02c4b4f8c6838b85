import { expect } from 'vitest';
import { type HttpAnswer, request } from './harness.ts';

/**
 * Drydock's orchestrator, reduced to the calls it makes on its state layer, driving the service
 * over HTTP the way `orchestrator/actions/orchestrator.py` (DeployNodes) and the MaaS node driver
 * (`drivers/node/maasdriver/driver.py` `execute_task`, the per-node actions of
 * `maasdriver/actions/node.py`) do: every `task.save()` is a fenced PATCH, every
 * `register_subtask` a fenced subtask create, `add_status_msg` a fenced append,
 * `post_build_data` a fenced build-data post, `retry_task` and `bubble_results`/`align_result`
 * the service's retry and roll-up. Nothing here is Drydock's code; only its call sequence.
 */

export const DESIGN = 'deckhand+https://deckhand.example/api/v1.0/revisions/9/rendered-documents';

// biome-ignore lint/suspicious/noExplicitAny: the tests read Drydock's JSON shapes loosely
type Json = any;

/** Drydock's `create_nodefilter_from_nodelist`. */
export function nodeFilter(nodes: readonly string[]) {
  return {
    filter_set_type: 'union',
    filter_set: [{ filter_type: 'union', node_names: [...nodes] }],
  };
}

/** How the simulated nodes behave: which ones fail which action, every attempt. */
export type NodeOutcome = (action: string, node: string) => boolean;

/** Raised when the orchestrator's lease was lost: Drydock's action thread dies with it. */
export class Deposed extends Error {
  override readonly name = 'Deposed';
}

export class Orchestrator {
  epoch = 0;
  /** Every answer the service gave this instance, for checks on what a deposed leader got. */
  readonly answers: { call: string; status: number }[] = [];

  private readonly base: string;
  readonly instanceId: string;
  private readonly outcome: NodeOutcome;

  constructor(base: string, instanceId: string, outcome: NodeOutcome) {
    this.base = base;
    this.instanceId = instanceId;
    this.outcome = outcome;
  }

  private waiting: (() => void)[] = [];

  /** Resolves once this instance has had `calls` more answers (paces a concurrent writer). */
  progress(calls: number): Promise<void> {
    const target = this.answers.length + calls;
    return new Promise((resolve) => {
      const check = () => {
        if (this.answers.length >= target) resolve();
        else this.waiting.push(check);
      };
      check();
    });
  }

  private async call(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    const res = await request(this.base, method, `/api/v1.0${path}`, {
      ...(body === undefined ? {} : { body }),
    });
    this.answers.push({ call: `${method} ${path}`, status: res.status });
    for (const wake of this.waiting.splice(0)) wake();
    if (res.status === 412) throw new Deposed(`${this.instanceId}: ${res.body.message}`);
    return res;
  }

  private async ok(method: string, path: string, body?: unknown, status = 200): Promise<Json> {
    const res = await this.call(method, path, body);
    expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(status);
    return res.body;
  }

  /** `claim_leadership`: true when this instance leads (with a new or the same epoch). */
  async lead(graceSeconds = 600): Promise<boolean> {
    const lease = await this.ok('POST', '/leader/claim', {
      instance_id: this.instanceId,
      grace_seconds: graceSeconds,
    });
    if (lease.held) this.epoch = lease.epoch;
    return lease.held;
  }

  /** A new leader gives back what a dead epoch left (its first act after a takeover). */
  async requeue(): Promise<Json> {
    return this.ok('POST', '/leader/requeue', { instance_id: this.instanceId, epoch: this.epoch });
  }

  /** `get_next_queued_task`, made atomic: the oldest queued task, now running under our epoch. */
  async claimNext(): Promise<Json | undefined> {
    const claimed = await this.ok('POST', '/tasks/claim', {
      instance_id: this.instanceId,
      epoch: this.epoch,
      actions: ['deploy_nodes'],
    });
    return claimed[0];
  }

  get(taskId: string): Promise<Json> {
    return this.ok('GET', `/tasks/${taskId}`);
  }

  /** `task.save()` of the fields Drydock changed. */
  save(taskId: string, change: object): Promise<Json> {
    return this.ok('PATCH', `/tasks/${taskId}`, { ...change, epoch: this.epoch });
  }

  /** `orchestrator.create_task(...)` then `parent.register_subtask(task)`. */
  subtask(parentId: string, action: string, nodes: readonly string[], retry = 0): Promise<Json> {
    return this.ok(
      'POST',
      `/tasks/${parentId}/subtasks`,
      { action, design_ref: DESIGN, node_filter: nodeFilter(nodes), retry, epoch: this.epoch },
      201,
    );
  }

  /** `orchestrator.create_task(...)` never registered (DeployNodes' storage task). */
  internalTask(action: string, nodes: readonly string[]): Promise<Json> {
    return this.ok(
      'POST',
      '/tasks',
      { action, design_ref: DESIGN, node_filter: nodeFilter(nodes), epoch: this.epoch },
      201,
    );
  }

  /** `task.add_status_msg(...)`. */
  message(taskId: string, text: string, error: boolean, context: string): Promise<Json> {
    return this.ok(
      'POST',
      `/tasks/${taskId}/messages`,
      { epoch: this.epoch, messages: [{ message: text, error, context_type: 'node', context }] },
      201,
    );
  }

  /** `state_manager.post_build_data(...)` (the driver's `_add_detail_logs`). */
  buildData(node: string, taskId: string, generator: string): Promise<Json> {
    return this.ok(
      'POST',
      `/nodes/${node}/builddata`,
      {
        epoch: this.epoch,
        items: [
          {
            task_id: taskId,
            generator,
            data_format: 'text/plain',
            data_element: `${generator} output for ${node}`,
          },
        ],
      },
      201,
    );
  }

  rollup(taskId: string, options: object = {}): Promise<Json> {
    return this.ok('POST', `/tasks/${taskId}/rollup`, { ...options, epoch: this.epoch });
  }

  /** `task.retry_task(max_attempts)`: true to run again, false when nothing failed, null when out of attempts. */
  async retry(taskId: string, maxAttempts: number): Promise<boolean | null> {
    const res = await this.call('POST', `/tasks/${taskId}/retry`, {
      epoch: this.epoch,
      max_attempts: maxAttempts,
    });
    if (res.status === 409) {
      expect(res.body.message).toMatch(/out of attempts/);
      return null;
    }
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.retried;
  }

  /**
   * The MaaS driver's `execute_task` for a threaded action: running, one subtask per target node
   * (the failed ones on a retry) with the task's retry sequence, each node's action run to the
   * end, then `bubble_results(); align_result()` and complete. `stopAfter` kills the thread
   * (the process) after that many node subtasks, leaving the rest as it is.
   */
  async execute(taskId: string, stopAfter = Number.POSITIVE_INFINITY): Promise<Json> {
    const task = await this.get(taskId);
    await this.save(taskId, { status: 'running' });
    let targets: string[] = task.node_filter.filter_set[0].node_names;
    if (task.retry > 0) {
      await this.message(
        taskId,
        `Retrying task ${taskId} on previous failed entities.`,
        false,
        taskId,
      );
      targets = task.result.failures;
    }
    let done = 0;
    for (const node of targets) {
      const sub = await this.subtask(taskId, task.action, [node], task.retry);
      await this.save(sub.task_id, { status: 'running' });
      if (done >= stopAfter) return undefined;
      const ok = this.outcome(task.action, node);
      await this.message(
        sub.task_id,
        ok ? `${task.action} on ${node} done.` : `${task.action} on ${node} failed.`,
        !ok,
        node,
      );
      await this.buildData(node, sub.task_id, `${task.action}:${task.retry}`);
      await this.save(sub.task_id, {
        status: 'complete',
        result: ok
          ? { status: 'success', add_successes: [node] }
          : { status: 'failure', add_failures: [node] },
      });
      done += 1;
    }
    await this.rollup(taskId);
    await this.save(taskId, { status: 'complete' });
    return this.get(taskId);
  }

  /**
   * DeployNodes.start: networking (registered), storage (created but never registered: an
   * internal task), platform (registered), deploy with retry_task(max_attempts=3), the boot
   * action report, then `bubble_results(action_filter=bootaction_report)`, `align_result()`,
   * complete. `stopAt` kills the orchestrator in the middle of the deploy step.
   */
  async deployNodes(task: Json, stopAt?: { deploySubtasks: number }): Promise<Json> {
    const id = task.task_id as string;
    const nodes: string[] = task.node_filter.filter_set[0].node_names;
    await this.save(id, { status: 'running' });
    const networking = await this.subtask(id, 'apply_node_networking', nodes);
    const net = await this.execute(networking.task_id);
    const storage = await this.internalTask('apply_node_storage', net.result.successes);
    const stored = await this.execute(storage.task_id);
    const platform = await this.subtask(id, 'apply_node_platform', stored.result.successes);
    const plat = await this.execute(platform.task_id);
    const deploy = await this.subtask(id, 'deploy_node', plat.result.successes);
    if (stopAt) {
      await this.execute(deploy.task_id, stopAt.deploySubtasks);
      return undefined;
    }
    let deployed = await this.execute(deploy.task_id);
    for (;;) {
      const again = await this.retry(deploy.task_id, 3);
      if (again === null) {
        // MaxRetriesReached: Drydock marks the task failed in memory (align resets it later).
        await this.save(id, { result: { status: 'failure' } });
        break;
      }
      if (!again) break;
      deployed = await this.execute(deploy.task_id);
    }
    const report = await this.subtask(id, 'bootaction_report', deployed.result.successes);
    await this.save(report.task_id, { status: 'running' });
    for (const node of deployed.result.successes as string[]) {
      await this.message(
        report.task_id,
        'Boot action helloworld completed with status success',
        false,
        node,
      );
    }
    await this.save(report.task_id, {
      status: 'complete',
      result: { status: 'success', add_successes: deployed.result.successes },
    });
    await this.rollup(id, { bubble: { action_filter: 'bootaction_report' }, align: {} });
    await this.save(id, { status: 'complete' });
    return this.get(id);
  }
}
