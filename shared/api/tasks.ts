import type * as z from '#shared/zod.ts';
import type { Deps } from '../deps.ts';
import { type Action, isUserAction, USER_ACTIONS } from '../domain.ts';
import { PreconditionRequiredError, ValidationError } from '../errors.ts';
import {
  EMBEDDED_MESSAGES,
  messageAnswerBytes,
  READ_BUDGET_BYTES,
  ROW_FRAMING_BYTES,
  withMeta,
} from '../store/bounds.ts';
import { type BuildDataPage, buildDataRead, queryBuildData } from '../store/build-data.ts';
import { claimTasks, completeTasks } from '../store/queue.ts';
import { purgeFinishedTasks } from '../store/retention.ts';
import { runReadsTogether } from '../store/run.ts';
import * as taskStore from '../store/tasks.ts';
import type {
  MessageRange,
  MessageRecord,
  SubtaskSelection,
  TaskChange,
  TaskRecord,
  TaskWithMessages,
  TreeTask,
} from '../store/types.ts';
import { type AnnounceDeps, announced, recordClaimed, recordFinished } from './announce.ts';
import { AnswerBudget } from './answer-budget.ts';
import { bounds } from './bounds.ts';
import { requestFingerprint } from './idempotency.ts';
import type {
  ClaimBodySchema,
  CompleteTasksBodySchema,
  CompletionOutcomeSchema,
  CreateSubtaskBodySchema,
  CreateTaskBodySchema,
  ListTasksQuerySchema,
  NodeFilterSchema,
  ResultChangeSchema,
  RollupBodySchema,
} from './schemas.ts';
import {
  API_PREFIX,
  type StatusDict,
  type TaskDict,
  toBuildDataDict,
  toStatusDict,
  toTaskDict,
} from './shapes.ts';

type Db = Pick<Deps, 'db'> & AnnounceDeps;

/** Who asked for a write: `created_by` and the stored (never returned) request context. */
export interface Origin {
  readonly createdBy: string | null;
  readonly requestContext: Record<string, unknown>;
  /** Idempotency key of the request (header or SQS message id). */
  readonly requestKey?: string | undefined;
}

/**
 * What a create's idempotency key is compared on: the fields that decide the task (not the
 * epoch: a new leader replaying its predecessor's registration makes the same request).
 */
function createFingerprint(input: CreateAnyTask): string {
  return requestFingerprint({
    action: input.action,
    task_id: input.task_id ?? null,
    design_ref: input.design_ref ?? null,
    node_filter: input.node_filter ?? null,
    retry: input.retry ?? null,
  });
}

/** Default page size of `GET /tasks` (Drydock returned every task; defect 13). */
export const DEFAULT_TASK_PAGE = 100;

/**
 * Creates a top-level task as `POST /tasks` does: only the user-creatable actions, a design
 * reference required, status `queued`. Returns the task and whether this call created it (a
 * replayed idempotency key returns the first one).
 */
export async function createUserTask(
  deps: Db,
  input: z.Parsed<typeof CreateTaskBodySchema> | CreateAnyTask,
  origin: Origin,
): Promise<{ task: TaskDict; created: boolean }> {
  if (input.epoch !== undefined)
    return createInternalTask(deps, { ...input, epoch: input.epoch }, origin);
  if (!isUserAction(input.action)) {
    throw new ValidationError(
      `Unsupported action ${input.action}; a top-level task is one of ${USER_ACTIONS.join(', ')}.`,
      [{ path: 'action', message: 'not a user-creatable action' }],
    );
  }
  if (!input.design_ref) {
    throw new ValidationError('design_ref is required for a top-level task.', [
      { path: 'design_ref', message: 'required' },
    ]);
  }
  bounds.nodeFilter(input.node_filter);
  const { task, created } = await taskStore.createTask(deps.db, {
    ...('task_id' in input && input.task_id ? { taskId: input.task_id } : {}),
    action: input.action,
    designRef: input.design_ref,
    nodeFilter: input.node_filter ?? null,
    status: 'queued',
    createdBy: origin.createdBy,
    requestContext: origin.requestContext,
    ...(origin.requestKey
      ? { requestKey: origin.requestKey, requestHash: createFingerprint(input) }
      : {}),
  });
  // A replay returns the first task and writes nothing: nothing to publish (what an earlier
  // attempt left pending goes with the next write or the schedule).
  return announced(deps, { task: toTaskDict(task), created }, { wroteEvents: created });
}

