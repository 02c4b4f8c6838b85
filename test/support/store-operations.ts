import { randomUUID } from 'node:crypto';
import { generateBootActionKey, newBootActionId } from '#shared/bootactions/key.ts';
import type { Db } from '#shared/db/port.ts';
import {
  createBootActionContext,
  getBootAction,
  getBootActionContext,
  listNodeBootActions,
  reportBootAction,
} from '#shared/store/boot-actions.ts';
import { buildDataRead, postBuildData, queryBuildData } from '#shared/store/build-data.ts';
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
  claimPendingEvents,
  markEventsPublished,
  purgePublishedEvents,
  readEventsAfter,
  releaseEventClaims,
} from '#shared/store/outbox.ts';
import {
  claimTasks,
  completeTasks,
  readQueueHealth,
  requeueStrandedTasks,
} from '#shared/store/queue.ts';
import { purgeFinishedTasks } from '#shared/store/retention.ts';
import { runRead, runReadsTogether } from '#shared/store/run.ts';
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
  taskRead,
  taskTreeRead,
  terminateTask,
  updateTask,
} from '#shared/store/tasks.ts';
import { readQueueFigures, readTaskMark } from '#shared/store/wait.ts';

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
  createBootActionContext(
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
  s.internal = (await createTask(db, { action: 'identify_node', epoch: s.epoch })).task.taskId;
};

