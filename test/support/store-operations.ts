import { randomUUID } from 'node:crypto';
import { generateBootActionKey, newBootActionId } from '#shared/bootactions/key.ts';
import type { Db } from '#shared/db/port.ts';
import * as store from '#test/support/store.ts';

/**
 * Every store operation, once or more (one entry per shape of statement it can send), in an order
 * where each finds the state it needs: a leader, a queued task, a parent with a subtask, a node's
 * boot actions. `test/store/statements.test.ts` runs the list on every driver and checks each entry
 * costs one statement and one Data API call, and that every async function the store modules
 * export is called by some entry; the bench's statements phase reports the same list.
 */
export interface StoreOperation {
  /** The store function's name, with the case in brackets when it has several. */
  readonly name: string;
  /** The store export it calls. */
  readonly operation: StoreFunction;
  /** Uncounted preparation (the first call of a replay, a task to complete). */
  readonly setup?: (db: Db, s: OperationState) => Promise<unknown>;
  /** The counted call. */
  readonly run: (db: Db, s: OperationState) => Promise<unknown>;
}

/** Any store function: a Db first, whatever follows. */
export type StoreFunction = (db: Db, ...rest: never[]) => Promise<unknown>;

/** What earlier operations leave for later ones. */
export interface OperationState {
  epoch: number;
  task: string;
  sub: string;
  /** An internal task (no parent) for the batched completion. */
  internal: string;
  /** A second one, for a completion of more than one task. */
  other: string;
  node: string;
  bootNode: string;
  bootKeyHash: string;
  bootActionId: string;
  eventIds: number[];
}

/** A fresh state for one run of the list (the names it makes are unique to the run). */
export function newOperationState(): OperationState {
  return {
    epoch: 0,
    task: '',
    sub: '',
    internal: '',
    other: '',
    node: `node-${randomUUID()}`,
    bootNode: `boot-${randomUUID()}`,
    bootKeyHash: generateBootActionKey().hash,
    bootActionId: '',
    eventIds: [],
  };
}

const ME = 'store-operations';
const MSG = { message: 'step done', error: false, contextType: 'node', context: 'n1' };

function op(
  operation: StoreFunction,
  run: StoreOperation['run'],
  options: { variant?: string; setup?: StoreOperation['setup'] } = {},
): StoreOperation {
  return {
    name: options.variant ? `${operation.name} (${options.variant})` : operation.name,
    operation,
    run,
    ...(options.setup ? { setup: options.setup } : {}),
  };
}

function bootActions() {
  return [0, 1, 2].map((i) => ({
    actionId: newBootActionId(),
    actionName: `action-${i}`,
    actionStatus: 'incomplete' as const,
  }));
}

/** A boot-action context of three fresh actions for the state's node, under its subtask. */
const createBootContext: StoreOperation['run'] = (db, s) =>
  store.createBootActionContext(
    db,
    {
      nodeName: s.bootNode,
      taskId: s.sub,
      identityKeyHash: s.bootKeyHash,
      actions: bootActions(),
    },
    { epoch: s.epoch },
  );

/** A task the orchestrator made for itself under the state's lease (`s.internal`). */
const createInternalTask: NonNullable<StoreOperation['setup']> = async (db, s) => {
  s.internal = (
    await store.createTask(db, { action: 'identify_node', epoch: s.epoch })
  ).task.taskId;
};

type Completion = Parameters<typeof store.completeTasks>[1]['tasks'][number];

/**
 * The state's internal task completed with this result under the state's epoch: with an SQS
 * event key, or beside `s.other` terminated (a batch of two).
 */
const completeInternal =
  (
    result: NonNullable<Completion['result']>,
    options: { eventKey?: string; other?: boolean } = {},
  ): StoreOperation['run'] =>
  (db, s) =>
    store.completeTasks(db, {
      epoch: s.epoch,
      ...(options.eventKey ? { eventKey: options.eventKey } : {}),
      tasks: [
        { taskId: s.internal, result },
        ...(options.other ? [{ taskId: s.other, status: 'terminated' as const }] : []),
      ],
    });

/** The node's report on the state's boot action, with its key. */
const nodeReport =
  (
    report: Omit<Parameters<typeof store.reportBootAction>[1], 'actionId' | 'identityKeyHash'>,
  ): StoreOperation['run'] =>
  (db, s) =>
    store.reportBootAction(db, {
      actionId: s.bootActionId,
      identityKeyHash: s.bootKeyHash,
      ...report,
    });