/** A create that may name its id, parent, retry sequence and epoch (subtasks, SQS events). */
export interface CreateAnyTask {
  action: Action;
  task_id?: string | undefined;
  design_ref?: string | null | undefined;
  node_filter?: z.Parsed<typeof NodeFilterSchema> | null | undefined;
  retry?: number | undefined;
  epoch?: number | undefined;
}

/**
 * The lease holder's own parentless task (Drydock's IdentifyNode check task, the storage task
 * DeployNodes runs without registering it, the health Noop): any of the 37 actions, status
 * `requested`, run in-process by the orchestrator and never queued; fenced by the epoch, which
 * owns it (recovery ends it if that epoch dies).
 */
export async function createInternalTask(
  deps: Db,
  input: CreateAnyTask & { epoch: number },
  origin: Origin,
): Promise<{ task: TaskDict; created: boolean }> {
  bounds.nodeFilter(input.node_filter);
  const { task, created } = await taskStore.createTask(deps.db, {
    ...(input.task_id ? { taskId: input.task_id } : {}),
    action: input.action,
    designRef: input.design_ref ?? null,
    nodeFilter: input.node_filter ?? null,
    status: 'requested',
    epoch: input.epoch,
    ...(input.retry !== undefined ? { retry: input.retry } : {}),
    createdBy: origin.createdBy,
    requestContext: origin.requestContext,
    ...(origin.requestKey
      ? { requestKey: origin.requestKey, requestHash: createFingerprint(input) }
      : {}),
  });
  // A replay returns the first task and writes nothing: nothing to publish (what an earlier
  // attempt left pending goes with the next write or the schedule).
  return announced(deps, { task: toTaskDict(task), created }, { wroteEvents: created });
}

/** Refuses (428) an orchestrator-only write that came without the lease epoch. */
function requireEpoch(epoch: number | undefined, what: string): number {
  if (epoch === undefined) {
    throw new PreconditionRequiredError(
      `${what} is an orchestrator write: it must carry the lease holder's epoch.`,
    );
  }
  return epoch;
}

/**
 * Registers a subtask under a parent (status `requested`, any action, Drydock's retry sequence
 * when given), refused while the parent is terminating. Only the lease holder registers
 * subtasks, so the epoch is required and fences the write. A caller-chosen `task_id` makes a
 * retried registration return the first one; keys are scoped to the parent, so a key or id
 * already used elsewhere never answers with that other task (an id registered elsewhere is 409,
 * a key replayed with another body 422).
 */
export async function createSubtask(
  deps: Db,
  parentTaskId: string,
  input: z.Parsed<typeof CreateSubtaskBodySchema> | CreateAnyTask,
  origin: Origin,
): Promise<{ task: TaskDict; created: boolean }> {
  const epoch = requireEpoch(input.epoch, 'Creating a subtask');
  bounds.nodeFilter(input.node_filter);
  const requestKey = origin.requestKey ?? (input.task_id ? `subtask:${input.task_id}` : undefined);
  const { task, created } = await taskStore.createTask(deps.db, {
    ...(input.task_id ? { taskId: input.task_id } : {}),
    parentTaskId,
    action: input.action,
    designRef: input.design_ref ?? null,
    nodeFilter: input.node_filter ?? null,
    status: 'requested',
    epoch,
    ...(input.retry !== undefined ? { retry: input.retry } : {}),
    createdBy: origin.createdBy,
    requestContext: origin.requestContext,
    ...(requestKey ? { requestKey, requestHash: createFingerprint(input) } : {}),
  });
  // A replay returns the first task and writes nothing: nothing to publish (what an earlier
  // attempt left pending goes with the next write or the schedule).
  return announced(deps, { task: toTaskDict(task), created }, { wroteEvents: created });
}

/** Tasks per internal page of the full listing; the byte budget usually ends a page first. */
const FULL_LIST_TASKS = 500;
/** Messages per internal page of the full listing. */
const FULL_LIST_MESSAGES = 2000;
/**
 * Bytes per internal page, counted as the Data API carries them (each value's JSON text and each
 * row's framing): well under its 1 MiB response limit.
 */
const FULL_LIST_BYTES = 384 * 1024;

/**
 * The message ranges of the next statement: the pending ranges, in order, up to `rows`
 * messages (a task with more is split). A task's messages are numbered 1..messageCount with no
 * gap, so the ranges name exactly the rows to read and no statement reads more than `rows`.
 */
