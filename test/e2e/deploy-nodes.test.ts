import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { TaskDictSchema } from '#shared/api/schemas.ts';
import { sql, statement } from '#shared/db/sql.ts';
import { expireLease } from '#test/support/store-fixtures.ts';
import { TEST_DRIVERS } from '#test/support/test-db.ts';
import { DESIGN, Deposed, nodeFilter, Orchestrator } from './drydock-orchestrator.ts';
import { type RunningServer, request, startServer } from './harness.ts';

const NODES = ['n1', 'n2', 'n3'];
/** n3 never deploys; every other step works on every node. */
const n3FailsToDeploy = (action: string, node: string) =>
  !(action === 'deploy_node' && node === 'n3');

/**
 * What Drydock's own code makes of this flow (objects/task.py, DeployNodes, the MaaS driver):
 * - the deploy_node task: attempt 0 gives n1, n2 and fails n3 (partial_success); retry_task(3)
 *   runs it again for n3 at retry 1, 2 and 3, each failing; its last bubble takes the successes of
 *   every attempt (n1, n2) and the failures of retry 3 (n3), its align success() for n1 and n2
 *   and failure() for the retry-3 subtask: partial_success. A fourth retry_task is out of attempts.
 * - the boot action report covers n1 and n2;
 * - DeployNodes ends with bubble_results(bootaction_report) (successes n1, n2; failures of every
 *   subtask at retry 0: n3) and align_result() over networking, platform, deploy and report:
 *   partial_success.
 */
const FINAL = { status: 'partial_success', successes: ['n1', 'n2'], failures: ['n3'] };

