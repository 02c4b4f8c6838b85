import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateBootActionKey, newBootActionId } from '#shared/bootactions/key.ts';
import {
  createBootActionContext,
  getBootAction,
  getBootActionContext,
  listNodeBootActions,
  reportBootAction,
} from '#shared/store/boot-actions.ts';
import { postBuildData, queryBuildData } from '#shared/store/build-data.ts';
import { checkDatabase } from '#shared/store/health.ts';
import {
  abdicateLease,
  claimLease,
  claimMaintenance,
  readLease,
  renewLease,
} from '#shared/store/lease.ts';
import { appendMessages, listMessages } from '#shared/store/messages.ts';
import {
  claimTasks,
  completeTasks,
  readQueueHealth,
  requeueStrandedTasks,
} from '#shared/store/queue.ts';
import { purgeFinishedTasks } from '#shared/store/retention.ts';
import {
  createTask,
  getTask,
  getTaskTree,
  listMessagesOfTasks,
  listSubtasks,
  listTasks,
  listTasksWithin,
  retryTask,
  rollUpResults,
  terminateTask,
  updateTask,
} from '#shared/store/tasks.ts';
import { countingDb } from '#test/support/counting-db.ts';
import { openTestDb, TEST_DRIVERS, type TestDb } from '#test/support/test-db.ts';

/**
 * Every store operation is one statement (one round trip): the counting wrapper sees exactly one
 * `query` per call, and over the Data API the emulator sees exactly one ExecuteStatement. The
 * list below is what the README reports.
 */