function takeRanges(pending: MessageRange[], rows: number): MessageRange[] {
  const chunk: MessageRange[] = [];
  let left = rows;
  while (left > 0 && pending.length > 0) {
    const range = pending[0] as MessageRange;
    const size = range.to - range.from + 1;
    if (size <= left) {
      chunk.push(range);
      pending.shift();
      left -= size;
    } else {
      chunk.push({ ...range, to: range.from + left - 1 });
      pending[0] = { ...range, from: range.from + left };
      left = 0;
    }
  }
  return chunk;
}

/** Bytes a message adds to a task answer, counted as `store/tasks.ts` counts it for one task. */
function messageBytes(m: MessageRecord): number {
  return messageAnswerBytes(m) + ROW_FRAMING_BYTES.embeddedMessage;
}

/**
 * Every task matching the filters, newest first, each with its messages: what Drydock's
 * `GET /tasks` answers (Shipyard walks it for subtask errors). Read in pages sized so that no
 * statement, and no Data API response, passes its limits: one statement per page of tasks,
 * which also reads the first page of their messages, and one per further page of messages (a
 * listing that fits costs one statement). Messages appended while the listing runs, past the
 * count the task page read, are left for the next listing.
 *
 * The answer is bounded like every other (`answer-budget.ts`): each task embeds its first
 * messages as `GET /tasks/{id}` does (at most `EMBEDDED_MESSAGES` and `READ_BUDGET_BYTES`, the
 * rest named in its `truncated`), and the list stops before the task that would pass
 * `ANSWER_BUDGET_BYTES`; `nextCursor` then continues the listing (`GET /tasks?cursor=…`).
 */
export async function listEveryTask(
  deps: Db,
  query: z.Parsed<typeof ListTasksQuerySchema>,
  budget: AnswerBudget = new AnswerBudget(),
): Promise<TaskDict[] & { nextCursor: string | null }> {
  const filter = {
    ...(query.status ? { status: query.status } : {}),
    ...(query.action ? { action: query.action } : {}),
    ...(query.parent_task_id ? { parentTaskId: query.parent_task_id } : {}),
    ...(query.top_level ? { topLevel: true } : {}),
    ...(query.created_by ? { createdBy: query.created_by } : {}),
  };
  const out: TaskDict[] = [];
  let cursor: string | null = query.cursor ?? null;
  do {
    // The page of tasks and its first messages in one statement; a listing whose messages do not
    // fit that statement reads the rest in pages of their own.
    const page: taskStore.TaskPageWithin = await taskStore.listTasksWithin(
      deps.db,
      { ...filter, ...(cursor ? { cursor } : {}) },
      { maxTasks: FULL_LIST_TASKS, maxBytes: FULL_LIST_BYTES },
      { perTask: EMBEDDED_MESSAGES, rows: FULL_LIST_MESSAGES, maxBytes: FULL_LIST_BYTES },
    );
    const messages = new Map<string, MessageRecord[]>();
    const embedded = new Map<string, number>();
    const pending: MessageRange[] = taskStore.messageRanges(page.tasks, EMBEDDED_MESSAGES);
    // Messages are read only while the answer has room for them: a page may name far more
    // than one answer carries.
    let room = budget.left;
    let first: taskStore.MessageBatch | undefined = page.messages;
    while (pending.length > 0 && room > 0) {
      const chunk = takeRanges(pending, FULL_LIST_MESSAGES);
      const batch =
        first ??
        (await taskStore.listMessagesOfTasks(deps.db, chunk, { maxBytes: FULL_LIST_BYTES }));
      first = undefined;
      const full = new Set<string>();
      for (const { taskId, ...message } of batch.messages) {
        const size = messageBytes(message);
        const used = embedded.get(taskId) ?? 0;
        room -= size;
        if (full.has(taskId) || used + size > READ_BUDGET_BYTES) {
          full.add(taskId);
          continue;
        }
        embedded.set(taskId, used + size);
        const list = messages.get(taskId) ?? [];
        list.push(message);
        messages.set(taskId, list);
      }
      if (batch.next) {
        // Cut by size: what the statement did not return goes back in front, in order.
        const { index, sequence } = batch.next;
        const cut = chunk[index] as MessageRange;
        const rest = chunk.slice(index + 1);
        if (sequence < cut.to) rest.unshift({ ...cut, from: sequence + 1 });
        pending.unshift(...rest);
      }
      // A task whose embedded messages reached the bound reads no more of them.
      if (full.size > 0)
        pending.splice(0, pending.length, ...pending.filter((r) => !full.has(r.taskId)));
    }
    // Tasks whose messages were not all read (the answer ran out of room first) end the answer.
    const unread = new Set(pending.map((range) => range.taskId));
    for (const [i, task] of page.tasks.entries()) {
      const list = messages.get(task.taskId) ?? [];
      const dict = withTruncation(toTaskDict(task, list), { ...task, messages: list });
      if ((unread.has(task.taskId) && out.length > 0) || !budget.take(dict)) {
        // The answer stops before this task; the listing continues from the one before it.
        return withMeta(out, { nextCursor: i > 0 ? (page.cursors[i - 1] as string) : cursor });
      }
      out.push(dict);
      if (unread.has(task.taskId)) {
        return withMeta(out, { nextCursor: page.cursors[i] as string });
      }
    }
    cursor = page.nextCursor;
  } while (cursor);
  return withMeta(out, { nextCursor: null });
}

