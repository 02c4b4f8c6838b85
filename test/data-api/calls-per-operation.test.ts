import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postBuildData, queryBuildData } from '#shared/store/build-data.ts';
import { checkDatabase } from '#shared/store/health.ts';
import { abdicateLease, claimLease, readLease, renewLease } from '#shared/store/lease.ts';
import { appendMessages, listMessages } from '#shared/store/messages.ts';
import {
  claimTasks,
  createTask,
  getTask,
  getTaskTree,
  listTasks,
  terminateTask,
  updateTask,
} from '#shared/store/tasks.ts';
import { SKIP_SERVER } from '#test/support/pg-server.ts';
import { openTestDb, type TestDb } from '#test/support/test-db.ts';

/**
 * Counted where it costs: at the Data API emulator, i.e. HTTP calls the Lambda would pay for.
 * The store's own suite counts `Db.query` calls; this proves the adapter adds nothing on top
 * (no BeginTransaction, no metadata round trip, no retries when nothing fails).
 */
describe.skipIf(SKIP_SERVER)('Data API calls per store operation', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb('data-api');
  });
  afterAll(async () => t.close());

  it('is exactly one ExecuteStatement each', async () => {
    const calls: Record<string, unknown> = {};
    const measure = async <T>(name: string, op: () => Promise<T>): Promise<T> => {
      t.resetDataApiCalls?.();
      const value = await op();
      const counted = t.dataApiCalls?.();
      calls[name] = counted && counted.total === counted.ExecuteStatement ? counted.total : counted;
      return value;
    };
    const db = t.db;
    const lease = await measure('claimLease', () =>
      claimLease(db, { instanceId: 'me', graceSeconds: 60 }),
    );
    await measure('renewLease', () =>
      renewLease(db, { instanceId: 'me', epoch: lease.epoch, graceSeconds: 60 }),
    );
    await measure('readLease', () => readLease(db));
    const { task } = await measure('createTask', () =>
      createTask(db, { action: 'deploy_nodes', status: 'queued' }),
    );
    await measure('createTask (subtask)', () =>
      createTask(db, { action: 'deploy_node', parentTaskId: task.taskId }),
    );
    await measure('getTask', () => getTask(db, task.taskId));
    await measure('listTasks', () => listTasks(db, { limit: 10 }));
    await measure('getTaskTree', () => getTaskTree(db, task.taskId, { layers: -1 }));
    await measure('claimTasks', () => claimTasks(db, { instanceId: 'me', epoch: lease.epoch }));
    await measure('appendMessages (10)', () =>
      appendMessages(
        db,
        task.taskId,
        Array.from({ length: 10 }, (_, i) => ({
          message: `m${i}`,
          error: false,
          contextType: 'task',
          context: 'x',
        })),
      ),
    );
    await measure('listMessages', () => listMessages(db, task.taskId, { after: 0, limit: 5 }));
    await measure('updateTask', () =>
      updateTask(db, task.taskId, { result: { addSuccesses: ['n1'] } }, { epoch: lease.epoch }),
    );
    await measure('terminateTask', () =>
      terminateTask(db, task.taskId, { terminatedBy: 'op', recursive: true }),
    );
    const node = `node-${randomUUID()}`;
    await measure('postBuildData', () =>
      postBuildData(db, [
        {
          nodeName: node,
          taskId: task.taskId,
          generator: 'lshw',
          dataFormat: 'text/xml',
          dataElement: '<x/>',
        },
      ]),
    );
    await measure('queryBuildData (latest)', () =>
      queryBuildData(db, { nodeName: node, latest: true, verbosity: 2 }),
    );
    await measure('abdicateLease', () =>
      abdicateLease(db, { instanceId: 'me', epoch: lease.epoch }),
    );
    await measure('checkDatabase', () => checkDatabase(db));

    expect(Object.entries(calls).filter(([, n]) => n !== 1)).toEqual([]);
    expect(Object.keys(calls)).toHaveLength(17);
  });
});