type Completion = Parameters<typeof completeTasks>[1]['tasks'][number];

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
    completeTasks(db, {
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
    report: Omit<Parameters<typeof reportBootAction>[1], 'actionId' | 'identityKeyHash'>,
  ): StoreOperation['run'] =>
  (db, s) =>
    reportBootAction(db, { actionId: s.bootActionId, identityKeyHash: s.bootKeyHash, ...report });

export const STORE_OPERATIONS: readonly StoreOperation[] = [
  op(claimLease, async (db, s) => {
    s.epoch = (await claimLease(db, { instanceId: ME, graceSeconds: 600 })).epoch;
  }),
  op(renewLease, (db, s) => renewLease(db, { instanceId: ME, epoch: s.epoch, graceSeconds: 600 })),
  op(readLease, (db) => readLease(db)),
  op(createTask, async (db, s) => {
    const created = await createTask(db, {
      action: 'deploy_nodes',
      status: 'queued',
      designRef: 'https://designs.example.com/site.yaml',
    });
    s.task = created.task.taskId;
  }),
  op(
    createTask,
    (db) => createTask(db, { action: 'deploy_nodes', status: 'queued', requestKey: 'k1' }),
    {
      variant: 'idempotent replay',
      setup: (db) => createTask(db, { action: 'deploy_nodes', status: 'queued', requestKey: 'k1' }),
    },
  ),
  op(
    createTask,
    async (db, s) => {
      const created = await createTask(db, {
        action: 'deploy_node',
        parentTaskId: s.task,
        epoch: s.epoch,
      });
      s.sub = created.task.taskId;
    },
    { variant: 'subtask of a parent' },
  ),
  op(createTask, (db, s) => createTask(db, { action: 'identify_node', epoch: s.epoch }), {
    variant: 'internal',
  }),
  op(getTask, (db, s) => getTask(db, s.task)),
  op(getTaskTree, (db, s) => getTaskTree(db, s.task, { layers: -1 }), { variant: 'layers -1' }),
  op(listTasks, (db) => listTasks(db, { limit: 50, status: 'queued' })),
  op(listSubtasks, (db, s) => listSubtasks(db, s.task, 'all')),
  op(listTasksWithin, (db) => listTasksWithin(db, {}, { maxTasks: 500, maxBytes: 384 * 1024 })),
  op(claimTasks, (db, s) => claimTasks(db, { instanceId: ME, epoch: s.epoch, limit: 1 }), {
    variant: 'limit 1',
  }),
  op(claimTasks, (db, s) => claimTasks(db, { instanceId: ME, epoch: s.epoch, limit: 20 }), {
    variant: 'limit 20',
  }),
  op(completeTasks, completeInternal({ status: 'success', addSuccesses: ['n1'] }), {
    setup: createInternalTask,
  }),
  op(completeTasks, completeInternal({ status: 'success' }, { eventKey: 'sqs-complete-1' }), {
    variant: 'event key',
    setup: createInternalTask,
  }),
  op(
    completeTasks,
    completeInternal({ status: 'success', addSuccesses: ['n1'] }, { other: true }),
    {
      variant: 'batch',
      setup: async (db, s) => {
        await createInternalTask(db, s);
        s.other = (await createTask(db, { action: 'identify_node', epoch: s.epoch })).task.taskId;
      },
    },
  ),
  op(appendMessages, (db, s) => appendMessages(db, s.task, [MSG]), { variant: '1' }),
  op(
    appendMessages,
    (db, s) =>
      appendMessages(
        db,
        s.task,
        Array.from({ length: 10 }, (_, i) => ({ ...MSG, message: `m${i}`, error: i === 3 })),
      ),
    { variant: '10' },
  ),
  op(appendMessages, (db, s) => appendMessages(db, s.task, [MSG], { epoch: s.epoch }), {
    variant: 'fenced',
  }),
  op(appendMessages, (db, s) => appendMessages(db, s.task, [{ ...MSG, idempotencyKey: 'm1' }]), {
    variant: 'replay by key',
    setup: (db, s) => appendMessages(db, s.task, [{ ...MSG, idempotencyKey: 'm1' }]),
  }),
  op(listMessages, (db, s) => listMessages(db, s.task, { after: 0, limit: 100 })),
  op(listMessagesOfTasks, (db, s) =>
    listMessagesOfTasks(db, [{ taskId: s.task, from: 1, to: 20 }], { maxBytes: 384 * 1024 }),
  ),
  op(readTaskMark, (db, s) => readTaskMark(db, s.task)),
  op(
    updateTask,
    (db, s) => updateTask(db, s.task, { result: { addSuccesses: ['n1'] } }, { epoch: s.epoch }),
    { variant: 'result, fenced' },
  ),
  op(updateTask, (db, s) => updateTask(db, s.sub, { status: 'running' }, { epoch: s.epoch }), {
    variant: 'status, fenced',
  }),
  op(
    updateTask,
    (db, s) =>
      updateTask(
        db,
        s.sub,
        { status: 'complete', result: { status: 'failure', addFailures: ['n2'] } },
        { epoch: s.epoch },
      ),
    { variant: 'subtask complete' },
  ),
  op(retryTask, (db, s) => retryTask(db, s.sub, { epoch: s.epoch, maxAttempts: 3 })),
  op(rollUpResults, (db, s) =>
    rollUpResults(db, s.task, {
      bubble: { actionFilter: 'deploy_node' },
      align: {},
      epoch: s.epoch,
    }),
  ),
  op(
    postBuildData,
    (db, s) =>
      postBuildData(db, [
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
    postBuildData,
    (db, s) =>
      postBuildData(
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
    queryBuildData,
    (db, s) => queryBuildData(db, { nodeName: s.node, latest: true, verbosity: 1 }),
    {
      variant: 'latest, verbosity 1',
    },
  ),
  op(queryBuildData, (db, s) => queryBuildData(db, { nodeName: s.node, verbosity: 2 }), {
    variant: 'node, verbosity 2',
  }),
  op(
    queryBuildData,
    (db, s) => queryBuildData(db, { nodeName: s.node, taskId: s.task, verbosity: 1 }),
    { variant: 'node and task' },
  ),
  op(
    runReadsTogether,
    (db, s) =>
      runReadsTogether(
        db,
        taskRead(s.task),
        buildDataRead({ taskIds: [s.task], verbosity: 2, limit: 10_000 }),
      ),
    { variant: 'a task and its build data' },
  ),
  op(
    runReadsTogether,
    (db, s) =>
      runReadsTogether(
        db,
        taskTreeRead(s.task, { layers: -1 }),
        buildDataRead({ taskTree: { rootTaskId: s.task, layers: -1 }, verbosity: 2 }),
      ),
    { variant: 'a task tree and its build data' },
  ),
  op(runRead, (db, s) => runRead(db, taskRead(s.task)), { variant: 'one read' }),
  op(createBootActionContext, createBootContext),
  // The same node again: its context and actions are replaced.
  op(createBootActionContext, createBootContext, { variant: 'replacing' }),
  op(listNodeBootActions, async (db, s) => {
    s.bootActionId = (await listNodeBootActions(db, s.bootNode))[0]?.actionId ?? '';
  }),
  op(getBootActionContext, (db, s) => getBootActionContext(db, s.bootNode)),
  op(getBootAction, (db, s) => getBootAction(db, s.bootActionId)),
  op(
    reportBootAction,
    nodeReport({
      details: [
        { message: 'a', error: false },
        { message: 'b', error: true },
      ],
    }),
    { variant: 'details' },
  ),
  op(
    reportBootAction,
    nodeReport({ status: 'success', details: [{ message: 'done', error: false }] }),
    { variant: 'final' },
  ),
  op(terminateTask, (db, s) => terminateTask(db, s.task, { terminatedBy: ME, recursive: true }), {
    variant: 'recursive',
  }),
  op(requeueStrandedTasks, (db, s) => requeueStrandedTasks(db, { epoch: s.epoch, limit: 100 })),
  op(requeueStrandedTasks, (db) => requeueStrandedTasks(db, { limit: 100 }), {
    variant: 'schedule',
  }),
  op(purgeFinishedTasks, (db) => purgeFinishedTasks(db, { olderThanDays: 1, batchSize: 100 })),
  op(claimPendingEvents, async (db, s) => {
    const events = await claimPendingEvents(db, { limit: 10, claimSeconds: 60 });
    s.eventIds = events.map((e) => e.eventId);
  }),
  op(releaseEventClaims, (db, s) => releaseEventClaims(db, s.eventIds)),
  op(markEventsPublished, (db, s) => markEventsPublished(db, s.eventIds)),
  op(readEventsAfter, (db) => readEventsAfter(db, 0, 100)),
  op(purgePublishedEvents, (db) => purgePublishedEvents(db, { keepSeconds: 3_600, limit: 100 })),
  op(readQueueFigures, (db) => readQueueFigures(db, { defaultSeconds: 3_600, boundsSeconds: {} })),
  op(readQueueHealth, (db) => readQueueHealth(db, { staleAfterSeconds: 60, listLimit: 10 })),
  op(claimMaintenance, (db) => claimMaintenance(db, { job: 'retention', intervalSeconds: 60 })),
  op(checkDatabase, (db) => checkDatabase(db), { variant: 'health' }),
  op(abdicateLease, (db, s) => abdicateLease(db, { instanceId: ME, epoch: s.epoch })),
];