/** A page of tasks, newest first, and the cursor of the next page (null on the last). */
export async function listTaskPage(
  deps: Db,
  query: z.Parsed<typeof ListTasksQuerySchema>,
): Promise<{ tasks: TaskDict[]; nextCursor: string | null; limit: number }> {
  const limit = query.limit ?? DEFAULT_TASK_PAGE;
  const page = await taskStore.listTasks(deps.db, {
    limit,
    ...(query.status ? { status: query.status } : {}),
    ...(query.action ? { action: query.action } : {}),
    ...(query.parent_task_id ? { parentTaskId: query.parent_task_id } : {}),
    ...(query.top_level ? { topLevel: true } : {}),
    ...(query.created_by ? { createdBy: query.created_by } : {}),
    ...(query.cursor ? { cursor: query.cursor } : {}),
  });
  return { tasks: page.tasks.map((task) => toTaskDict(task)), nextCursor: page.nextCursor, limit };
}

/**
 * Subtasks of a task in registration order, within one read's budget; `nextCursor` continues
 * after the last one when it cut the list.
 */
export async function listTaskSubtasks(
  deps: Db,
  taskId: string,
  which: SubtaskSelection,
  cursor?: string,
): Promise<TaskDict[] & { nextCursor: string | null }> {
  const tasks = await taskStore.listSubtasks(deps.db, taskId, which, { cursor });
  return withMeta(
    tasks.map((task) => toTaskDict(task)),
    { nextCursor: tasks.nextCursor },
  );
}

export interface ReadTaskOptions {
  builddata: boolean;
  subtaskerrors: boolean;
  /** 0 = the task alone; N = N layers as a map; -1 = the whole tree. */
  layers: number;
}

/** What a task answer embeds of build data: every item of the tasks shown, payloads included. */
const EMBEDDED_BUILD_DATA = { verbosity: 2, limit: 10_000 } as const;

/**
 * Build data of the given tasks, keyed by task id (read in the same statement as the task or
 * tree, within one read's budget); `cut` when it left items out (the answer says where to page
 * them).
 */
function buildDataByTask(taskIds: readonly string[], items: BuildDataPage) {
  const byTask = new Map(
    taskIds.map((taskId) => [taskId, [] as ReturnType<typeof toBuildDataDict>[]]),
  );
  for (const item of items) byTask.get(item.taskId)?.push(toBuildDataDict(item));
  return Object.assign(byTask, { cut: items.nextCursor !== null });
}

/** The note of an answer whose embedded build data was cut: where each task's is paged. */
function buildDataTruncation(taskId: string): NonNullable<TaskDict['truncated']> {
  return { build_data: { next: `${API_PREFIX}/tasks/${taskId}/builddata` } };
}

/**
 * A task answer with its embedded messages cut says so (answers stay within the read budget,
 * `store/bounds.ts`): how many are shown, how many the task has, and where the rest are.
 */
function withTruncation(dict: TaskDict, task: TaskWithMessages): TaskDict {
  const shown = task.messages.length;
  if (shown >= task.messageCount) return dict;
  const after = task.messages.at(-1)?.sequence ?? 0;
  dict.truncated = {
    ...dict.truncated,
    messages: {
      shown,
      total: task.messageCount,
      next: `${API_PREFIX}/tasks/${task.taskId}/messages?after=${after}`,
    },
  };
  return dict;
}