describe.each(TEST_DRIVERS)("Drydock's deploy_nodes over HTTP on %s", (driver) => {
  let server: RunningServer;
  const api = (method: string, path: string, body?: unknown) =>
    request(server.url, method, `/api/v1.0${path}`, body === undefined ? {} : { body });

  beforeAll(async () => {
    server = await startServer(driver);
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function queueDeploy(): Promise<string> {
    const res = await api('POST', '/tasks', {
      action: 'deploy_nodes',
      design_ref: DESIGN,
      node_filter: nodeFilter(NODES),
    });
    expect(res.status).toBe(201);
    return res.body.task_id;
  }

  /** Every task of the service, with messages (Drydock's GET /tasks). */
  async function everyTask() {
    const res = await api('GET', '/tasks');
    expect(res.status).toBe(200);
    return z.array(TaskDictSchema()).parse(res.body);
  }

  async function expectDeployed(taskId: string) {
    const tree = (await api('GET', `/tasks/${taskId}?layers=-1`)).body;
    const root = TaskDictSchema().parse(tree[taskId]);
    expect(root.status).toBe('complete');
    expect(root.result).toMatchObject(FINAL);
    const children = root.subtask_id_list.map((id) => TaskDictSchema().parse(tree[id]));
    // The last run's steps (a dead leader's run, if any, comes first). Networking, platform,
    // deploy and the report are registered; storage never is (Drydock creates it without
    // register_subtask), so it is an internal parentless task.
    const live = children.filter((c) => c.status === 'complete').slice(-4);
    expect(live.map((c) => c.action)).toEqual([
      'apply_node_networking',
      'apply_node_platform',
      'deploy_node',
      'bootaction_report',
    ]);
    const deploy = live[2] as z.infer<ReturnType<typeof TaskDictSchema>>;
    expect(deploy).toMatchObject({ retry: 3, result: FINAL });
    const attempts = deploy.subtask_id_list.map((id) => TaskDictSchema().parse(tree[id]));
    expect(attempts.map((a) => [a.result.successes[0] ?? a.result.failures[0], a.retry])).toEqual([
      ['n1', 0],
      ['n2', 0],
      ['n3', 0],
      ['n3', 1],
      ['n3', 2],
      ['n3', 3],
    ]);
    expect(
      deploy.result.details.messageList.map((m) => m.message).filter((m) => /^Retr/.test(m)),
    ).toEqual([
      'Retrying task for failed entities.',
      `Retrying task ${deploy.task_id} on previous failed entities.`,
      'Retrying task for failed entities.',
      `Retrying task ${deploy.task_id} on previous failed entities.`,
      'Retrying task for failed entities.',
      `Retrying task ${deploy.task_id} on previous failed entities.`,
      'Retry requested, out of attempts.',
    ]);
    expect(root.result.details.messageList.map((m) => m.message)).toEqual(
      expect.arrayContaining(
        live.map((c) => `Started subtask ${c.task_id} for action ${c.action}`),
      ),
    );
    const n3 = (await api('GET', '/nodes/n3/builddata?latest=true&verbosity=1')).body;
    expect(n3.map((b: { generator: string }) => b.generator).sort()).toEqual([
      'apply_node_networking:0',
      'apply_node_platform:0',
      'apply_node_storage:0',
      'deploy_node:0',
      'deploy_node:1',
      'deploy_node:2',
      'deploy_node:3',
    ]);
    return { root, children, deploy };
  }

  it('runs a whole deploy: lease, claim, per-node subtasks, one node failing, retries to the limit, bubble and align at each step, build data', async () => {
    const taskId = await queueDeploy();
    const orch = new Orchestrator(server.url, 'orch-a', n3FailsToDeploy);
    expect(await orch.lead()).toBe(true);
    const claimed = await orch.claimNext();
    expect(claimed).toMatchObject({ task_id: taskId, status: 'running' });
    const done = await orch.deployNodes(claimed);
    expect(done.result).toMatchObject(FINAL);
    await expectDeployed(taskId);
    const storage = (await everyTask()).filter(
      (t) => t.action === 'apply_node_storage' && t.parent_task_id === null,
    );
    expect(storage).toEqual([
      expect.objectContaining({
        parent_task_id: null,
        status: 'complete',
        result: expect.objectContaining({ status: 'success', successes: NODES }),
      }),
    ]);
    expect(orch.answers.every((a) => a.status < 300 || a.call.endsWith('/retry'))).toBe(true);
    expect(
      (await api('POST', '/leader/abdicate', { instance_id: 'orch-a', epoch: orch.epoch })).status,
    ).toBe(204);
  });

  it("survives the leader dying mid-deploy: the standby takes over, requeues and finishes while the deposed leader's writes all bounce", async () => {
    const taskId = await queueDeploy();
    const dead = new Orchestrator(server.url, 'orch-dead', n3FailsToDeploy);
    expect(await dead.lead()).toBe(true);
    const claimed = await dead.claimNext();
    expect(claimed.task_id).toBe(taskId);
    // Killed after the deploy step's first node finished and the second one started.
    await dead.deployNodes(claimed, { deploySubtasks: 1 });
    const lostEpoch = dead.epoch;
    const before = await api('GET', `/tasks/${taskId}?layers=-1`);
    const stranded = Object.values(before.body)
      .filter(
        (t): t is z.infer<ReturnType<typeof TaskDictSchema>> => typeof t === 'object' && t !== null,
      )
      .filter((t) => t.status === 'running' && t.task_id !== taskId)
      .map((t) => t.task_id);
    expect(stranded).toHaveLength(2); // the deploy_node task and the node subtask it was on

    // The dead leader stops renewing: its grace period runs out (moved, not slept through).
    await expireLease(server.db);
    const standby = new Orchestrator(server.url, 'orch-standby', n3FailsToDeploy);
    expect(await standby.lead()).toBe(true);
    expect(standby.epoch).toBe(lostEpoch + 1);
    expect(await standby.requeue()).toEqual({ requeued: 1, terminated: 2, more: false });
    // The schedule leaves the live standby alone: nothing more to recover, no lease taken.
    expect(await server.tick()).toMatchObject({
      held: false,
      holder: standby.instanceId,
      live: true,
      requeued: 0,
      terminated: 0,
    });
    const requeued = (await api('GET', `/tasks/${taskId}`)).body;
    expect(requeued).toMatchObject({ status: 'queued', result: { status: 'incomplete' } });
    for (const id of stranded) {
      const ended = (await api('GET', `/tasks/${id}`)).body;
      expect(ended.status).toBe('terminated');
      expect(ended.result.details.messageList.at(-1).message).toBe(
        `Terminated: lease epoch ${lostEpoch} that ran this task has ended`,
      );
    }

    // The standby runs the task again while the deposed leader keeps writing as if nothing
    // happened: every one of its writes must bounce, and none may land.
    const rejoined = await standby.claimNext();
    expect(rejoined.task_id).toBe(taskId);
    const [deployId] = stranded as [string];
    const zombieWrites: (() => Promise<unknown>)[] = [
      () => dead.save(taskId, { result: { message: 'stale write' } }),
      () => dead.save(deployId, { status: 'complete', result: { status: 'success' } }),
      () => dead.message(taskId, 'stale message', true, 'n1'),
      () => dead.buildData('n1', taskId, 'stale'),
      () => dead.subtask(taskId, 'deploy_node', ['stale-node']),
      () => dead.internalTask('identify_node', ['stale-node']),
      () => dead.rollup(taskId),
      () => dead.retry(deployId, 3),
      () => dead.claimNext(),
      () => dead.requeue(),
      () =>
        api('POST', '/leader/renew', { instance_id: dead.instanceId, epoch: lostEpoch }).then(
          (r) => {
            if (r.status !== 412) throw new Error(`renew answered ${r.status}`);
            throw new Deposed('renew');
          },
        ),
    ];
    let standbyDone = false;
    let bounced = 0;
    // Two rounds of every kind of write, spread over the standby's run (one every few of its
    // calls), each racing the standby's own writes on the server's connections.
    const zombie = async () => {
      for (let i = 0; i < 2 * zombieWrites.length; i += 1) {
        if (!standbyDone) await standby.progress(4);
        const write = zombieWrites[i % zombieWrites.length] as () => Promise<unknown>;
        await write().then(
          () => {
            throw new Error(`a stale write landed (#${i % zombieWrites.length})`);
          },
          (error: unknown) => {
            if (!(error instanceof Deposed)) throw error;
            bounced += 1;
          },
        );
      }
    };
    const [finished] = await Promise.all([
      standby.deployNodes(rejoined).finally(() => {
        standbyDone = true;
      }),
      zombie(),
    ]);
    expect(finished.result).toMatchObject(FINAL);
    expect(bounced).toBe(2 * zombieWrites.length);
    const { children } = await expectDeployed(taskId);
    // The dead epoch's tree is still there, every part of it finished.
    expect(children.filter((c) => c.status === 'terminated').map((c) => c.task_id)).toEqual([
      deployId,
    ]);

    // Nothing the deposed leader sent after its lease ended is stored anywhere.
    const [leftovers] = await server.db.query(
      statement(
        { messages: 'int', builds: 'int', tasks: 'int', results: 'int' },
        sql`select
  (select count(*) from result_message where message like 'stale%')::int as "messages",
  (select count(*) from build_data where generator = 'stale')::int as "builds",
  (select count(*) from tasks where node_filter::text like '%stale-node%')::int as "tasks",
  (select count(*) from tasks where result_message = 'stale write')::int as "results"`,
      ),
    );
    expect(leftovers).toEqual({ messages: 0, builds: 0, tasks: 0, results: 0 });
    // No task of any leader is left running, queued or waiting.
    const unfinished = (await everyTask()).filter(
      (t) => t.status !== 'complete' && t.status !== 'terminated',
    );
    expect(unfinished).toEqual([]);
    expect(
      (
        await api('POST', '/leader/abdicate', {
          instance_id: standby.instanceId,
          epoch: standby.epoch,
        })
      ).status,
    ).toBe(204);
  });
});
