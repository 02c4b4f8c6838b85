import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LeaseDictSchema, StatusDictSchema, TaskDictSchema } from '#shared/api/schemas.ts';
import { TEST_DRIVERS } from '#test/support/test-db.ts';
import { type HttpAnswer, type RunningServer, request, startServer } from './harness.ts';

const DESIGN = 'deckhand+https://deckhand.example/api/v1.0/revisions/3/rendered-documents';
const GRACE_SECONDS = 1;
const LOCAL_PRINCIPAL = 'arn:aws:iam::000000000000:user/local-developer';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(TEST_DRIVERS)('a whole orchestrator flow over HTTP on %s', (driver) => {
  let server: RunningServer;
  const api = (method: string, path: string, options: Parameters<typeof request>[3] = {}) =>
    request(server.url, method, `/api/v1.0${path}`, options);
  const ok = (res: HttpAnswer, status = 200) => {
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    return res.body;
  };

  beforeAll(async () => {
    server = await startServer(driver);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('runs two instances: the leader works and completes, the other takes over and requeues', async () => {
    // Work arrives from users.
    const deploy = TaskDictSchema.parse(
      ok(
        await api('POST', '/tasks', { body: { action: 'deploy_nodes', design_ref: DESIGN } }),
        201,
      ),
    );
    const verify = TaskDictSchema.parse(
      ok(await api('POST', '/tasks', { body: { action: 'verify_site', design_ref: DESIGN } }), 201),
    );
    expect(deploy.created_by).toBe(LOCAL_PRINCIPAL);

    // Two instances compete for the lease at the same moment: exactly one wins.
    const [a, b] = await Promise.all(
      ['orch-a', 'orch-b'].map(async (id) =>
        LeaseDictSchema.parse(
          ok(
            await api('POST', '/leader/claim', {
              body: { instance_id: id, grace_seconds: GRACE_SECONDS },
            }),
          ),
        ),
      ),
    );
    expect([a?.held, b?.held].sort()).toEqual([false, true]);
    const [leader, follower] = a?.held ? ['orch-a', 'orch-b'] : ['orch-b', 'orch-a'];
    const epoch = (a?.held ? a.epoch : b?.epoch) as number;

    // Only the leader may claim; it gets the oldest queued task.
    expect(
      (await api('POST', '/tasks/claim', { body: { instance_id: follower, epoch } })).status,
    ).toBe(412);
    const [claimed] = z
      .array(TaskDictSchema)
      .parse(ok(await api('POST', '/tasks/claim', { body: { instance_id: leader, epoch } })));
    expect(claimed).toMatchObject({ task_id: deploy.task_id, status: 'running' });
    // A working leader renews with room to spare (the 1 s claim grace is for the race above).
    ok(
      await api('POST', '/leader/renew', {
        body: { instance_id: leader, epoch, grace_seconds: 20 },
      }),
    );

    // It splits the work into per-node subtasks, logs, records build data, completes them.
    const nodes = ['rack1-node1', 'rack1-node2'];
    const subtasks: string[] = [];
    for (const node of nodes) {
      const sub = ok(
        await api('POST', `/tasks/${deploy.task_id}/subtasks`, {
          body: {
            action: 'deploy_node',
            design_ref: DESIGN,
            node_filter: {
              filter_set_type: 'union',
              filter_set: [{ filter_type: 'union', node_names: [node] }],
            },
          },
        }),
        201,
      );
      subtasks.push(sub.task_id);
      ok(await api('PATCH', `/tasks/${sub.task_id}`, { body: { status: 'running', epoch } }));
      ok(
        await api('POST', `/tasks/${sub.task_id}/messages`, {
          body: [
            { message: `Deploying ${node}`, error: false, context_type: 'node', context: node },
            {
              message: node.endsWith('2') ? `${node} failed to PXE boot` : `${node} deployed`,
              error: node.endsWith('2'),
              context_type: 'node',
              context: node,
              extra: { attempt: 1 },
            },
          ],
        }),
        201,
      );
      ok(
        await api('POST', `/nodes/${node}/builddata`, {
          body: {
            task_id: sub.task_id,
            generator: 'lshw',
            data_format: 'text/xml',
            data_element: `<node id="${node}"/>`,
          },
        }),
        201,
      );
      const failed = node.endsWith('2');
      ok(
        await api('PATCH', `/tasks/${sub.task_id}`, {
          body: {
            status: 'complete',
            epoch,
            result: failed
              ? { status: 'failure', add_failures: [node] }
              : { status: 'success', add_successes: [node] },
          },
        }),
      );
    }

    // Roll the results up and complete the parent (conditionally, on the version just read).
    const rolled = TaskDictSchema.parse(
      ok(await api('POST', `/tasks/${deploy.task_id}/rollup`, { body: { epoch } })),
    );
    expect(rolled.result).toMatchObject({
      status: 'partial_success',
      successes: ['rack1-node1'],
      failures: ['rack1-node2'],
    });
    const read = await api('GET', `/tasks/${deploy.task_id}`);
    const etag = read.headers.get('etag') as string;
    const done = ok(
      await api('PATCH', `/tasks/${deploy.task_id}`, {
        headers: { 'If-Match': etag },
        body: { status: 'complete', epoch },
      }),
    );
    expect(done.status).toBe('complete');
    expect(
      (
        await api('PATCH', `/tasks/${deploy.task_id}`, {
          headers: { 'If-Match': etag },
          body: { retry: 1 },
        })
      ).status,
    ).toBe(409);

    // Drydock's layered view with subtask errors and build data.
    const tree = ok(
      await api('GET', `/tasks/${deploy.task_id}?layers=-1&subtaskerrors=true&builddata=true`),
    );
    expect(tree.init_task_id).toBe(deploy.task_id);
    expect(TaskDictSchema.parse(tree[deploy.task_id]).subtask_id_list).toEqual(subtasks);
    expect(Object.keys(tree.subtask_errors)).toEqual([subtasks[1]]);
    const failedStatus = StatusDictSchema.parse(tree.subtask_errors[subtasks[1] as string]);
    expect(failedStatus.details.messageList.map((m) => m.sequence)).toEqual([1, 2]);
    expect(tree[subtasks[0] as string].build_data[0].data_element).toBe('<node id="rack1-node1"/>');
    const latest = ok(await api('GET', '/nodes/rack1-node2/builddata?latest=true&verbosity=1'));
    expect(latest).toEqual([expect.objectContaining({ generator: 'lshw', task_id: subtasks[1] })]);
    expect(latest[0]).not.toHaveProperty('data_element');

    // The leader claims the next task, renews one last time with a short grace, then dies.
    const [second] = ok(
      await api('POST', '/tasks/claim', { body: { instance_id: leader, epoch } }),
    );
    expect(second).toMatchObject({ task_id: verify.task_id, status: 'running' });
    ok(
      await api('POST', '/leader/renew', {
        body: { instance_id: leader, epoch, grace_seconds: GRACE_SECONDS },
      }),
    );
    const early = LeaseDictSchema.parse(
      ok(
        await api('POST', '/leader/claim', {
          body: { instance_id: follower, grace_seconds: GRACE_SECONDS },
        }),
      ),
    );
    expect(early).toMatchObject({ held: false, holder: leader });
    // Wait out the grace on the database clock.
    const lease = LeaseDictSchema.parse(ok(await api('GET', '/leader')));
    await sleep(Math.max(0, Date.parse(lease.expires_at) - Date.parse(lease.db_now)) + 200);

    // The follower takes over with a new epoch and requeues what the dead epoch left running.
    const takeover = LeaseDictSchema.parse(
      ok(
        await api('POST', '/leader/claim', { body: { instance_id: follower, grace_seconds: 30 } }),
      ),
    );
    expect(takeover).toMatchObject({ held: true, holder: follower, epoch: epoch + 1 });
    const newEpoch = takeover.epoch;
    expect(
      ok(
        await api('POST', '/leader/requeue', { body: { instance_id: follower, epoch: newEpoch } }),
      ),
    ).toMatchObject({ requeued: 1, terminated: 0 });
    const requeued = ok(await api('GET', `/tasks/${verify.task_id}`));
    expect(requeued.status).toBe('queued');
    expect(requeued.result.details.messageList.at(-1).message).toMatch(/^Requeued/);

    // The old leader is fenced off everywhere.
    expect(
      (await api('POST', '/tasks/claim', { body: { instance_id: leader, epoch } })).status,
    ).toBe(412);
    expect(
      (await api('POST', '/leader/renew', { body: { instance_id: leader, epoch } })).status,
    ).toBe(412);
    expect(
      (await api('PATCH', `/tasks/${verify.task_id}`, { body: { status: 'running', epoch } }))
        .status,
    ).toBe(412);

    // The new leader finishes the job and steps down.
    const [again] = ok(
      await api('POST', '/tasks/claim', { body: { instance_id: follower, epoch: newEpoch } }),
    );
    expect(again.task_id).toBe(verify.task_id);
    ok(
      await api('PATCH', `/tasks/${verify.task_id}`, {
        body: {
          status: 'complete',
          epoch: newEpoch,
          result: { status: 'success', message: 'Site verified' },
        },
      }),
    );
    expect(
      (await api('POST', '/leader/abdicate', { body: { instance_id: follower, epoch: newEpoch } }))
        .status,
    ).toBe(204);
    expect(ok(await api('GET', '/leader'))).toMatchObject({ active: false, holder: follower });
    const finished = ok(await api('GET', '/tasks?status=complete&top_level=true'));
    expect(finished.map((t: { task_id: string }) => t.task_id).sort()).toEqual(
      [deploy.task_id, verify.task_id].sort(),
    );
  });
});