/** The tree answer's note when not every task of the tree fitted. */
function treeTruncation(tree: taskStore.TaskTree, rootTaskId: string): TaskDict['truncated'] {
  if (tree.length >= tree.total) return undefined;
  return {
    tasks: {
      shown: tree.length,
      total: tree.total,
      next: `${API_PREFIX}/tasks?parent_task_id=${rootTaskId}`,
    },
  };
}

function subtaskErrors(tree: readonly TreeTask[]): Record<string, StatusDict> {
  const errors: Record<string, StatusDict> = {};
  for (const node of tree) {
    if (node.layer === 1 || node.errorCount === 0) continue;
    errors[node.taskId] = { ...toStatusDict(node, node.messages), task_id: node.taskId };
  }
  return errors;
}

/**
 * `GET /tasks/{id}` in Drydock's shapes: the task (with `build_data` and `subtask_errors` when
 * asked), or with `layers` the map `{init_task_id, <id>: task, …}`. The tree is read in one
 * statement; `subtask_errors` covers the whole tree whatever `layers` says, as Drydock's did.
 */
export async function readTask(
  deps: Db,
  taskId: string,
  options: ReadTaskOptions,
): Promise<{ body: TaskDict | Record<string, unknown>; version: number }> {
  if (!options.subtaskerrors && options.layers === 0) {
    // With its build data: the task and the build data share one statement (one round trip).
    const [task, items] = options.builddata
      ? await runReadsTogether(
          deps.db,
          taskStore.taskRead(taskId),
          buildDataRead({ taskIds: [taskId], ...EMBEDDED_BUILD_DATA }),
        )
      : [await taskStore.getTask(deps.db, taskId), undefined];
    const body = withTruncation(toTaskDict(task, task.messages), task);
    if (items) {
      const buildData = buildDataByTask([taskId], items);
      body.build_data = buildData.get(taskId) ?? [];
      if (buildData.cut) body.truncated = { ...body.truncated, ...buildDataTruncation(taskId) };
    }
    return { body, version: task.version };
  }
  // `subtask_errors` covers the whole tree (as Drydock's, whatever `layers` says): the read takes
  // the tasks with errors before the rest, or, for an answer showing the root alone, only them, so
  // its budget is theirs rather than the tree's first tasks'.
  const treeOptions = {
    layers: options.subtaskerrors ? -1 : options.layers,
    ...(options.subtaskerrors
      ? { errors: options.layers === 0 ? ('only' as const) : ('first' as const) }
      : {}),
  };
  // The tasks shown carry their build data: the root alone (layers 0) or the layers asked for,
  // read in the same statement as the tree.
  const [tree, items] = options.builddata
    ? await runReadsTogether(
        deps.db,
        taskStore.taskTreeRead(taskId, treeOptions),
        buildDataRead(
          options.layers === 0
            ? { taskIds: [taskId], ...EMBEDDED_BUILD_DATA }
            : { taskTree: { rootTaskId: taskId, layers: options.layers }, ...EMBEDDED_BUILD_DATA },
        ),
      )
    : [await taskStore.getTaskTree(deps.db, taskId, treeOptions), undefined];
  const root = tree[0] as TreeTask;
  const errors = options.subtaskerrors ? subtaskErrors(tree) : undefined;
  const shown =
    options.layers === 0
      ? [root]
      : tree.filter((node) => options.layers === -1 || node.layer <= options.layers);
  const buildData = items
    ? buildDataByTask(
        shown.map((node) => node.taskId),
        items,
      )
    : undefined;
  const dicts = shown.map((node) => {
    const dict = withTruncation(toTaskDict(node, node.messages), node);
    if (buildData) {
      dict.build_data = buildData.get(node.taskId) ?? [];
      if (buildData.cut)
        dict.truncated = { ...dict.truncated, ...buildDataTruncation(node.taskId) };
    }
    return dict;
  });
  const cut = treeTruncation(tree, root.taskId);
  if (options.layers === 0) {
    const body = dicts[0] as TaskDict;
    if (errors) body.subtask_errors = errors;
    if (cut) body.truncated = { ...body.truncated, ...cut };
    return { body, version: root.version };
  }
  const body: Record<string, unknown> = { init_task_id: root.taskId };
  for (const dict of dicts) body[dict.task_id] = dict;
  if (errors) body.subtask_errors = errors;
  if (cut) body.truncated = cut;
  return { body, version: root.version };
}