describe.each(TEST_DRIVERS)('statements per store operation on %s', (driver) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb(driver);
  });
  afterAll(async () => t.close());

  it('is one for every operation', async () => {
    const db = countingDb(t.db);
    const counts: Record<string, number> = {};
    // On the Data API the emulator also counts the HTTPS calls the Lambda would pay for: exactly
    // one ExecuteStatement, with no transaction, metadata round trip or retry on top.
    const apiCalls: Record<string, unknown> = {};
    const measure = async <T>(name: string, op: () => Promise<T>): Promise<T> => {
      db.reset();
      t.resetDataApiCalls?.();
      const value = await op();
      counts[name] = db.statements;
      const calls = t.dataApiCalls?.();
      if (calls && !(calls.total === 1 && calls.ExecuteStatement === 1)) apiCalls[name] = calls;
      return value;
    };
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
    const { task: sub } = await measure('createTask (subtask)', () =>
      createTask(db, { action: 'deploy_node', parentTaskId: task.taskId, epoch: lease.epoch }),
    );
    await measure('createTask (internal)', () =>
      createTask(db, { action: 'identify_node', epoch: lease.epoch }),
    );
    await measure('getTask', () => getTask(db, task.taskId));
    await measure('listTasks', () => listTasks(db, { limit: 10, status: 'queued' }));
    await measure('listSubtasks', () => listSubtasks(db, task.taskId, 'active'));
    await measure('listTasksWithin', () =>
      listTasksWithin(db, {}, { maxTasks: 500, maxBytes: 384 * 1024 }),
    );
    await measure('getTaskTree', () => getTaskTree(db, task.taskId, { layers: -1 }));
    await measure('claimTasks', () => claimTasks(db, { instanceId: 'me', epoch: lease.epoch }));
    const { task: internal } = await createTask(db, {
      action: 'identify_node',
      epoch: lease.epoch,
    });
    await measure('completeTasks', () =>
      completeTasks(db, {
        epoch: lease.epoch,
        tasks: [{ taskId: internal.taskId, result: { status: 'success', addSuccesses: ['n1'] } }],
      }),
    );

    await measure('appendMessages (1)', () =>
      appendMessages(db, task.taskId, [
        { message: 'm', error: false, contextType: 'task', context: 'x' },
      ]),
    );
    await measure('appendMessages (10)', () =>
      appendMessages(
        db,
        task.taskId,
        Array.from({ length: 10 }, (_, i) => ({
          message: `m${i}`,
          error: i === 3,
          contextType: 'task',
          context: 'x',
        })),
      ),
    );
    await measure('appendMessages (fenced)', () =>
      appendMessages(
        db,
        task.taskId,
        [{ message: 'm', error: false, contextType: 'task', context: 'x' }],
        { epoch: lease.epoch },
      ),
    );
    await measure('listMessages', () => listMessages(db, task.taskId, { after: 2, limit: 5 }));
    await measure('listMessagesOfTasks', () =>
      listMessagesOfTasks(db, [{ taskId: task.taskId, from: 1, to: 20 }], {
        maxBytes: 384 * 1024,
      }),
    );
    await measure('updateTask', () =>
      updateTask(db, task.taskId, { result: { addSuccesses: ['n1'] } }, { epoch: lease.epoch }),
    );
    await measure('updateTask (subtask complete)', () =>
      updateTask(
        db,
        sub.taskId,
        { status: 'complete', result: { status: 'failure', addFailures: ['n2'] } },
        { epoch: lease.epoch },
      ),
    );
    await measure('retryTask', () =>
      retryTask(db, sub.taskId, { epoch: lease.epoch, maxAttempts: 3 }),
    );
    await measure('rollUpResults', () =>
      rollUpResults(db, task.taskId, {
        bubble: { actionFilter: 'deploy_node' },
        align: {},
        epoch: lease.epoch,
      }),
    );
    await measure('terminateTask', () =>
      terminateTask(db, task.taskId, { terminatedBy: 'op', recursive: true }),
    );
    await measure('requeueStrandedTasks', () =>
      requeueStrandedTasks(db, { epoch: lease.epoch, limit: 10 }),
    );
    await measure('requeueStrandedTasks (schedule)', () => requeueStrandedTasks(db, { limit: 10 }));
    await measure('purgeFinishedTasks', () =>
      purgeFinishedTasks(db, { olderThanDays: 90, batchSize: 100 }),
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
    await measure('postBuildData (fenced)', () =>
      postBuildData(
        db,
        [
          {
            nodeName: node,
            taskId: task.taskId,
            generator: 'lldp',
            dataFormat: 'text/xml',
            dataElement: '<y/>',
          },
        ],
        { epoch: lease.epoch },
      ),
    );
    await measure('queryBuildData (latest)', () =>
      queryBuildData(db, { nodeName: node, latest: true, verbosity: 2 }),
    );
    await measure('queryBuildData (node+task)', () =>
      queryBuildData(db, { nodeName: node, taskId: task.taskId, verbosity: 1 }),
    );
    const key = generateBootActionKey();
    const bootNode = `boot-${randomUUID()}`;
    const ids = [newBootActionId(), newBootActionId(), newBootActionId()];
    const newActions = ids.map((actionId, i) => ({
      actionId,
      actionName: `action-${i}`,
      actionStatus: 'incomplete' as const,
    }));
    const bootContext = {
      nodeName: bootNode,
      taskId: sub.taskId,
      identityKeyHash: key.hash,
      actions: newActions,
    };
    await measure('createBootActionContext', () =>
      createBootActionContext(db, bootContext, { epoch: lease.epoch }),
    );
    await measure('createBootActionContext (replacing)', () =>
      createBootActionContext(
        db,
        {
          ...bootContext,
          actions: newActions.map((a) => ({ ...a, actionId: newBootActionId() })),
        },
        { epoch: lease.epoch },
      ),
    );
    const bootActions = await measure('listNodeBootActions', () =>
      listNodeBootActions(db, bootNode),
    );
    await measure('getBootActionContext', () => getBootActionContext(db, bootNode));
    const bootActionId = bootActions[0]?.actionId ?? '';
    await measure('getBootAction', () => getBootAction(db, bootActionId));
    await measure('reportBootAction (details)', () =>
      reportBootAction(db, {
        actionId: bootActionId,
        identityKeyHash: key.hash,
        details: [
          { message: 'a', error: false },
          { message: 'b', error: true },
        ],
      }),
    );
    await measure('reportBootAction (final)', () =>
      reportBootAction(db, {
        actionId: bootActionId,
        identityKeyHash: key.hash,
        status: 'success',
        details: [{ message: 'done', error: false }],
      }),
    );
    await measure('claimMaintenance', () =>
      claimMaintenance(db, { job: 'retention', intervalSeconds: 60 }),
    );
    await measure('abdicateLease', () =>
      abdicateLease(db, { instanceId: 'me', epoch: lease.epoch }),
    );
    await measure('checkDatabase', () => checkDatabase(db));
    await measure('readQueueHealth', () =>
      readQueueHealth(db, { staleAfterSeconds: 60, listLimit: 10 }),
    );
    expect(Object.entries(counts).filter(([, n]) => n !== 1)).toEqual([]);
    expect(apiCalls).toEqual({});
    if (driver === 'data-api') expect(t.dataApiCalls).toBeTypeOf('function');
    expect(Object.keys(counts)).toHaveLength(41);
  });
});
