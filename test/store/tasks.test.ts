import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ResultStatus, STATUS_TRANSITIONS, TASK_STATUSES } from '#shared/domain.ts';
import {
  ConflictError,
  LeaseLostError,
  MaxRetriesReachedError,
  NotFoundError,
  ValidationError,
} from '#shared/errors.ts';
import { TASK_BOUNDS } from '#shared/store/bounds.ts';
import { appendMessages } from '#shared/store/messages.ts';
import { CLAIM_BUDGET_BYTES, claimTasks, requeueStrandedTasks } from '#shared/store/queue.ts';
import {
  createTask,
  getTask,
  getTaskTree,
  listMessagesOfTasks,
  listSubtasks,
  listTasks,
  listTasksWithin,
  messageRanges,
  retryTask,
  rollUpResults,
  terminateTask,
  updateTask,
} from '#shared/store/tasks.ts';
import type { MessageRange, TaskRecord } from '#shared/store/types.ts';
import { countingDb } from '#test/support/counting-db.ts';
import {
  answerBytesOf,
  becomeLeader,
  expireLease,
  forceTask,
  queuedTask,
  resetTables,
} from '#test/support/store-fixtures.ts';
import { TEST_DRIVERS, testDatabase } from '#test/support/test-db.ts';

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

describe.each(TEST_DRIVERS)('tasks on %s', (driver) => {
  const t = testDatabase(driver);
  beforeEach(async () => resetTables(t.db));

  describe('createTask', () => {
    it('refuses a subtask once its id would pass the parent row bound, writing nothing', async () => {
      const parent = await queuedTask(t.db);
      const bytes = await answerBytesOf(t.db, parent.taskId);
      // Fill the row with a result message so that exactly two more subtask ids fit.
      const room = TASK_BOUNDS.rowBytes - 2 * TASK_BOUNDS.subtaskIdBytes;
      const fill = room - (bytes - 4) - 2;
      await t.db.query({
        text: "update tasks set result_message = repeat('x', $2::int) where task_id = $1::uuid",
        params: [
          { type: 'uuid', value: parent.taskId },
          { type: 'int', value: fill },
        ],
        columns: {},
      });
      const sub = () => createTask(t.db, { action: 'noop', parentTaskId: parent.taskId });
      await sub();
      await sub();
      const before = await getTask(t.db, parent.taskId);
      const refused = sub();
      await expect(refused).rejects.toBeInstanceOf(ConflictError);
      await expect(refused).rejects.toThrow(/cannot take another subtask/);
      const after = await getTask(t.db, parent.taskId);
      expect(after.subtaskIds).toHaveLength(2);
      expect([after.messageCount, after.version]).toEqual([before.messageCount, before.version]);
      expect((await listTasks(t.db, { limit: 10 })).tasks).toHaveLength(3);
    });

    it('creates a queued top-level task with its defaults', async () => {
      const { task, created } = await createTask(t.db, {
        action: 'verify_site',
        designRef: 'deckhand+https://deckhand.example.com/revisions/1/rendered-documents',
        // Keys out of jsonb's order, a number jsonb writes its own way, an escape.
        nodeFilter: {
          filter_set_type: 'union',
          filter_set: [{ filter_type: 'union', node_names: ['n1'] }],
          a: 1.5,
          b: 'caf\u00e9 \u2028',
        },
        status: 'queued',
        createdBy: 'arn:aws:iam::123456789012:user/operator-with-a-name-longer-than-sixteen',
        requestContext: { requestId: 'r-1' },
      });
      expect(created).toBe(true);
      expect(task).toMatchObject({
        parentTaskId: null,
        subtaskIds: [],
        action: 'verify_site',
        status: 'queued',
        nodeFilter: { filter_set_type: 'union' },
        resultStatus: 'incomplete',
        resultMessage: null,
        resultSuccesses: [],
        resultFailures: [],
        resultLinks: [],
        errorCount: 0,
        retry: 0,
        terminate: false,
        terminated: null,
        version: 1,
        claimedEpoch: null,
        messageCount: 0,
      });
      expect(task.taskId).toMatch(/^[0-9a-f-]{36}$/);
      expect(task.created).toMatch(ISO_UTC);
      expect(task.updated).toMatch(ISO_UTC);
      // The answer is composed from the input and what the insert made: exactly what a read gives,
      // key order included (POST /tasks answers it).
      const { messages, ...read } = await getTask(t.db, task.taskId);
      expect(messages).toEqual([]);
      expect(read).toStrictEqual(task);
      expect(JSON.stringify(read)).toBe(JSON.stringify(task));
    });

    it('keeps long design references and user names (Drydock limited them to 128 and 16 characters)', async () => {
      const designRef = `https://designs.example.com/${'x'.repeat(400)}.yaml`;
      const createdBy = `user-${'y'.repeat(100)}`;
      const task = await queuedTask(t.db, { designRef, createdBy });
      expect((await getTask(t.db, task.taskId)).designRef).toBe(designRef);
      expect(task.createdBy).toBe(createdBy);
    });

    it('uses a caller-chosen id and refuses to reuse it', async () => {
      const taskId = randomUUID();
      await queuedTask(t.db, { taskId });
      await expect(queuedTask(t.db, { taskId })).rejects.toBeInstanceOf(ConflictError);
    });

    it('returns the first task for a replayed request key', async () => {
      const first = await createTask(t.db, {
        action: 'noop',
        status: 'queued',
        requestKey: 'sqs-message-1',
      });
      const again = await createTask(t.db, {
        action: 'noop',
        status: 'queued',
        requestKey: 'sqs-message-1',
      });
      expect(again.created).toBe(false);
      expect(again.task.taskId).toBe(first.task.taskId);
      expect((await listTasks(t.db, { limit: 10 })).tasks).toHaveLength(1);
    });

    it('registers a subtask atomically and posts the Started subtask message on the parent', async () => {
      const parent = await queuedTask(t.db);
      const a = await createTask(t.db, { parentTaskId: parent.taskId, action: 'prepare_nodes' });
      const b = await createTask(t.db, { parentTaskId: parent.taskId, action: 'deploy_node' });
      expect(a.task).toMatchObject({ parentTaskId: parent.taskId, status: 'requested' });
      const reloaded = await getTask(t.db, parent.taskId);
      expect(reloaded.subtaskIds).toEqual([a.task.taskId, b.task.taskId]);
      expect(
        reloaded.messages.map((m) => [m.sequence, m.message, m.contextType, m.context]),
      ).toEqual([
        [1, `Started subtask ${a.task.taskId} for action prepare_nodes`, 'task', parent.taskId],
        [2, `Started subtask ${b.task.taskId} for action deploy_node`, 'task', parent.taskId],
      ]);
      expect(reloaded.version).toBe(parent.version);
    });

    it('refuses subtasks under a missing or terminating parent, writing nothing', async () => {
      await expect(
        createTask(t.db, { parentTaskId: randomUUID(), action: 'noop' }),
      ).rejects.toBeInstanceOf(NotFoundError);
      const parent = await queuedTask(t.db);
      const epoch = await becomeLeader(t.db);
      await claimTasks(t.db, { instanceId: 'leader-a', epoch });
      await terminateTask(t.db, parent.taskId, { terminatedBy: 'op', recursive: false });
      await expect(
        createTask(t.db, { parentTaskId: parent.taskId, action: 'noop' }),
      ).rejects.toBeInstanceOf(ConflictError);
      const reloaded = await getTask(t.db, parent.taskId);
      expect(reloaded.status).toBe('terminating');
      expect(reloaded.subtaskIds).toEqual([]);
      expect(reloaded.messages).toEqual([]);
    });

    it('refuses a malformed id with a validation error, not a server error', async () => {
      await expect(getTask(t.db, 'not-a-uuid')).rejects.toBeInstanceOf(ValidationError);
      await expect(getTask(t.db, randomUUID())).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('listTasks', () => {
    it('pages newest first with a stable cursor while tasks are added', async () => {
      const made = [];
      for (let i = 0; i < 5; i += 1) made.push(await queuedTask(t.db, { action: 'noop' }));
      const first = await listTasks(t.db, { limit: 2 });
      expect(first.tasks.map((x) => x.taskId)).toEqual([made[4]?.taskId, made[3]?.taskId]);
      await queuedTask(t.db, { action: 'noop' }); // a newer task must not shift later pages
      const second = await listTasks(t.db, { limit: 2, cursor: first.nextCursor as string });
      expect(second.tasks.map((x) => x.taskId)).toEqual([made[2]?.taskId, made[1]?.taskId]);
      const third = await listTasks(t.db, { limit: 2, cursor: second.nextCursor as string });
      expect(third.tasks.map((x) => x.taskId)).toEqual([made[0]?.taskId]);
      expect(third.nextCursor).toBeNull();
    });

    it('filters by status, action, parent, top level and creator', async () => {
      const a = await queuedTask(t.db, { action: 'verify_site', createdBy: 'alice' });
      const b = await queuedTask(t.db, { action: 'deploy_nodes', createdBy: 'bob' });
      const sub = await createTask(t.db, { parentTaskId: b.taskId, action: 'deploy_node' });
      const ids = async (f: Parameters<typeof listTasks>[1]) =>
        (await listTasks(t.db, f)).tasks.map((x) => x.taskId);
      expect(await ids({ limit: 10, action: 'verify_site' })).toEqual([a.taskId]);
      expect(await ids({ limit: 10, createdBy: 'bob' })).toEqual([b.taskId]);
      expect(await ids({ limit: 10, status: 'requested' })).toEqual([sub.task.taskId]);
      expect(await ids({ limit: 10, parentTaskId: b.taskId })).toEqual([sub.task.taskId]);
      expect(await ids({ limit: 10, topLevel: true })).toEqual([b.taskId, a.taskId]);
    });

    it('refuses a forged cursor and an out-of-range limit', async () => {
      await expect(listTasks(t.db, { limit: 10, cursor: 'bm9wZQ' })).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(listTasks(t.db, { limit: 0 })).rejects.toBeInstanceOf(ValidationError);
      await expect(listTasks(t.db, { limit: 1001 })).rejects.toBeInstanceOf(ValidationError);
    });
  });

  describe('subtasks and trees', () => {
    it('lists all, active and complete subtasks (Drydock active-subtask SQL never ran)', async () => {
      const parent = await queuedTask(t.db);
      const done = (await createTask(t.db, { parentTaskId: parent.taskId, action: 'deploy_node' }))
        .task;
      const live = (await createTask(t.db, { parentTaskId: parent.taskId, action: 'deploy_node' }))
        .task;
      const stopped = (
        await createTask(t.db, { parentTaskId: parent.taskId, action: 'deploy_node' })
      ).task;
      await updateTask(t.db, done.taskId, { status: 'running' });
      await updateTask(t.db, done.taskId, { status: 'complete', result: { status: 'success' } });
      await terminateTask(t.db, stopped.taskId, { terminatedBy: 'op', recursive: false });
      const ids = async (which: 'all' | 'active' | 'complete') =>
        (await listSubtasks(t.db, parent.taskId, which)).map((x) => x.taskId);
      expect(await ids('all')).toEqual([done.taskId, live.taskId, stopped.taskId]);
      expect(await ids('active')).toEqual([live.taskId]);
      expect(await ids('complete')).toEqual([done.taskId, stopped.taskId]);
    });

    it('walks the tree breadth first by layer, with messages', async () => {
      const root = await queuedTask(t.db);
      const c1 = (await createTask(t.db, { parentTaskId: root.taskId, action: 'prepare_nodes' }))
        .task;
      const c2 = (await createTask(t.db, { parentTaskId: root.taskId, action: 'deploy_nodes' }))
        .task;
      const g1 = (await createTask(t.db, { parentTaskId: c1.taskId, action: 'identify_node' }))
        .task;
      await appendMessages(t.db, g1.taskId, [
        { message: 'boom', error: true, contextType: 'node', context: 'n1' },
      ]);
      const all = await getTaskTree(t.db, root.taskId, { layers: -1 });
      expect(all.map((x) => [x.taskId, x.layer])).toEqual([
        [root.taskId, 1],
        [c1.taskId, 2],
        [c2.taskId, 2],
        [g1.taskId, 3],
      ]);
      expect(all[3]?.messages.map((m) => m.message)).toEqual(['boom']);
      expect(all[0]?.messages).toHaveLength(2);
      expect((await getTaskTree(t.db, root.taskId, { layers: 1 })).map((x) => x.taskId)).toEqual([
        root.taskId,
      ]);
      expect(await getTaskTree(t.db, root.taskId, { layers: 2 })).toHaveLength(3);
      await expect(getTaskTree(t.db, randomUUID(), { layers: -1 })).rejects.toBeInstanceOf(
        NotFoundError,
      );
      await expect(getTaskTree(t.db, root.taskId, { layers: 0 })).rejects.toBeInstanceOf(
        ValidationError,
      );
    });
  });

  describe('updateTask', () => {
    it('changes only what it is given and appends successes without duplicates', async () => {
      const task = await queuedTask(t.db);
      await updateTask(t.db, task.taskId, {
        result: { message: 'first', addSuccesses: ['n1', 'n2'] },
      });
      const after = await updateTask(t.db, task.taskId, {
        result: {
          reason: 'why',
          addSuccesses: ['n2', 'n3'],
          addFailures: ['n9'],
          addLinks: [{ rel: 'detail_logs', href: 'https://x/1' }],
        },
      });
      expect(after).toMatchObject({
        resultStatus: 'incomplete',
        resultMessage: 'first',
        resultReason: 'why',
        resultSuccesses: ['n1', 'n2', 'n3'],
        resultFailures: ['n9'],
        resultLinks: [{ rel: 'detail_logs', href: 'https://x/1' }],
      });
      expect(after.version).toBe(3);
    });

    // Every (from, to) pair: allowed exactly when Drydock's orchestrator or drivers save it
    // (STATUS_TRANSITIONS, each edge with its code path in shared/store/README.md) or it stays put.
    const statuses = TASK_STATUSES;
    const pairs = statuses.flatMap((from) => statuses.map((to) => [from, to] as const));
    it('allows exactly the listed status moves, and staying put', async () => {
      const refused: string[] = [];
      for (const [from, to] of pairs) {
        const task = await queuedTask(t.db);
        await forceTask(t.db, task.taskId, { status: from });
        const allowed = from === to || STATUS_TRANSITIONS[from].includes(to);
        const outcome = await updateTask(t.db, task.taskId, { status: to }).then(
          (x) => x.status,
          (error: unknown) => (error instanceof ConflictError ? 'refused' : String(error)),
        );
        expect(outcome, `${from} → ${to}`).toBe(allowed ? to : 'refused');
        if (!allowed) refused.push(`${from}→${to}`);
      }
      // What Drydock never does, or only through another operation, stays refused.
      expect(refused).toEqual(
        expect.arrayContaining([
          'queued→running', // claim
          'complete→running', // retry
          'terminating→running',
          'terminated→complete',
          'running→queued', // recovery
          'requested→queued',
        ]),
      );
    });

    it("saves Drydock's single-save moves: requested → complete, and requested → running → complete", async () => {
      const parent = await queuedTask(t.db);
      const once = (
        await createTask(t.db, { parentTaskId: parent.taskId, action: 'create_boot_media' })
      ).task;
      expect(
        await updateTask(t.db, once.taskId, { status: 'complete', result: { status: 'failure' } }),
      ).toMatchObject({ status: 'complete', resultStatus: 'failure' });
      const twice = (await createTask(t.db, { parentTaskId: parent.taskId, action: 'deploy_node' }))
        .task;
      await updateTask(t.db, twice.taskId, { status: 'running' });
      await updateTask(t.db, twice.taskId, { status: 'running' });
      expect((await updateTask(t.db, twice.taskId, { status: 'complete' })).status).toBe(
        'complete',
      );
      await expect(updateTask(t.db, twice.taskId, { status: 'running' })).rejects.toThrow(/retry/);
      await expect(updateTask(t.db, randomUUID(), { status: 'queued' })).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });

    it('refuses a stale expected version: a concurrent terminate is never lost', async () => {
      const task = await queuedTask(t.db);
      const epoch = await becomeLeader(t.db);
      const [claimed] = await claimTasks(t.db, { instanceId: 'leader-a', epoch });
      const readVersion = claimed?.version as number;
      await terminateTask(t.db, task.taskId, { terminatedBy: 'op', recursive: false });
      await expect(
        updateTask(t.db, task.taskId, { status: 'complete' }, { expectedVersion: readVersion }),
      ).rejects.toThrow(/version/);
      expect(await getTask(t.db, task.taskId)).toMatchObject({
        status: 'terminating',
        terminate: true,
      });
    });

    it('fences writes that carry a stale lease epoch', async () => {
      const task = await queuedTask(t.db);
      const epoch = await becomeLeader(t.db, 'leader-a', 1);
      await claimTasks(t.db, { instanceId: 'leader-a', epoch });
      await expireLease(t.db);
      const newEpoch = await becomeLeader(t.db, 'leader-b');
      expect(newEpoch).toBe(epoch + 1);
      await expect(
        updateTask(t.db, task.taskId, { status: 'complete' }, { epoch }),
      ).rejects.toBeInstanceOf(LeaseLostError);
      expect((await getTask(t.db, task.taskId)).status).toBe('running');
    });

    it('applies an event key once: a redelivery writes nothing', async () => {
      const task = await queuedTask(t.db);
      const first = await updateTask(
        t.db,
        task.taskId,
        { result: { addFailures: ['n1'] }, retry: 1 },
        { eventKey: 'evt-1' },
      );
      const again = await updateTask(
        t.db,
        task.taskId,
        { result: { addFailures: ['n2'] }, retry: 2 },
        { eventKey: 'evt-1' },
      );
      expect(again.version).toBe(first.version);
      expect(again.resultFailures).toEqual(['n1']);
      expect(again.retry).toBe(1);
    });
  });

  describe('terminateTask', () => {
    it('terminates queued work at once, marks running work terminating, recursively', async () => {
      const root = await queuedTask(t.db);
      const epoch = await becomeLeader(t.db);
      await claimTasks(t.db, { instanceId: 'leader-a', epoch });
      const child = (await createTask(t.db, { parentTaskId: root.taskId, action: 'deploy_node' }))
        .task;
      const grandchild = (
        await createTask(t.db, { parentTaskId: child.taskId, action: 'deploy_node' })
      ).task;
      const changed = await terminateTask(t.db, root.taskId, {
        terminatedBy: 'op',
        recursive: true,
      });
      expect(changed.map((x) => [x.taskId, x.status]).sort()).toEqual(
        [
          [root.taskId, 'terminating'],
          [child.taskId, 'terminated'],
          [grandchild.taskId, 'terminated'],
        ].sort(),
      );
      const reloaded = await getTask(t.db, root.taskId);
      expect(reloaded).toMatchObject({ terminate: true, terminatedBy: 'op' });
      expect(reloaded.terminated).toMatch(ISO_UTC);
      await updateTask(t.db, root.taskId, { status: 'terminated' });
      expect(
        await terminateTask(t.db, root.taskId, { terminatedBy: 'op', recursive: true }),
      ).toEqual([]);
    });

    it('leaves subtasks alone without recursion and refuses a complete task', async () => {
      const root = await queuedTask(t.db);
      const child = (await createTask(t.db, { parentTaskId: root.taskId, action: 'deploy_node' }))
        .task;
      await terminateTask(t.db, root.taskId, { terminatedBy: null, recursive: false });
      expect((await getTask(t.db, child.taskId)).status).toBe('requested');
      await updateTask(t.db, child.taskId, { status: 'running' });
      await updateTask(t.db, child.taskId, { status: 'complete' });
      await expect(
        terminateTask(t.db, child.taskId, { terminatedBy: null, recursive: false }),
      ).rejects.toBeInstanceOf(ConflictError);
      await expect(
        terminateTask(t.db, randomUUID(), { terminatedBy: null, recursive: false }),
      ).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('rollUpResults', () => {
    const both = { bubble: {}, align: {} };
    async function finishedChild(
      parentTaskId: string,
      action: 'deploy_node' | 'prepare_nodes',
      status: 'success' | 'failure' | 'partial_success',
      entities: { ok?: string[]; bad?: string[] },
      retry = 0,
    ) {
      const { task } = await createTask(t.db, { parentTaskId, action, retry });
      await updateTask(t.db, task.taskId, {
        status: 'complete',
        result: { status, addSuccesses: entities.ok ?? [], addFailures: entities.bad ?? [] },
      });
    }

    it('is success for a task without subtasks (Drydock #77)', async () => {
      const task = await queuedTask(t.db);
      expect((await rollUpResults(t.db, task.taskId, both)).resultStatus).toBe('success');
    });

    it('aggregates finished subtasks: success, failure, partial success; unfinished ones are ignored', async () => {
      const parent = await queuedTask(t.db);
      await createTask(t.db, { parentTaskId: parent.taskId, action: 'deploy_node' }); // still requested
      expect((await rollUpResults(t.db, parent.taskId, both)).resultStatus).toBe('incomplete');
      await finishedChild(parent.taskId, 'deploy_node', 'success', { ok: ['n1'] });
      expect(await rollUpResults(t.db, parent.taskId, both)).toMatchObject({
        resultStatus: 'success',
        resultSuccesses: ['n1'],
      });
      await finishedChild(parent.taskId, 'deploy_node', 'failure', { bad: ['n2'] });
      expect(await rollUpResults(t.db, parent.taskId, both)).toMatchObject({
        resultStatus: 'partial_success',
        resultSuccesses: ['n1'],
        resultFailures: ['n2'],
      });
    });

    it('runs bubble and align each with its own filter, or one without the other', async () => {
      const parent = await queuedTask(t.db);
      await finishedChild(parent.taskId, 'prepare_nodes', 'success', { ok: ['p1'] });
      await finishedChild(parent.taskId, 'prepare_nodes', 'failure', { bad: ['p2'] });
      await finishedChild(parent.taskId, 'deploy_node', 'success', { ok: ['d1'] });
      const rolled = await rollUpResults(t.db, parent.taskId, {
        bubble: { actionFilter: 'deploy_node' },
        align: { actionFilter: 'deploy_node' },
      });
      expect(rolled).toMatchObject({
        resultStatus: 'success',
        resultSuccesses: ['d1'],
        resultFailures: ['p2'],
      });
      const unfiltered = await rollUpResults(t.db, parent.taskId, { align: {} });
      expect(unfiltered).toMatchObject({
        resultStatus: 'partial_success',
        resultSuccesses: ['d1'],
        resultFailures: ['p2'],
      });
      const listsOnly = await rollUpResults(t.db, parent.taskId, { bubble: {} });
      expect(listsOnly).toMatchObject({
        resultStatus: 'partial_success',
        resultSuccesses: ['p1', 'd1'],
        resultFailures: ['p2'],
      });
      await expect(rollUpResults(t.db, parent.taskId, {})).rejects.toBeInstanceOf(ValidationError);
    });

    it('is fenced by the lease epoch when one is given', async () => {
      const parent = await queuedTask(t.db);
      await expect(
        rollUpResults(t.db, parent.taskId, { ...both, epoch: 42 }),
      ).rejects.toBeInstanceOf(LeaseLostError);
      expect((await getTask(t.db, parent.taskId)).version).toBe(parent.version);
      await expect(rollUpResults(t.db, randomUUID(), both)).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('retryTask', () => {
    async function completedWith(successes: string[], failures: string[], result: ResultStatus) {
      const parent = await queuedTask(t.db);
      const { task } = await createTask(t.db, {
        parentTaskId: parent.taskId,
        action: 'deploy_node',
      });
      await forceTask(t.db, task.taskId, { status: 'complete', result, successes, failures });
      return task.taskId;
    }

    it("does Drydock's retry_task: message, retry + 1, success when some succeeded, runs again", async () => {
      const epoch = await becomeLeader(t.db);
      const id = await completedWith(['n1'], ['n2'], 'partial_success');
      const { retried, task } = await retryTask(t.db, id, { epoch, maxAttempts: 3 });
      expect(retried).toBe(true);
      expect(task).toMatchObject({
        status: 'running',
        retry: 1,
        claimedEpoch: epoch,
        resultStatus: 'success',
        resultSuccesses: ['n1'],
        resultFailures: ['n2'],
      });
      const messages = (await getTask(t.db, id)).messages;
      expect(messages.map((m) => [m.message, m.error, m.contextType, m.context])).toEqual([
        ['Retrying task for failed entities.', false, 'NA', 'NA'],
      ]);
      const none = await completedWith([], ['n3'], 'failure');
      expect((await retryTask(t.db, none, { epoch })).task.resultStatus).toBe('incomplete');
    });

    it('retries nothing without failures, or when the result is success', async () => {
      const epoch = await becomeLeader(t.db);
      for (const [ok, bad, result] of [
        [['n1'], [], 'success'],
        [['n1'], ['n2'], 'success'],
        [[], [], 'failure'],
      ] as const) {
        const id = await completedWith([...ok], [...bad], result);
        const before = await getTask(t.db, id);
        const outcome = await retryTask(t.db, id, { epoch, maxAttempts: 3 });
        expect(outcome.retried).toBe(false);
        expect(await getTask(t.db, id)).toEqual(before);
      }
    });

    it('says "out of attempts" past max_attempts and answers 409; no limit with 0 or none', async () => {
      const epoch = await becomeLeader(t.db);
      const id = await completedWith([], ['n1'], 'failure');
      await forceTask(t.db, id, { retry: 3 });
      await expect(retryTask(t.db, id, { epoch, maxAttempts: 3 })).rejects.toBeInstanceOf(
        MaxRetriesReachedError,
      );
      const after = await getTask(t.db, id);
      expect(after).toMatchObject({ status: 'complete', retry: 3, resultStatus: 'failure' });
      expect(after.messages.map((m) => m.message)).toEqual(['Retry requested, out of attempts.']);
      expect((await retryTask(t.db, id, { epoch, maxAttempts: 0 })).task.retry).toBe(4);
    });

    it('is fenced, refuses terminated or unstarted tasks, and applies an event key once', async () => {
      const epoch = await becomeLeader(t.db);
      const id = await completedWith([], ['n1'], 'failure');
      await expect(retryTask(t.db, id, { epoch: epoch + 1 })).rejects.toBeInstanceOf(
        LeaseLostError,
      );
      const stopped = await completedWith([], ['n1'], 'failure');
      await forceTask(t.db, stopped, { status: 'terminated' });
      await expect(retryTask(t.db, stopped, { epoch })).rejects.toBeInstanceOf(ConflictError);
      const first = await retryTask(t.db, id, { epoch, eventKey: 'evt-r' });
      const again = await retryTask(t.db, id, { epoch, eventKey: 'evt-r' });
      expect(again).toMatchObject({ duplicate: true, task: { retry: first.task.retry } });
      await expect(retryTask(t.db, randomUUID(), { epoch })).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe("the orchestrator's creates", () => {
    it('creates a parentless internal task of any action under the live epoch, owned by it', async () => {
      const epoch = await becomeLeader(t.db);
      const { task } = await createTask(t.db, { action: 'identify_node', epoch });
      expect(task).toMatchObject({ parentTaskId: null, status: 'requested', claimedEpoch: epoch });
      await expireLease(t.db);
      await expect(createTask(t.db, { action: 'noop', epoch })).rejects.toBeInstanceOf(
        LeaseLostError,
      );
      expect((await listTasks(t.db, { limit: 10 })).tasks).toHaveLength(1);
    });

    it("fences subtask registration and stamps the owner: the epoch, else the parent's", async () => {
      const parent = await queuedTask(t.db);
      const epoch = await becomeLeader(t.db);
      await claimTasks(t.db, { instanceId: 'leader-a', epoch });
      const fencedOut = createTask(t.db, {
        parentTaskId: parent.taskId,
        action: 'deploy_node',
        epoch: epoch + 1,
      });
      await expect(fencedOut).rejects.toBeInstanceOf(LeaseLostError);
      expect(await getTask(t.db, parent.taskId)).toMatchObject({ subtaskIds: [], messageCount: 0 });
      const withEpoch = await createTask(t.db, {
        parentTaskId: parent.taskId,
        action: 'deploy_node',
        epoch,
        retry: 2,
      });
      expect(withEpoch.task).toMatchObject({ claimedEpoch: epoch, retry: 2 });
      const inherited = await createTask(t.db, {
        parentTaskId: withEpoch.task.taskId,
        action: 'deploy_node',
      });
      expect(inherited.task.claimedEpoch).toBe(epoch);
    });
  });

  describe('listing everything in sized pages', () => {
    it('pages tasks and their messages by count and bytes, losing and repeating none', async () => {
      const made: string[] = [];
      for (let i = 0; i < 7; i += 1) {
        const task = await queuedTask(t.db, {
          designRef: `https://d.example/${'x'.repeat(i * 300)}`,
        });
        made.push(task.taskId);
        if (i === 0) continue;
        await appendMessages(
          t.db,
          task.taskId,
          Array.from({ length: i }, (_, n) => ({
            message: `m${n} ${'y'.repeat(500)}`,
            error: false,
            contextType: 'task',
            context: task.taskId,
          })),
        );
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await listTasksWithin(t.db, cursor ? { cursor } : {}, {
          maxTasks: 3,
          maxBytes: 4000,
        });
        expect(page.tasks.length).toBeGreaterThanOrEqual(1);
        expect(page.tasks.length).toBeLessThanOrEqual(3);
        seen.push(...page.tasks.map((x) => x.taskId));
        cursor = page.nextCursor ?? undefined;
        pages += 1;
      } while (cursor);
      expect(seen).toEqual([...made].reverse());
      expect(pages).toBeGreaterThan(3);

      // Messages by ranges (a task's messages are numbered 1..n), cut by size and resumed.
      const ids = [...made].reverse();
      const ranges = ids
        .map((id, i) => ({ taskId: id, from: 1, to: 6 - i }))
        .filter((r) => r.to > 0)
        .map((r, i) => (i === 1 ? { ...r, from: 2 } : r));
      const got: string[] = [];
      let pending = ranges;
      let calls = 0;
      while (pending.length > 0) {
        const batch = await listMessagesOfTasks(t.db, pending, { maxBytes: 3000 });
        got.push(...batch.messages.map((m) => `${m.taskId}:${m.sequence}`));
        calls += 1;
        if (!batch.next) break;
        const { index, sequence } = batch.next;
        const cut = pending[index] as (typeof ranges)[number];
        pending = [
          ...(sequence < cut.to ? [{ ...cut, from: sequence + 1 }] : []),
          ...pending.slice(index + 1),
        ];
      }
      const expected = ranges.flatMap((r) =>
        Array.from({ length: r.to - r.from + 1 }, (_, n) => `${r.taskId}:${r.from + n}`),
      );
      expect(got).toEqual(expected);
      expect(calls).toBeGreaterThan(3);
    });

    it('reads a page of tasks and their first messages in one statement, as the two reads would', async () => {
      const made: TaskRecord[] = [];
      for (let i = 0; i < 4; i += 1) {
        const task = await queuedTask(t.db);
        if (i > 0) {
          await appendMessages(
            t.db,
            task.taskId,
            Array.from({ length: i + 1 }, (_, n) => ({
              message: `m${n} ${'y'.repeat(300)}`,
              error: false,
              contextType: 'task',
              context: task.taskId,
            })),
          );
        }
        made.push(await getTask(t.db, task.taskId));
      }
      const budget = { maxTasks: 3, maxBytes: 100_000 };
      const counting = countingDb(t.db);
      for (const messages of [
        { perTask: 3, rows: 100, maxBytes: 100_000 }, // each task's first 3
        { perTask: 10, rows: 4, maxBytes: 100_000 }, // a range split at the row budget
        { perTask: 10, rows: 100, maxBytes: 1500 }, // cut by size
      ]) {
        const plain = await listTasksWithin(t.db, {}, budget);
        const before = counting.statements;
        const page = await listTasksWithin(counting, {}, budget, messages);
        expect(counting.statements - before).toBe(1);
        expect(page.tasks).toEqual(plain.tasks);
        expect(page.cursors).toEqual(plain.cursors);
        expect(page.nextCursor).toEqual(plain.nextCursor);
        expect(page.tasks.map((x) => x.taskId)).toEqual(
          made
            .slice(1)
            .reverse()
            .map((x) => x.taskId),
        );
        // What the separate read returns for the same first chunk of ranges.
        const chunk: MessageRange[] = [];
        let left = messages.rows;
        for (const range of messageRanges(page.tasks, messages.perTask)) {
          if (left === 0) break;
          const to = Math.min(range.to, range.from + left - 1);
          chunk.push({ ...range, to });
          left -= to - range.from + 1;
        }
        const separate = await listMessagesOfTasks(t.db, chunk, { maxBytes: messages.maxBytes });
        expect(page.messages).toEqual(separate);
        expect(page.messages.messages.length).toBeGreaterThan(0);
        expect(page.messages.next === null).toBe(messages.maxBytes === 100_000);
      }
    });
  });

  describe('claimTasks', () => {
    it('claims the oldest queued task for the live holder and stamps its epoch', async () => {
      const first = await queuedTask(t.db, { action: 'deploy_nodes' });
      const second = await queuedTask(t.db, { action: 'verify_site' });
      const epoch = await becomeLeader(t.db);
      const [claimed] = await claimTasks(t.db, { instanceId: 'leader-a', epoch });
      expect(claimed).toMatchObject({
        taskId: first.taskId,
        status: 'running',
        claimedEpoch: epoch,
        claimedBy: 'leader-a',
      });
      const filtered = await claimTasks(t.db, {
        instanceId: 'leader-a',
        epoch,
        actions: ['deploy_nodes'],
      });
      expect(filtered).toEqual([]);
      const [next] = await claimTasks(t.db, {
        instanceId: 'leader-a',
        epoch,
        actions: ['verify_site'],
      });
      expect(next?.taskId).toBe(second.taskId);
      expect(await claimTasks(t.db, { instanceId: 'leader-a', epoch })).toEqual([]);
    });

    it('claims several in one statement, oldest first', async () => {
      const made = [];
      for (let i = 0; i < 4; i += 1) made.push(await queuedTask(t.db));
      const epoch = await becomeLeader(t.db);
      const claimed = await claimTasks(t.db, { instanceId: 'leader-a', epoch, limit: 3 });
      expect(claimed.map((x) => x.taskId)).toEqual(made.slice(0, 3).map((x) => x.taskId));
    });

    it('claims only the tasks whose rows fit one answer; the rest stay queued for the next call', async () => {
      // 14 tasks of 40 KB node filters: about 575 KB of rows, past one claim's 512 KiB.
      const wide = (i: number) => ({
        filter_set_type: 'union',
        filter_set: [
          {
            filter_type: 'union',
            node_names: Array.from({ length: 40 }, (_, n) => `n${i}-${n}-${'x'.repeat(1000)}`),
          },
        ],
      });
      const made = [];
      for (let i = 0; i < 14; i += 1) made.push(await queuedTask(t.db, { nodeFilter: wide(i) }));
      const epoch = await becomeLeader(t.db);
      const first = await claimTasks(t.db, { instanceId: 'leader-a', epoch, limit: 100 });
      expect(first.length).toBeGreaterThan(0);
      expect(first.length).toBeLessThan(14);
      expect(first.deferred).toBe(14 - first.length);
      expect(first.map((x) => x.taskId)).toEqual(made.slice(0, first.length).map((x) => x.taskId));
      const rowBytes = first.reduce(
        (sum, task) => sum + Buffer.byteLength(JSON.stringify(JSON.stringify(task))),
        0,
      );
      expect(rowBytes).toBeLessThanOrEqual(CLAIM_BUDGET_BYTES);
      // Nothing claimed was lost, nothing left over was claimed: the rest are still queued.
      const rest = await Promise.all(made.slice(first.length).map((x) => getTask(t.db, x.taskId)));
      expect(rest.map((x) => x.status)).toEqual(rest.map(() => 'queued'));
      const second = await claimTasks(t.db, { instanceId: 'leader-a', epoch, limit: 100 });
      expect(second.map((x) => x.taskId)).toEqual(made.slice(first.length).map((x) => x.taskId));
      expect(second.deferred).toBe(0);
      // One task alone always fits: a claim never stalls on a large task.
      const one = await claimTasks(t.db, { instanceId: 'leader-a', epoch, limit: 100 });
      expect([one.length, one.deferred]).toEqual([0, 0]);
    });

    it('moves a task flagged for termination to terminated instead of running it', async () => {
      const task = await queuedTask(t.db);
      // A flag set without the status change (as a pre-existing row might have it).
      await t.db.query({
        text: 'update tasks set terminate = true where task_id = $1::uuid',
        params: [{ type: 'uuid', value: task.taskId }],
        columns: {},
      });
      const epoch = await becomeLeader(t.db);
      const [claimed] = await claimTasks(t.db, { instanceId: 'leader-a', epoch });
      expect(claimed).toMatchObject({ taskId: task.taskId, status: 'terminated' });
    });

    it('refuses callers that are not the live holder at that epoch', async () => {
      await queuedTask(t.db);
      await expect(claimTasks(t.db, { instanceId: 'nobody', epoch: 1 })).rejects.toBeInstanceOf(
        LeaseLostError,
      );
      const epoch = await becomeLeader(t.db);
      await expect(
        claimTasks(t.db, { instanceId: 'leader-a', epoch: epoch + 1 }),
      ).rejects.toBeInstanceOf(LeaseLostError);
      await expect(claimTasks(t.db, { instanceId: 'leader-b', epoch })).rejects.toBeInstanceOf(
        LeaseLostError,
      );
    });
  });

  describe('requeueStrandedTasks', () => {
    it('requeues what a dead epoch left running and terminates what was being terminated', async () => {
      const a = await queuedTask(t.db);
      const b = await queuedTask(t.db);
      const oldEpoch = await becomeLeader(t.db, 'leader-a', 1);
      await claimTasks(t.db, { instanceId: 'leader-a', epoch: oldEpoch, limit: 2 });
      await terminateTask(t.db, b.taskId, { terminatedBy: 'op', recursive: false });
      await expireLease(t.db);
      await expect(
        requeueStrandedTasks(t.db, { epoch: oldEpoch, limit: 10 }),
      ).rejects.toBeInstanceOf(LeaseLostError);
      const epoch = await becomeLeader(t.db, 'leader-b');
      await expect(
        requeueStrandedTasks(t.db, { epoch, limit: 10, instanceId: 'leader-a' }),
      ).rejects.toBeInstanceOf(LeaseLostError);
      expect(await requeueStrandedTasks(t.db, { epoch, limit: 10 })).toEqual({
        requeued: 1,
        terminated: 1,
      });
      const requeued = await getTask(t.db, a.taskId);
      expect(requeued).toMatchObject({ status: 'queued', claimedEpoch: null });
      expect(requeued.messages.at(-1)?.message).toMatch(
        new RegExp(`Requeued: lease epoch ${oldEpoch}`),
      );
      expect((await getTask(t.db, b.taskId)).status).toBe('terminated');
      const [reclaimed] = await claimTasks(t.db, { instanceId: 'leader-b', epoch });
      expect(reclaimed).toMatchObject({ taskId: a.taskId, claimedEpoch: epoch });
      expect(await requeueStrandedTasks(t.db, { epoch, limit: 10 })).toEqual({
        requeued: 0,
        terminated: 0,
      });
    });

    it("ends the dead epoch's whole tree: unfinished subtasks and internal tasks, naming the epoch", async () => {
      const root = await queuedTask(t.db);
      const dead = await becomeLeader(t.db, 'leader-a');
      await claimTasks(t.db, { instanceId: 'leader-a', epoch: dead });
      await updateTask(t.db, root.taskId, { result: { status: 'failure', addFailures: ['n9'] } });
      const sub = async (parentTaskId: string) =>
        (await createTask(t.db, { parentTaskId, action: 'deploy_node', epoch: dead })).task;
      const done = await sub(root.taskId);
      await updateTask(t.db, done.taskId, { status: 'complete', result: { status: 'success' } });
      const running = await sub(root.taskId);
      await updateTask(t.db, running.taskId, { status: 'running' }, { epoch: dead });
      const waiting = await sub(running.taskId);
      const internal = (await createTask(t.db, { action: 'identify_node', epoch: dead })).task;
      await expireLease(t.db);
      const epoch = await becomeLeader(t.db, 'leader-b');
      expect(await requeueStrandedTasks(t.db, { epoch, limit: 10 })).toEqual({
        requeued: 1,
        terminated: 3,
      });
      const after = await getTask(t.db, root.taskId);
      expect(after).toMatchObject({
        status: 'queued',
        resultStatus: 'incomplete',
        resultSuccesses: [],
        resultFailures: [],
      });
      for (const id of [running.taskId, waiting.taskId, internal.taskId]) {
        const task = await getTask(t.db, id);
        expect(task.status, id).toBe('terminated');
        expect(task.messages.at(-1)?.message).toBe(
          `Terminated: lease epoch ${dead} that ran this task has ended`,
        );
      }
      expect((await getTask(t.db, done.taskId)).status).toBe('complete');
      expect((await listSubtasks(t.db, root.taskId, 'active')).map((x) => x.taskId)).toEqual([]);
    });

    it('recovers without a lease once the holder has lapsed (the schedule), and never a live epoch', async () => {
      const task = await queuedTask(t.db);
      const epoch = await becomeLeader(t.db, 'leader-a');
      await claimTasks(t.db, { instanceId: 'leader-a', epoch });
      expect(await requeueStrandedTasks(t.db, { limit: 10 })).toEqual({
        requeued: 0,
        terminated: 0,
      });
      await expireLease(t.db);
      expect(await requeueStrandedTasks(t.db, { limit: 10 })).toEqual({
        requeued: 1,
        terminated: 0,
      });
      expect((await getTask(t.db, task.taskId)).status).toBe('queued');
    });
  });
});