/**
 * Build data recorded under a task, newest first (kept after the task itself is purged), within
 * one read's budget; `nextCursor` continues the list.
 */
export async function readTaskBuildData(
  deps: Db,
  taskId: string,
  options: { verbosity: 1 | 2; limit?: number | undefined; cursor?: string | undefined },
) {
  const items = await queryBuildData(deps.db, {
    taskId,
    verbosity: options.verbosity,
    ...(options.limit ? { limit: options.limit } : {}),
    ...(options.cursor ? { cursor: options.cursor } : {}),
  });
  return withMeta(items.map(toBuildDataDict), { nextCursor: items.nextCursor });
}

export interface UpdateTaskInput {
  status?: TaskRecord['status'] | undefined;
  result?: z.Parsed<typeof ResultChangeSchema> | undefined;
  retry?: number | undefined;
  epoch?: number | undefined;
}

/** The store's change from the wire's snake_case one; absent fields stay untouched. */
function toChange(input: UpdateTaskInput): TaskChange {
  const r = input.result;
  return {
    ...(input.status ? { status: input.status } : {}),
    ...(input.retry !== undefined ? { retry: input.retry } : {}),
    ...(r
      ? {
          result: {
            ...(r.status ? { status: r.status } : {}),
            ...(r.message !== undefined ? { message: r.message } : {}),
            ...(r.reason !== undefined ? { reason: r.reason } : {}),
            ...(r.add_successes ? { addSuccesses: r.add_successes } : {}),
            ...(r.add_failures ? { addFailures: r.add_failures } : {}),
            ...(r.add_links ? { addLinks: r.add_links } : {}),
          },
        }
      : {}),
  };
}

/**
 * Conditional change of a task's status, result or retry count: refused (409) when the version
 * moved on since the caller read it, or the status move is not allowed; refused (412) when the
 * writer's lease epoch is stale. `eventKey` makes an SQS redelivery a no-op.
 */
export async function changeTask(
  deps: Db,
  taskId: string,
  input: UpdateTaskInput,
  condition: { expectedVersion?: number | undefined; eventKey?: string | undefined },
): Promise<TaskDict> {
  // An unconditional update is the lost update Drydock's full-row save made (defect 15).
  if (condition.expectedVersion === undefined && input.epoch === undefined) {
    throw new PreconditionRequiredError(
      'An update must be conditional: send If-Match with the version read (expected_version over SQS), or the lease epoch.',
    );
  }
  bounds.resultChange(input.result);
  const task = await taskStore.updateTask(deps.db, taskId, toChange(input), {
    ...(condition.expectedVersion !== undefined
      ? { expectedVersion: condition.expectedVersion }
      : {}),
    ...(input.epoch !== undefined ? { epoch: input.epoch } : {}),
    ...(condition.eventKey
      ? {
          eventKey: condition.eventKey,
          eventHash: requestFingerprint({
            task_id: taskId,
            status: input.status,
            result: input.result,
            retry: input.retry,
            epoch: input.epoch,
            expected_version: condition.expectedVersion,
          }),
        }
      : {}),
  });
  if (input.status) recordFinished(deps, task);
  return announced(deps, toTaskDict(task));
}

/**
 * Requests termination (Drydock had no terminate API; defect 17). Returns the tasks changed,
 * the root first, within one read's budget, and how many were changed in all.
 */
export async function terminate(
  deps: Db,
  taskId: string,
  options: { recursive: boolean; terminatedBy: string | null },
): Promise<TaskDict[] & { total: number }> {
  const changed = await taskStore.terminateTask(deps.db, taskId, options);
  for (const task of changed) recordFinished(deps, task);
  return announced(
    deps,
    withMeta(
      changed.map((task) => toTaskDict(task)),
      { total: changed.total },
    ),
  );
}

/**
 * The lease holder claims the oldest queued tasks (fenced by its epoch): up to `limit`, and
 * fewer when their rows would pass the claim's answer bound; `deferred` counts the tasks the
 * limit would have taken that stay queued for the next call.
 */