export const STORE_OPERATIONS: readonly StoreOperation[] = [
  op(store.claimLease, async (db, s) => {
    s.epoch = (await store.claimLease(db, { instanceId: ME, graceSeconds: 600 })).epoch;
  }),
  op(store.renewLease, (db, s) =>
    store.renewLease(db, { instanceId: ME, epoch: s.epoch, graceSeconds: 600 }),
  ),
  op(store.readLease, (db) => store.readLease(db)),
  op(store.createTask, async (db, s) => {
    const created = await store.createTask(db, {
      action: 'deploy_nodes',
      status: 'queued',
      designRef: 'https://designs.example.com/site.yaml',
    });
    s.task = created.task.taskId;
  }),
  op(
    store.createTask,
    (db) => store.createTask(db, { action: 'deploy_nodes', status: 'queued', requestKey: 'k1' }),
    {
      variant: 'idempotent replay',
      setup: (db) =>
        store.createTask(db, { action: 'deploy_nodes', status: 'queued', requestKey: 'k1' }),
    },
  ),
  op(
    store.createTask,
    async (db, s) => {
      const created = await store.createTask(db, {
        action: 'deploy_node',
        parentTaskId: s.task,
        epoch: s.epoch,
      });
      s.sub = created.task.taskId;
    },
    { variant: 'subtask of a parent' },
  ),
  op(
    store.createTask,
    (db, s) => store.createTask(db, { action: 'identify_node', epoch: s.epoch }),
    {
      variant: 'internal',
    },
  ),
  op(store.getTask, (db, s) => store.getTask(db, s.task)),
  op(store.getTaskTree, (db, s) => store.getTaskTree(db, s.task, { layers: -1 }), {
    variant: 'layers -1',
  }),
  op(store.getTaskTree, (db, s) => store.getTaskTree(db, s.task, { layers: -1, errors: 'only' }), {
    variant: 'the root and the tasks with errors',
  }),
  op(store.getTaskTree, (db, s) => store.getTaskTree(db, s.task, { layers: -1, errors: 'first' }), {
    variant: 'the tasks with errors first',
  }),
  op(store.listTasks, (db) => store.listTasks(db, { limit: 50, status: 'queued' })),
  op(store.listSubtasks, (db, s) => store.listSubtasks(db, s.task, 'all')),
  op(store.listTasksWithin, (db) =>
    store.listTasksWithin(db, {}, { maxTasks: 500, maxBytes: 384 * 1024 }),
  ),
  op(
    store.claimTasks,
    (db, s) => store.claimTasks(db, { instanceId: ME, epoch: s.epoch, limit: 1 }),
    {
      variant: 'limit 1',
    },
  ),
  op(
    store.claimTasks,
    (db, s) => store.claimTasks(db, { instanceId: ME, epoch: s.epoch, limit: 20 }),
    {
      variant: 'limit 20',
    },
  ),
  op(store.completeTasks, completeInternal({ status: 'success', addSuccesses: ['n1'] }), {
    setup: createInternalTask,
  }),
  op(store.completeTasks, completeInternal({ status: 'success' }, { eventKey: 'sqs-complete-1' }), {
    variant: 'event key',
    setup: createInternalTask,
  }),
  op(
    store.completeTasks,
    completeInternal({ status: 'success', addSuccesses: ['n1'] }, { other: true }),
    {
      variant: 'batch',
      setup: async (db, s) => {
        await createInternalTask(db, s);
        s.other = (
          await store.createTask(db, { action: 'identify_node', epoch: s.epoch })
        ).task.taskId;
      },
    },
  ),
  op(store.appendMessages, (db, s) => store.appendMessages(db, s.task, [MSG]), { variant: '1' }),
  op(
    store.appendMessages,
    (db, s) =>
      store.appendMessages(
        db,
        s.task,
        Array.from({ length: 10 }, (_, i) => ({ ...MSG, message: `m${i}`, error: i === 3 })),
      ),
    { variant: '10' },
  ),
  op(store.appendMessages, (db, s) => store.appendMessages(db, s.task, [MSG], { epoch: s.epoch }), {
    variant: 'fenced',
  }),
  op(
    store.appendMessages,
    (db, s) => store.appendMessages(db, s.task, [{ ...MSG, idempotencyKey: 'm1' }]),
    {
      variant: 'replay by key',
      setup: (db, s) => store.appendMessages(db, s.task, [{ ...MSG, idempotencyKey: 'm1' }]),
    },
  ),
  op(store.listMessages, (db, s) => store.listMessages(db, s.task, { after: 0, limit: 100 })),
  op(store.listMessagesOfTasks, (db, s) =>
    store.listMessagesOfTasks(db, [{ taskId: s.task, from: 1, to: 20 }], { maxBytes: 384 * 1024 }),
  ),
  op(store.readTaskMark, (db, s) => store.readTaskMark(db, s.task)),
  op(
    store.updateTask,
    (db, s) =>
      store.updateTask(db, s.task, { result: { addSuccesses: ['n1'] } }, { epoch: s.epoch }),
    { variant: 'result, fenced' },
  ),
  op(
    store.updateTask,
    (db, s) => store.updateTask(db, s.sub, { status: 'running' }, { epoch: s.epoch }),
    {
      variant: 'status, fenced',
    },
  ),
  op(
    store.updateTask,
    (db, s) =>
      store.updateTask(
        db,
        s.sub,
        { status: 'complete', result: { status: 'failure', addFailures: ['n2'] } },
        { epoch: s.epoch },
      ),
    { variant: 'subtask complete' },
  ),
  op(store.retryTask, (db, s) => store.retryTask(db, s.sub, { epoch: s.epoch, maxAttempts: 3 })),
  op(store.rollUpResults, (db, s) =>
    store.rollUpResults(db, s.task, {
      bubble: { actionFilter: 'deploy_node' },
      align: {},
      epoch: s.epoch,
    }),
  ),
  op(
    store.postBuildData,
    (db, s) =>
      store.postBuildData(db, [
        {
          nodeName: s.node,
          taskId: s.task,
          generator: 'lshw',
          dataFormat: 'text/plain',
          dataElement: 'x'.repeat(30_000),
        },
      ]),
    { variant: '1' },
  ),
  op(
    store.postBuildData,
    (db, s) =>
      store.postBuildData(
        db,
        [
          {
            nodeName: s.node,
            taskId: s.task,
            generator: 'lldp',
            dataFormat: 'text/xml',
            dataElement: '<y/>',
          },
        ],
        { epoch: s.epoch },
      ),
    { variant: 'fenced' },
  ),
  op(
    store.queryBuildData,
    (db, s) => store.queryBuildData(db, { nodeName: s.node, latest: true, verbosity: 1 }),
    {
      variant: 'latest, verbosity 1',
    },
  ),
  op(
    store.queryBuildData,
    (db, s) => store.queryBuildData(db, { nodeName: s.node, verbosity: 2 }),
    {
      variant: 'node, verbosity 2',
    },
  ),
  op(
    store.queryBuildData,
    (db, s) => store.queryBuildData(db, { nodeName: s.node, taskId: s.task, verbosity: 1 }),
    { variant: 'node and task' },
  ),
  op(
    store.runReadsTogether,
    (db, s) =>
      store.runReadsTogether(
        db,
        store.taskRead(s.task),
        store.buildDataRead({ taskIds: [s.task], verbosity: 2, limit: 10_000 }),
      ),
    { variant: 'a task and its build data' },
  ),
  op(
    store.runReadsTogether,
    (db, s) =>
      store.runReadsTogether(
        db,
        store.taskTreeRead(s.task, { layers: -1 }),
        store.buildDataRead({ taskTree: { rootTaskId: s.task, layers: -1 }, verbosity: 2 }),
      ),
    { variant: 'a task tree and its build data' },
  ),
  op(store.runRead, (db, s) => store.runRead(db, store.taskRead(s.task)), { variant: 'one read' }),
  op(store.createBootActionContext, createBootContext),
  // The same node again: its context and actions are replaced.
  op(store.createBootActionContext, createBootContext, { variant: 'replacing' }),
  op(store.listNodeBootActions, async (db, s) => {
    s.bootActionId = (await store.listNodeBootActions(db, s.bootNode))[0]?.actionId ?? '';
  }),
  op(store.getBootActionContext, (db, s) => store.getBootActionContext(db, s.bootNode)),
  op(store.getBootAction, (db, s) => store.getBootAction(db, s.bootActionId)),
  op(
    store.reportBootAction,
    nodeReport({
      details: [
        { message: 'a', error: false },
        { message: 'b', error: true },
      ],
    }),
    { variant: 'details' },
  ),
  op(
    store.reportBootAction,
    nodeReport({ status: 'success', details: [{ message: 'done', error: false }] }),
    { variant: 'final' },
  ),
  op(
    store.terminateTask,
    (db, s) => store.terminateTask(db, s.task, { terminatedBy: ME, recursive: true }),
    {
      variant: 'recursive',
    },
  ),
  op(store.requeueStrandedTasks, (db, s) =>
    store.requeueStrandedTasks(db, { epoch: s.epoch, limit: 100 }),
  ),
  op(store.requeueStrandedTasks, (db) => store.requeueStrandedTasks(db, { limit: 100 }), {
    variant: 'schedule',
  }),
  op(store.purgeFinishedTasks, (db) =>
    store.purgeFinishedTasks(db, { olderThanDays: 1, batchSize: 100 }),
  ),
  op(store.claimPendingEvents, async (db, s) => {
    const events = await store.claimPendingEvents(db, { limit: 10, claimSeconds: 60 });
    s.eventIds = events.map((e) => e.eventId);
  }),
  op(store.releaseEventClaims, (db, s) => store.releaseEventClaims(db, s.eventIds)),
  op(store.markEventsPublished, (db, s) => store.markEventsPublished(db, s.eventIds)),
  op(store.readEventsAfter, (db) => store.readEventsAfter(db, 0, 100)),
  op(store.purgePublishedEvents, (db) =>
    store.purgePublishedEvents(db, { keepSeconds: 3_600, limit: 100 }),
  ),
  op(store.readQueueFigures, (db) =>
    store.readQueueFigures(db, { defaultSeconds: 3_600, boundsSeconds: {} }),
  ),
  op(store.readQueueHealth, (db) =>
    store.readQueueHealth(db, { staleAfterSeconds: 60, listLimit: 10 }),
  ),
  op(store.claimMaintenance, (db) =>
    store.claimMaintenance(db, { job: 'retention', intervalSeconds: 60 }),
  ),
  op(store.checkDatabase, (db) => store.checkDatabase(db), { variant: 'health' }),
  op(store.abdicateLease, (db, s) => store.abdicateLease(db, { instanceId: ME, epoch: s.epoch })),
];