export async function claim(
  deps: Db,
  input: z.Parsed<typeof ClaimBodySchema>,
): Promise<TaskDict[] & { limit: number; deferred: number }> {
  const tasks = await claimTasks(deps.db, {
    instanceId: input.instance_id,
    epoch: input.epoch,
    ...(input.actions ? { actions: input.actions } : {}),
    ...(input.limit ? { limit: input.limit } : {}),
  });
  recordClaimed(deps, tasks);
  return announced(
    deps,
    withMeta(
      tasks.map((task) => toTaskDict(task)),
      { limit: input.limit ?? 1, deferred: tasks.deferred },
    ),
  );
}

/**
 * The lease holder ends many tasks in one statement (complete or terminated, each with its
 * result change), fenced by its epoch; each task's outcome says whether it moved. `eventKey`
 * makes an SQS redelivery a no-op.
 */
export async function completeBatch(
  deps: Db,
  input: z.Parsed<typeof CompleteTasksBodySchema>,
  eventKey?: string,
): Promise<{ tasks: z.Parsed<typeof CompletionOutcomeSchema>[] }> {
  for (const task of input.tasks) bounds.resultChange(task.result);
  const { outcomes } = await completeTasks(deps.db, {
    epoch: input.epoch,
    eventKey,
    tasks: input.tasks.map((task) => ({
      taskId: task.task_id,
      ...(task.status ? { status: task.status } : {}),
      ...(task.result ? { result: toChange({ result: task.result }).result ?? {} } : {}),
    })),
  });
  // The batch's events were written by its statement; publish them now, as single writes do.
  return announced(deps, {
    tasks: outcomes.map((o) => ({
      task_id: o.taskId,
      outcome: o.outcome,
      status: o.status,
      version: o.version,
    })),
  });
}

/**
 * Rolls finished subtasks' results up into the task: Drydock's `bubble_results` and
 * `align_result`, each with its own action filter, either or both (both, unfiltered, when the
 * body names neither, as Drydock's drivers call them). Fenced by the lease epoch.
 */
export async function rollUp(
  deps: Db,
  taskId: string,
  input: z.Parsed<typeof RollupBodySchema> | undefined,
): Promise<TaskDict> {
  const epoch = requireEpoch(input?.epoch, 'A roll-up');
  const neither = !input?.bubble && !input?.align;
  const bubble = neither ? {} : input?.bubble;
  const align = neither ? {} : input?.align;
  const task = await taskStore.rollUpResults(deps.db, taskId, {
    epoch,
    bubble: bubble && { actionFilter: bubble.action_filter ?? undefined },
    align: align && {
      actionFilter: align.action_filter ?? undefined,
      resetStatus: 'reset_status' in align ? align.reset_status : undefined,
    },
  });
  return announced(deps, toTaskDict(task));
}

/**
 * Drydock's `retry_task(max_attempts)`: the task runs again for its failed entities, or nothing
 * happens when there is nothing to retry (`retried: false`); past `max_attempts` a 409 that says
 * so. Fenced by the lease epoch; `eventKey` makes an SQS redelivery a no-op.
 */
export async function retry(
  deps: Db,
  taskId: string,
  input: { epoch?: number | undefined; max_attempts?: number | undefined },
  eventKey?: string,
): Promise<{ retried: boolean; task: TaskDict }> {
  const outcome = await taskStore.retryTask(deps.db, taskId, {
    epoch: requireEpoch(input.epoch, 'A retry'),
    maxAttempts: input.max_attempts,
    ...(eventKey ? { eventKey } : {}),
  });
  return announced(deps, { retried: outcome.retried, task: toTaskDict(outcome.task) });
}

/** Most batches one `DELETE /tasks` runs, so a huge backlog cannot hold a request for minutes. */
const PURGE_BATCHES_PER_REQUEST = 20;

/**
 * Retention on demand (`DELETE /tasks?days=N`): finished task trees older than N days, in
 * bounded batches; never a running task. `more` says whether another call would find more.
 */
export async function purgeTasks(
  deps: Pick<Deps, 'db' | 'config'>,
  days: number,
): Promise<{ message: string; days: number; deleted_tasks: number; more: boolean }> {
  let deleted = 0;
  let more = true;
  for (let batch = 0; more && batch < PURGE_BATCHES_PER_REQUEST; batch += 1) {
    const result = await purgeFinishedTasks(deps.db, {
      olderThanDays: days,
      batchSize: deps.config.retention.batchSize,
    });
    deleted += result.deletedTasks;
    more = result.more;
  }
  return { message: 'Tables purged successfully.', days, deleted_tasks: deleted, more };
}
