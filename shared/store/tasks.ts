import type { Db } from '../db/port.ts';
import { type ColumnSpec, p, type Row, type SqlFragment, sql, statement } from '../db/sql.ts';
import { type Action, STATUS_TRANSITIONS, TASK_STATUSES, type TaskStatus } from '../domain.ts';
import {
  ConflictError,
  MaxRetriesReachedError,
  NotFoundError,
  UnprocessableError,
  ValidationError,
} from '../errors.ts';
import { LIMITS } from '../limits.ts';
import {
  EMBEDDED_MESSAGES,
  messageAnswerBytesSql,
  READ_BUDGET_BYTES,
  ROW_FRAMING_BYTES,
  TASK_BOUNDS,
  withMeta,
} from './bounds.ts';
import { fenced, fenceOf, LIVE_LEASE } from './fence.ts';
import {
  createdTaskEvents,
  EVENT_TASK_COLUMNS,
  RETURNED_EVENTS_COLUMN,
  returnedEvents,
  taskChangeEvents,
} from './outbox.ts';
import {
  isUniqueViolation,
  type Read,
  run,
  runRead,
  runRetryingOnConflict,
  violated,
} from './run.ts';
import {
  hasTask,
  JOINED_MESSAGE_COLUMNS,
  JOINED_MESSAGE_SELECT,
  TASK_COLUMNS,
  TASK_SELECT,
  toJoinedMessage,
  toTaskRecord,
} from './task-row.ts';
import type {
  MessageRange,
  MessageRecord,
  NewTask,
  RetryOptions,
  RetryOutcome,
  RollUpOptions,
  SubtaskSelection,
  TaskChange,
  TaskCondition,
  TaskFilter,
  TaskRecord,
  TaskWithMessages,
  TreeTask,
} from './types.ts';

const FINISHED = sql`('complete', 'terminated')`;

// ---------------------------------------------------------------------------------------------
// Create

const CREATE_COLUMNS = {
  ...TASK_COLUMNS,
  created: 'timestamptz?',
  wasCreated: 'bool?',
  parentStatus: 'text?',
  parentTerminate: 'bool?',
  leaseHeld: 'bool',
  liveEpoch: 'int?',
  sameRequest: 'bool?',
  ...RETURNED_EVENTS_COLUMN,
} as const satisfies ColumnSpec;

/**
 * Creates a task; with a parent, also registers it as a subtask and posts Drydock's "Started
 * subtask" message on the parent, all in one statement. The parent's row is updated (its message
 * counter) under its row lock, so a concurrent terminate is seen: registration is refused once the
 * parent is terminating. A replay of the same `requestKey` (scoped to the parent; top-level tasks
 * share one scope) returns the first task unchanged, if it repeats the request (`requestHash`);
 * another request under the same key is refused (422).
 * With an `epoch` the create is fenced (nothing is written unless it is the live lease epoch) and
 * the task is owned by that epoch; a subtask created without one inherits its parent's owner, so
 * recovery after a dead leader finds every task of the tree it left.
 */
export async function createTask(
  db: Db,
  input: NewTask,
): Promise<{ task: TaskRecord; created: boolean }> {
  const parentId = p.uuid(input.parentTaskId ?? null);
  const requestKey = p.text(input.requestKey ?? null);
  const requestHash = p.text(input.requestHash ?? null);
  const epoch = p.int(input.epoch ?? null);
  const common = sql`${input.action}::text, ${input.status ?? 'requested'}::text, ${p.text(input.designRef ?? null)}::text,
    ${p.json(input.nodeFilter ?? null)}::jsonb, ${p.text(input.createdBy ?? null)}::text,
    ${p.json(input.requestContext ?? null)}::jsonb, ${requestKey}::text, ${input.retry ?? 0}::int,
    ${requestHash}::text`;
  const taskId = sql`coalesce(${p.uuid(input.taskId ?? null)}::uuid, gen_random_uuid())`;
  // The common case, a top-level task from a caller without an idempotency key, needs neither
  // the replay lookup, the lease nor the parent's row: a plain insert (the hot path of POST /tasks).
  const simple =
    input.parentTaskId === undefined && input.requestKey === undefined && input.epoch === undefined;
  if (simple) return createPlainTask(db, input, sql`${taskId}, null, ${common}`);
  const stmt = statement(
    CREATE_COLUMNS,
    sql`with lease as (${fenceOf(sql`${epoch}`)}),
allowed as (select 1 where ${epoch}::bigint is null or exists (select 1 from lease)),
existing as (
  select * from tasks
  where ${requestKey}::text is not null and request_key = ${requestKey}::text
    and parent_task_id is not distinct from ${parentId}::uuid
),
parent as (
  update tasks set message_seq = message_seq + 1, subtask_count = subtask_count + 1
  where task_id = ${parentId}::uuid and not exists (select 1 from existing) and exists (select 1 from allowed)
    and not terminate and status not in ('terminating', 'terminated')
  returning task_id, message_seq, claimed_epoch
),
ins as (
  insert into tasks (task_id, parent_task_id, action, status, design_ref, node_filter, created_by,
    request_context, request_key, retry, request_hash, created_epoch, claimed_epoch)
  select ${taskId}, ${parentId}::uuid, ${common}, ${epoch}::bigint,
    coalesce(${epoch}::bigint, (select claimed_epoch from parent))
  where not exists (select 1 from existing) and exists (select 1 from allowed)
    and (${parentId}::uuid is null or exists (select 1 from parent))
  returning *
),
events as (${createdTaskEvents(db, sql`ins`)}),
started as (
  insert into result_message (task_id, sequence, message, error, context_type, context)
  select parent.task_id, parent.message_seq,
    'Started subtask ' || ins.task_id || ' for action ' || ins.action, false, 'task', parent.task_id::text
  from parent cross join ins
)
select ${TASK_SELECT}, t.was_created as "wasCreated",
  (select status from tasks where task_id = ${parentId}::uuid) as "parentStatus",
  (select terminate from tasks where task_id = ${parentId}::uuid) as "parentTerminate",
  exists (select 1 from allowed) as "leaseHeld", (${LIVE_LEASE}) as "liveEpoch",
  (t.request_hash is null or ${requestHash}::text is null or t.request_hash = ${requestHash}::text) as "sameRequest",
  ${returnedEvents(db, sql`events`, sql`t.answer_bytes`)}
from (select 1) as one
left join (select *, true as was_created from ins union all select *, false from existing) t
  on exists (select 1 from allowed)`,
  );
  let rows: Awaited<ReturnType<typeof run<typeof CREATE_COLUMNS>>>;
  try {
    rows = await runRetryingOnConflict(db, stmt, 'tasks_request_key_idx');
  } catch (error) {
    throw createError(error, input);
  }
  const row = rows[0];
  if (row && !row.leaseHeld) throw fenced(input.epoch, row.liveEpoch);
  if (!hasTask(row)) {
    if (input.parentTaskId && row?.parentStatus == null) {
      throw new NotFoundError(`parent task ${input.parentTaskId} does not exist`);
    }
    throw new ConflictError(
      `parent task ${input.parentTaskId} is terminating; it accepts no new subtasks`,
    );
  }
  if (row.sameRequest === false) {
    throw new UnprocessableError(
      `idempotency key ${JSON.stringify(input.requestKey)} was first used for a different request` +
        `${input.parentTaskId ? ` under task ${input.parentTaskId}` : ''} (task ${row.taskId}); ` +
        'a replay must repeat the request, a new request needs a new key',
    );
  }
  return {
    task: toTaskRecord(row),
    created: row.wasCreated === true,
  };
}

/** A create's failure as the store reports it: a parent row full of subtasks, an id taken. */
function createError(error: unknown, input: NewTask): unknown {
  if (input.parentTaskId && violated(error, 'tasks_row_bound')) {
    return new ConflictError(
      `task ${input.parentTaskId} cannot take another subtask: its row (node filter, result, ` +
        `names and ${TASK_BOUNDS.subtaskIdBytes} bytes a subtask id) would pass ` +
        `${TASK_BOUNDS.rowBytes} bytes, what one Data API row carries with its other fields; ` +
        'nothing was created (a task may have about 1,500 subtasks, fewer when it holds large fields)',
      { cause: error },
    );
  }
  if (isUniqueViolation(error, 'tasks_pkey')) {
    return new ConflictError(
      `task ${input.taskId} already exists${input.parentTaskId ? ' outside this parent' : ''}; a new task needs a new id`,
      { cause: error },
    );
  }
  return error;
}

/**
 * What a plain create answers: only what the caller cannot know. `node_filter` as stored (jsonb
 * orders an object's keys its own way, and the answer is what a read gives); `created` is also
 * `updated` (both `now()`, one transaction).
 */
const PLAIN_CREATE_COLUMNS = {
  taskId: 'uuid',
  nodeFilter: 'json?',
  created: 'timestamptz',
  version: 'int',
  ...RETURNED_EVENTS_COLUMN,
} as const satisfies ColumnSpec;

/**
 * The hot path of `POST /tasks`: a top-level task without an idempotency key or an epoch, one
 * insert and its event row. The answer is composed from the input and the few values the insert
 * made; the rest are the table's defaults (migration 0001), the same record a read of the new row
 * gives (`test/store/tasks.test.ts` compares them). Decoding the whole row cost the caller about
 * as much CPU as the insert cost the server over the raw floor. For the same reason the insert
 * hands its CTE only what the event and the answer read, and the event's CTE returns nothing
 * unless the hand-off asks for it: each row projected and kept for the rest of the statement cost
 * the server about 10 µs a create (of about 30 µs over the floor's insert, one backend).
 */
async function createPlainTask(
  db: Db,
  input: NewTask,
  values: SqlFragment,
): Promise<{ task: TaskRecord; created: boolean }> {
  let rows: Row<typeof PLAIN_CREATE_COLUMNS>[];
  try {
    rows = await run(
      db,
      statement(
        PLAIN_CREATE_COLUMNS,
        sql`with t as (
  insert into tasks (task_id, parent_task_id, action, status, design_ref, node_filter, created_by,
    request_context, request_key, retry, request_hash)
  values (${values})
  returning ${EVENT_TASK_COLUMNS}, node_filter, created, answer_bytes
),
events as (${createdTaskEvents(db, sql`t`)})
select t.task_id as "taskId", t.node_filter as "nodeFilter", t.created as "created", t.version as "version",
  ${returnedEvents(db, sql`events`, sql`t.answer_bytes`)}
from t`,
      ),
    );
  } catch (error) {
    throw createError(error, input);
  }
  const row = rows[0];
  if (!row) throw new Error('the insert returned no row');
  return {
    task: {
      taskId: row.taskId,
      parentTaskId: null,
      subtaskIds: [],
      action: input.action,
      status: input.status ?? 'requested',
      designRef: input.designRef ?? null,
      nodeFilter: row.nodeFilter as Record<string, unknown> | null,
      resultStatus: 'incomplete',
      resultMessage: null,
      resultReason: null,
      resultSuccesses: [],
      resultFailures: [],
      resultLinks: [],
      errorCount: 0,
      retry: input.retry ?? 0,
      terminate: false,
      terminated: null,
      terminatedBy: null,
      created: row.created,
      createdBy: input.createdBy ?? null,
      updated: row.created,
      version: row.version,
      claimedEpoch: null,
      claimedBy: null,
      claimedAt: null,
      messageCount: 0,
    },
    created: true,
  };
}

// ---------------------------------------------------------------------------------------------
// Read

const TASK_WITH_MESSAGES = {
  ...TASK_COLUMNS,
  ...JOINED_MESSAGE_COLUMNS,
} as const satisfies ColumnSpec;

/**
 * Bytes a message row adds to a task read's answer, as the Data API carries it: its values as
 * JSON text (`messageAnswerBytesSql`) and the row's framing, the task's fields
 * being null on it. `shared/api/tasks.ts` counts an embedded message the same way.
 */
const MESSAGE_BYTES = sql`(${messageAnswerBytesSql(sql`r`)} + ${ROW_FRAMING_BYTES.embeddedMessage}::int)`;

/**
 * Bytes a task row `t` adds to an answer: its values as JSON text, kept in the row when it is
 * written (`tasks.answer_bytes`, migration 0008), and the row's framing.
 */
const taskBytes = (t: SqlFragment) => sql`(${t}.answer_bytes + ${ROW_FRAMING_BYTES.task}::int)`;

/**
 * Two CTEs over `page` (message rows with `idx` and `sequence`): `sized` adds each row's running
 * answer size, every value as JSON text (as the Data API carries it) plus the framing of a
 * listed message row, whose task fields are null; `kept` holds the rows within `maxBytes`, the
 * first always. The every-task listing's first statement and its further message pages both
 * cut with it, so they cut alike.
 */
function sizedMessages(
  names: { page: SqlFragment; sized: SqlFragment; kept: SqlFragment },
  maxBytes: number,
): SqlFragment {
  return sql`${names.sized} as (
  select ${names.page}.*,
    sum(${messageAnswerBytesSql(names.page)} + ${ROW_FRAMING_BYTES.listedMessage}::int)
      over (order by idx, sequence) as running,
    row_number() over (order by idx, sequence) as n
  from ${names.page}
),
${names.kept} as (select * from ${names.sized} where n = 1 or running <= ${maxBytes}::bigint)`;
}
const TASK_BYTES = taskBytes(sql`t`);

/**
 * One task with its first messages in sequence order, in one statement: the task row, then one
 * row per message (the task columns null there, so a message row carries the message only).
 * At most `EMBEDDED_MESSAGES` messages and `READ_BUDGET_BYTES` of them; `messageCount` says how
 * many the task has, so the caller can tell what was left for paging.
 */
export async function getTask(db: Db, taskId: string): Promise<TaskWithMessages> {
  return runRead(db, taskRead(taskId));
}

/** `getTask` as a read, to share a round trip with another (`runReadsTogether`). */
export function taskRead(taskId: string): Read<typeof TASK_WITH_MESSAGES, TaskWithMessages> {
  const id = p.uuid(taskId);
  return {
    columns: TASK_WITH_MESSAGES,
    fragment: sql`with msgs as (
  select r.*, sum(${MESSAGE_BYTES}) over (order by r.sequence) as running
  from (select * from result_message where task_id = ${id}::uuid order by sequence limit ${EMBEDDED_MESSAGES}::int) r
)
select ${TASK_SELECT}, ${JOINED_MESSAGE_SELECT}
from tasks t left join result_message m on false
where t.task_id = ${id}::uuid
union all
select ${TASK_SELECT}, ${JOINED_MESSAGE_SELECT}
from msgs m left join tasks t on false
where m.running <= ${READ_BUDGET_BYTES}::bigint
order by "msgSequence" nulls first`,
    order: '"msgSequence" nulls first',
    decode(rows) {
      const first = rows[0];
      if (!first || first.taskId === null) throw new NotFoundError(`task ${taskId} does not exist`);
      const messages = rows.map(toJoinedMessage).filter((m) => m !== null);
      return { ...toTaskRecord(first), messages };
    },
  };
}

/** Cursor text: the position of the last task of a page. Opaque to callers. */
function encodeCursor(seq: number): string {
  return Buffer.from(`t:${seq}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^t:([1-9]\d{0,15})$/.exec(text);
  if (!match)
    throw new ValidationError('invalid cursor', [
      { path: 'cursor', message: 'not a cursor from this API' },
    ]);
  return Number(match[1]);
}

/** The `where` conditions of a task listing's filter, over `tasks t`. */
function filterConditions(filter: Omit<TaskFilter, 'limit'>): SqlFragment[] {
  const conditions: SqlFragment[] = [sql`true`];
  if (filter.cursor !== undefined)
    conditions.push(sql`t.seq < ${decodeCursor(filter.cursor)}::bigint`);
  if (filter.status) conditions.push(sql`t.status = ${filter.status}::text`);
  if (filter.action) conditions.push(sql`t.action = ${filter.action}::text`);
  if (filter.parentTaskId)
    conditions.push(sql`t.parent_task_id = ${p.uuid(filter.parentTaskId)}::uuid`);
  if (filter.topLevel) conditions.push(sql`t.parent_task_id is null`);
  if (filter.createdBy) conditions.push(sql`t.created_by = ${filter.createdBy}::text`);
  return conditions;
}

const LISTED_TASK_COLUMNS = {
  ...TASK_COLUMNS,
  seq: 'int',
  bytes: 'int',
  fetched: 'int',
  running: 'int',
  n: 'int',
} as const satisfies ColumnSpec;

/**
 * Lists tasks newest first with optional filters. The cursor is a keyset position (the insertion
 * sequence), so pages stay stable while tasks are added; only present filters reach the SQL text.
 */
export async function listTasks(
  db: Db,
  filter: TaskFilter,
): Promise<{ tasks: TaskRecord[]; nextCursor: string | null }> {
  if (!Number.isInteger(filter.limit) || filter.limit < 1 || filter.limit > LIMITS.listPage) {
    throw new ValidationError(`limit must be an integer from 1 to ${LIMITS.listPage}`);
  }
  const conditions = filterConditions(filter);
  // One more row than the page tells whether a next page exists; the byte budget may end the
  // page earlier (always after at least one task), and then the cursor continues from there.
  const rows = await run(
    db,
    statement(
      LISTED_TASK_COLUMNS,
      sql`select * from (
  select p.*, count(*) over ()::int as "fetched", sum(p."bytes") over w as "running",
    row_number() over w as "n"
  from (
    select ${TASK_SELECT}, t.seq as "seq", ${TASK_BYTES} as "bytes" from tasks t
    where ${sql.join(conditions, ' and ')}
    order by t.seq desc limit ${filter.limit + 1}::int
  ) p
  window w as (order by p."seq" desc)
) q
where q."running" <= ${READ_BUDGET_BYTES}::bigint or q."n" = 1
order by q."seq" desc`,
    ),
  );
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  const more = rows.length > filter.limit || (rows[0]?.fetched ?? 0) > rows.length;
  return {
    tasks: page.map(toTaskRecord),
    nextCursor: more && last ? encodeCursor(last.seq) : null,
  };
}

/** What a page of the full listing reads of its tasks' messages (`listTasksWithin`). */
export interface EmbeddedMessageBudget {
  /** A task's first messages to read (its embedded ones). */
  readonly perTask: number;
  /** Most message rows in the statement, counted over the tasks in page order. */
  readonly rows: number;
  /** Bytes of message rows as the Data API carries them, cut as `listMessagesOfTasks` cuts. */
  readonly maxBytes: number;
}

/** A page of `listTasksWithin`. */
export interface TaskPageWithin {
  readonly tasks: TaskRecord[];
  /**
   * Where a listing that stops after each task continues (an answer's own budget may end it
   * inside the page).
   */
  readonly cursors: string[];
  readonly nextCursor: string | null;
  /**
   * With a message budget: the messages the same statement read, as `listMessagesOfTasks` would
   * have returned them for the page's first ranges (`messageRanges(tasks, perTask)` taken up to
   * `rows` messages), and where it stopped.
   */
  readonly messages: MessageBatch;
}

/** Messages of several tasks in range order, and where the next read starts (null: all read). */
export interface MessageBatch {
  readonly messages: (MessageRecord & { taskId: string })[];
  readonly next: { index: number; sequence: number } | null;
}

/** The message ranges a page of tasks embeds: each task's first `perTask`, in page order. */
export function messageRanges(tasks: readonly TaskRecord[], perTask: number): MessageRange[] {
  return tasks
    .filter((task) => task.messageCount > 0)
    .map((task) => ({ taskId: task.taskId, from: 1, to: Math.min(task.messageCount, perTask) }));
}

const PAGE_MESSAGE_COLUMNS = {
  msgTaskId: 'uuid?',
  msgIdx: 'int?',
  ...JOINED_MESSAGE_COLUMNS,
  msgMore: 'bool?',
} as const satisfies ColumnSpec;

const TASK_PAGE_COLUMNS = {
  ...TASK_COLUMNS,
  seq: 'int',
  more: 'bool',
} as const satisfies ColumnSpec;

const TASK_PAGE_WITH_MESSAGES_COLUMNS = {
  ...TASK_COLUMNS,
  seq: 'int?',
  more: 'bool?',
  ...PAGE_MESSAGE_COLUMNS,
} as const satisfies ColumnSpec;

/**
 * A page of every task matching `filter` (without its own limit), newest first, sized for the
 * Data API: it stops after `maxTasks` tasks or once the tasks' rows (`taskBytes`) pass `maxBytes`,
 * whichever comes first, but always returns at least one task. `GET /tasks` without `limit` walks
 * these pages to return every task, as Drydock does, with no response over the Data API's 1 MiB.
 *
 * With `messages`, the same statement also reads the page's first message ranges (each task's
 * first `perTask` messages, at most `rows` of them in page order, cut by `maxBytes` like
 * `listMessagesOfTasks`), so a listing whose messages fit costs one statement: the task rows
 * come first, then the message rows (the task columns null there).
 */
export async function listTasksWithin(
  db: Db,
  filter: Omit<TaskFilter, 'limit'>,
  budget: { maxTasks: number; maxBytes: number },
  messages?: EmbeddedMessageBudget,
): Promise<TaskPageWithin> {
  const conditions = filterConditions(filter);
  const pageCtes = sql`with page as (
  select t.* from tasks t
  where ${sql.join(conditions, ' and ')}
  order by t.seq desc limit ${budget.maxTasks + 1}::int
),
sized as (
  -- The row's values as JSON text, its subtask ids included, and its framing.
  select page.task_id, page.seq,
    sum(${taskBytes(sql`page`)}) over (order by page.seq desc) as running,
    row_number() over (order by page.seq desc) as n
  from page
),
kept as (
  select * from sized where n <= ${budget.maxTasks}::int and (n = 1 or running <= ${budget.maxBytes}::bigint)
)`;
  const rows = messages
    ? await run(
        db,
        statement(
          TASK_PAGE_WITH_MESSAGES_COLUMNS,
          sql`${pageCtes},
ranges as (
  -- Each kept task with messages, its first perTask of them, in page order; the running total
  -- clips the ranges at the row budget (a range may be split), as takeRanges does.
  select r.*, sum(r.hi) over (order by r.idx) as upto from (
    select (row_number() over (order by k.seq desc) - 1)::int as idx, k.task_id,
      least(t.message_seq, ${messages.perTask}::int)::bigint as hi
    from kept k join tasks t on t.task_id = k.task_id
    where t.message_seq > 0
  ) r
),
clipped as (
  select idx, task_id, least(hi, ${messages.rows}::bigint - (upto - hi)) as hi
  from ranges where upto - hi < ${messages.rows}::bigint
),
mpage as (
  select r.task_id, r.idx, x.sequence, x.message, x.error, x.context_type, x.context, x.ts, x.extra
  from clipped r cross join lateral (
    select * from result_message x
    where x.task_id = r.task_id and x.sequence between 1 and r.hi
    order by x.sequence
  ) x
),
${sizedMessages({ page: sql`mpage`, sized: sql`msized`, kept: sql`mkept` }, messages.maxBytes)}
select * from (
  select ${TASK_SELECT}, t.seq as "seq",
    (select count(*) from sized) > (select count(*) from kept) as "more",
    null::uuid as "msgTaskId", null::int as "msgIdx", ${JOINED_MESSAGE_SELECT}, null::boolean as "msgMore"
  from kept k join tasks t on t.task_id = k.task_id left join result_message m on false
  union all
  select ${TASK_SELECT}, null, null, m.task_id, m.idx, ${JOINED_MESSAGE_SELECT},
    (select count(*) from msized) > (select count(*) from mkept)
  from mkept m left join tasks t on false
) q
order by q."msgIdx" nulls first, q."seq" desc, q."msgSequence"`,
        ),
      )
    : await run(
        db,
        statement(
          TASK_PAGE_COLUMNS,
          sql`${pageCtes}
select ${TASK_SELECT}, t.seq as "seq", (select count(*) from sized) > (select count(*) from kept) as "more"
from kept k join tasks t on t.task_id = k.task_id order by t.seq desc`,
        ),
      );
  const tasks = rows.filter((row) => row.taskId !== null);
  const messageRows = rows.filter((row) => row.taskId === null) as unknown as Row<
    typeof PAGE_MESSAGE_COLUMNS
  >[];
  const last = tasks.at(-1);
  const lastMessage = messageRows.at(-1);
  return {
    tasks: tasks.map(toTaskRecord),
    cursors: tasks.map((row) => encodeCursor(row.seq as number)),
    nextCursor: last?.more ? encodeCursor(last.seq as number) : null,
    messages: {
      messages: messageRows.map((row) => ({
        taskId: row.msgTaskId as string,
        ...(toJoinedMessage(row) as MessageRecord),
      })),
      next: lastMessage?.msgMore
        ? { index: lastMessage.msgIdx as number, sequence: lastMessage.msgSequence as number }
        : null,
    },
  };
}

const MESSAGES_OF_TASKS_COLUMNS = {
  taskId: 'uuid',
  idx: 'int',
  sequence: 'int',
  message: 'text',
  error: 'bool',
  contextType: 'text',
  context: 'text',
  ts: 'timestamptz',
  extra: 'json',
  more: 'bool',
} as const satisfies ColumnSpec;

/**
 * The messages of several tasks, range by range in the order given, sized like
 * `listTasksWithin`: the rows are exactly the ranges' (so the caller bounds their number), cut
 * once their estimated size passes `maxBytes`, always at least one. `next` is where the next
 * call starts (the range index and the last sequence returned), or null when all came back.
 */
export async function listMessagesOfTasks(
  db: Db,
  ranges: readonly MessageRange[],
  options: { maxBytes: number },
): Promise<{
  messages: (MessageRecord & { taskId: string })[];
  next: { index: number; sequence: number } | null;
}> {
  const input = ranges.map((r, idx) => ({ idx, task_id: r.taskId, lo: r.from, hi: r.to }));
  const rows = await run(
    db,
    statement(
      MESSAGES_OF_TASKS_COLUMNS,
      sql`with ranges as (
  select * from jsonb_to_recordset(${p.json(input)}::jsonb) as r(idx int, task_id uuid, lo bigint, hi bigint)
),
page as (
  select r.task_id, r.idx, m.sequence, m.message, m.error, m.context_type, m.context, m.ts, m.extra
  from ranges r cross join lateral (
    select * from result_message x
    where x.task_id = r.task_id and x.sequence between r.lo and r.hi
    order by x.sequence
  ) m
),
${sizedMessages({ page: sql`page`, sized: sql`sized`, kept: sql`kept` }, options.maxBytes)}
select k.task_id as "taskId", k.idx as "idx", k.sequence as "sequence", k.message as "message",
  k.error as "error", k.context_type as "contextType", k.context as "context", k.ts as "ts",
  k.extra as "extra", (select count(*) from sized) > (select count(*) from kept) as "more"
from kept k order by k.idx, k.sequence`,
    ),
  );
  const last = rows.at(-1);
  return {
    messages: rows.map(({ idx: _idx, more: _more, extra, ...m }) => ({
      ...m,
      extra: extra as Record<string, unknown>,
    })),
    next: last?.more ? { index: last.idx, sequence: last.sequence } : null,
  };
}

const SUBTASK_PAGE_COLUMNS = {
  ...TASK_COLUMNS,
  seq: 'int',
  bytes: 'int',
  running: 'int',
  n: 'int',
  fetched: 'int',
} as const satisfies ColumnSpec;

/**
 * Subtasks of a parent in registration order: all, active (not finished) or complete (finished).
 * Within `READ_BUDGET_BYTES` of rows (at least one task); `nextCursor` continues after the last
 * one when the budget cut the list (a parent may have tens of thousands of subtasks).
 */
export async function listSubtasks(
  db: Db,
  parentTaskId: string,
  which: SubtaskSelection,
  options: { cursor?: string | undefined } = {},
): Promise<TaskRecord[] & { nextCursor: string | null }> {
  const scope =
    which === 'all'
      ? sql`true`
      : which === 'active'
        ? sql`t.status not in ${FINISHED}`
        : sql`t.status in ${FINISHED}`;
  const after =
    options.cursor === undefined
      ? sql.empty
      : sql` and t.seq > ${decodeCursor(options.cursor)}::bigint`;
  const rows = await run(
    db,
    statement(
      SUBTASK_PAGE_COLUMNS,
      sql`select * from (
  select p.*, sum(p."bytes") over w as "running", row_number() over w as "n", count(*) over ()::int as "fetched"
  from (
    select ${TASK_SELECT}, t.seq as "seq", ${TASK_BYTES} as "bytes" from tasks t
    where t.parent_task_id = ${p.uuid(parentTaskId)}::uuid and ${scope}${after}
  ) p
  window w as (order by p."seq")
) q
where q."running" <= ${READ_BUDGET_BYTES}::bigint or q."n" = 1
order by q."seq"`,
    ),
  );
  const last = rows.at(-1);
  const more = (rows[0]?.fetched ?? 0) > rows.length;
  return withMeta(rows.map(toTaskRecord), {
    nextCursor: more && last ? encodeCursor(last.seq) : null,
  });
}

/** A task tree, breadth first, and how many tasks the whole tree has (more than shown when cut). */
export type TaskTree = TreeTask[] & { total: number };

/** Which tasks of a tree a read takes. */
export interface TreeReadOptions {
  /** Layers from the root: 1 the root only, -1 all. */
  readonly layers: number;
  /**
   * For `subtask_errors`, which covers the whole tree: `only` takes the root and only the tasks
   * under it with error messages (an answer that shows the root alone; `total` then counts
   * those), `first` takes the root, then the tasks with errors, then the rest in tree order. The
   * read's budget goes to the tasks with errors either way, not to every task that comes before
   * them in the tree.
   */
  readonly errors?: 'only' | 'first';
}

/**
 * The task tree under `rootTaskId` down to `layers` layers (1 = the root only, -1 = all), breadth
 * first, every task with its first messages: one recursive statement instead of Drydock's two
 * reads per node. Tasks come first (the root always), then messages in tree order, all within
 * `READ_BUDGET_BYTES`; `total` and each task's `messageCount` say what was left out.
 */
export async function getTaskTree(
  db: Db,
  rootTaskId: string,
  options: TreeReadOptions,
): Promise<TaskTree> {
  return runRead(db, taskTreeRead(rootTaskId, options));
}

const TREE_COLUMNS = {
  ...TASK_COLUMNS,
  layer: 'int',
  pos: 'int',
  total: 'int',
  ...JOINED_MESSAGE_COLUMNS,
} as const satisfies ColumnSpec;

/** `getTaskTree` as a read, to share a round trip with another (`runReadsTogether`). */
export function taskTreeRead(
  rootTaskId: string,
  options: TreeReadOptions,
): Read<typeof TREE_COLUMNS, TaskTree> {
  if (!Number.isInteger(options.layers) || (options.layers < 1 && options.layers !== -1)) {
    throw new ValidationError('layers must be -1 or a positive integer');
  }
  return {
    columns: TREE_COLUMNS,
    fragment: sql`with recursive tree as (
  select task_id, 1 as layer from tasks where task_id = ${p.uuid(rootTaskId)}::uuid
  union all
  select c.task_id, tree.layer + 1 from tasks c join tree on c.parent_task_id = tree.task_id
  where ${options.layers}::int < 0 or tree.layer < ${options.layers}::int
),
ordered as (
  select tree.task_id, tree.layer, row_number() over w as pos, sum(${TASK_BYTES}) over w as running
  from tree join tasks t on t.task_id = tree.task_id
  ${options.errors === 'only' ? sql`where tree.layer = 1 or t.error_count > 0` : sql.empty}
  window w as (order by ${options.errors === 'first' ? sql`tree.layer > 1, t.error_count = 0, ` : sql.empty}tree.layer, t.seq)
),
kept as (select * from ordered where running <= ${READ_BUDGET_BYTES}::bigint or pos = 1),
msgs as (
  select r.*, k.layer, k.pos,
    (select max(running) from kept) + sum(${MESSAGE_BYTES}) over (order by k.pos, r.sequence) as running
  from kept k cross join lateral (
    select * from result_message where task_id = k.task_id order by sequence limit ${EMBEDDED_MESSAGES}::int
  ) r
)
select ${TASK_SELECT}, k.layer as "layer", k.pos::int as "pos", (select count(*) from ordered)::int as "total",
  ${JOINED_MESSAGE_SELECT}
from kept k join tasks t on t.task_id = k.task_id left join result_message m on false
union all
select ${TASK_SELECT}, m.layer, m.pos::int, (select count(*) from ordered)::int, ${JOINED_MESSAGE_SELECT}
from msgs m left join tasks t on false
where m.running <= ${READ_BUDGET_BYTES}::bigint
order by "pos", "msgSequence" nulls first`,
    order: '"pos", "msgSequence" nulls first',
    decode(rows) {
      if (rows.length === 0) throw new NotFoundError(`task ${rootTaskId} does not exist`);
      const tree: TreeTask[] = [];
      for (const row of rows) {
        if (row.taskId !== null) {
          tree.push({ ...toTaskRecord(row), layer: row.layer, messages: [] });
          continue;
        }
        const message = toJoinedMessage(row);
        if (message) tree.at(-1)?.messages.push(message);
      }
      return Object.assign(tree, { total: rows[0]?.total ?? tree.length });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Change

const UPDATE_COLUMNS = {
  ...TASK_COLUMNS,
  taskId: 'uuid?',
  created: 'timestamptz?',
  currentStatus: 'text?',
  currentVersion: 'int?',
  leaseEpoch: 'int?',
  fenceHeld: 'bool',
  duplicate: 'bool',
  sameEvent: 'bool',
  ...RETURNED_EVENTS_COLUMN,
} as const satisfies ColumnSpec;

/**
 * Conditional status/result change: applied only when the expected version still holds (If-Match),
 * the status move is in `STATUS_TRANSITIONS`, and the writer's lease epoch is current. Fields not
 * in the change keep their stored values, so nothing a concurrent writer set is overwritten.
 * With an `eventKey` the change is applied at most once (SQS redelivery writes nothing).
 */
export async function updateTask(
  db: Db,
  taskId: string,
  change: TaskChange,
  condition: TaskCondition = {},
): Promise<TaskRecord> {
  const id = p.uuid(taskId);
  const result = change.result ?? {};
  // Only what the change names reaches the statement: fewer clauses to plan and run, and no
  // column a caller did not mention is written.
  const sets: SqlFragment[] = [sql`version = version + 1`, sql`updated = now()`];
  const where: SqlFragment[] = [sql`task_id = ${id}::uuid`];
  const target = change.status;
  if (target !== undefined) {
    sets.push(sql`status = ${target}::text`);
    if (target === 'terminated') sets.push(sql`terminated = coalesce(terminated, now())`);
    // A fenced writer running the task owns it from now on (recovery ends it if that epoch dies).
    if (target === 'running' && condition.epoch !== undefined) {
      sets.push(sql`claimed_epoch = ${condition.epoch}::bigint`);
    }
    // Staying put is allowed (a retried write); otherwise only the listed moves.
    const from = TASK_STATUSES.filter(
      (s) => s === target || STATUS_TRANSITIONS[s].includes(target),
    );
    where.push(
      sql`status in (${sql.join(
        from.map((s) => sql`${s}::text`),
        ', ',
      )})`,
    );
  }
  if (result.status !== undefined) sets.push(sql`result_status = ${result.status}::text`);
  if ('message' in result) sets.push(sql`result_message = ${p.text(result.message ?? null)}::text`);
  if ('reason' in result) sets.push(sql`result_reason = ${p.text(result.reason ?? null)}::text`);
  if (result.addSuccesses?.length) {
    sets.push(
      sql`result_successes = jsonb_append_distinct(result_successes, ${p.json(result.addSuccesses)}::jsonb)`,
    );
  }
  if (result.addFailures?.length) {
    sets.push(
      sql`result_failures = jsonb_append_distinct(result_failures, ${p.json(result.addFailures)}::jsonb)`,
    );
  }
  if (result.addLinks?.length) {
    sets.push(sql`result_links = result_links || ${p.json(result.addLinks)}::jsonb`);
  }
  if (change.retry !== undefined) sets.push(sql`retry = ${change.retry}::int`);
  if (condition.expectedVersion !== undefined) {
    where.push(sql`version = ${condition.expectedVersion}::int`);
  }
  const { epoch, eventKey, eventHash } = condition;
  // The fence is a CTE so the write and the verdict rest on one check (`lease_fence`: the shared
  // advisory lock a takeover waits for, then the lease read after it).
  const fence = epoch === undefined ? sql.empty : sql`fence as (${fenceOf(sql`${epoch}`)}),\n`;
  if (epoch !== undefined) where.push(sql`exists (select 1 from fence)`);
  if (eventKey !== undefined) {
    where.push(sql`not exists (select 1 from applied_event where event_key = ${eventKey}::text)`);
  }
  const applied =
    eventKey === undefined
      ? sql.empty
      : sql`, applied as (insert into applied_event (event_key, request_hash)
  select ${eventKey}::text, ${p.text(eventHash ?? null)}::text from upd)`;
  const leaseEpoch = epoch === undefined ? sql`null::bigint` : sql`(${LIVE_LEASE})`;
  const fenceHeld = epoch === undefined ? sql`true` : sql`exists (select 1 from fence)`;
  const duplicate =
    eventKey === undefined
      ? sql`false`
      : sql`exists (select 1 from applied_event where event_key = ${eventKey}::text)`;
  const sameEvent =
    eventHash === undefined || eventKey === undefined
      ? sql`true`
      : sql`coalesce((select request_hash is null or request_hash = ${eventHash}::text
    from applied_event where event_key = ${eventKey}::text), true)`;
  const rows = await runRetryingOnConflict(
    db,
    statement(
      UPDATE_COLUMNS,
      sql`with ${fence}prev as (
  -- The values before the change, for its event: locked, so they are the row the update changes.
  -- No key column changes, so the update's own lock (no key update) is enough; unlike for update
  -- it lets the foreign-key checks (key share) of inserts referencing the task (boot actions) go on.
  select task_id as prev_id, status as old_status, result_status as old_result
  from tasks where task_id = ${id}::uuid for no key update
),
upd as (
  update tasks set ${sql.join(sets, ', ')}
  from prev
  where prev.prev_id = tasks.task_id and ${sql.join(where, ' and ')}
  returning tasks.*, prev.old_status, prev.old_result
),
events as (${taskChangeEvents(db, { from: sql`upd n`, oldStatus: sql`n.old_status`, oldResult: sql`n.old_result` })})${applied}
select ${TASK_SELECT}, cur.status as "currentStatus", cur.version as "currentVersion",
  ${leaseEpoch} as "leaseEpoch", ${fenceHeld} as "fenceHeld", ${duplicate} as "duplicate",
  ${sameEvent} as "sameEvent", ${returnedEvents(db, sql`events`, sql`t.answer_bytes`)}
from (select 1) as one
left join upd t on true
left join tasks cur on cur.task_id = ${id}::uuid`,
    ),
    'applied_event_pkey',
  );
  const row = rows[0];
  if (hasTask(row)) return toTaskRecord(row);
  if (!row || row.currentStatus === null) throw new NotFoundError(`task ${taskId} does not exist`);
  if (row.duplicate && !row.sameEvent) {
    throw new UnprocessableError(
      `event ${JSON.stringify(eventKey)} was already applied with another change; a redelivery must repeat it`,
    );
  }
  if (row.duplicate) return getTask(db, taskId);
  if (!row.fenceHeld) throw fenced(epoch, row.leaseEpoch);
  if (condition.expectedVersion !== undefined && row.currentVersion !== condition.expectedVersion) {
    throw new ConflictError(
      `task ${taskId} is at version ${row.currentVersion}, not ${condition.expectedVersion}; read it again`,
    );
  }
  throw new ConflictError(refusedMove(taskId, row.currentStatus, target));
}

/** Why a status move is refused, with the operation that does make it when there is one. */
function refusedMove(taskId: string, from: string, to: TaskStatus | undefined): string {
  const base = `task ${taskId} cannot move from ${from} to ${to}`;
  if (from === 'complete' && to === 'running') {
    return `${base}: a finished task runs again only through POST /tasks/{id}/retry`;
  }
  if (from === 'queued' && to === 'running') {
    return `${base}: the lease holder starts queued tasks through POST /tasks/claim`;
  }
  if (to === 'queued') return `${base}: only recovery after a dead leader requeues a task`;
  return base;
}

const TERMINATE_COLUMNS = {
  ...TASK_COLUMNS,
  isRoot: 'bool',
  changed: 'int',
  n: 'int',
  ...RETURNED_EVENTS_COLUMN,
} as const satisfies ColumnSpec;

/**
 * Requests termination. A task not yet running ends `terminated` at once (it will never be
 * claimed); a running one becomes `terminating` until its worker stops. With `recursive`, every
 * unfinished descendant too, all in the one statement. Finished tasks are left as they are.
 * Returns the tasks changed, the root first and then by registration, within
 * `READ_BUDGET_BYTES` of rows; `total` says how many were changed (more than returned when cut).
 */
export async function terminateTask(
  db: Db,
  taskId: string,
  options: { terminatedBy: string | null; recursive: boolean },
): Promise<TaskRecord[] & { total: number }> {
  const id = p.uuid(taskId);
  const rows = await run(
    db,
    statement(
      TERMINATE_COLUMNS,
      sql`with recursive targets as (
  select task_id, status as old_status from tasks where task_id = ${id}::uuid
  union all
  select c.task_id, c.status from tasks c join targets on c.parent_task_id = targets.task_id
  where ${options.recursive}::boolean
),
upd as (
  update tasks t set
    terminate = true,
    terminated = coalesce(t.terminated, now()),
    terminated_by = coalesce(t.terminated_by, ${p.text(options.terminatedBy)}::text),
    status = case when t.status in ('requested', 'queued') then 'terminated'
                  when t.status = 'running' then 'terminating' else t.status end,
    version = t.version + 1,
    updated = now()
  from targets
  where t.task_id = targets.task_id and t.status not in ${FINISHED}
  returning t.*, targets.old_status
),
events as (${taskChangeEvents(db, { from: sql`upd n`, oldStatus: sql`n.old_status`, oldResult: sql`n.result_status` })}),
sized as (
  select u.task_id, sum(${taskBytes(sql`u`)}) over w as running, row_number() over w as n
  from upd u
  window w as (order by u.task_id <> ${id}::uuid, u.seq)
)
select ${TASK_SELECT}, false as "isRoot", (select count(*) from upd)::int as "changed", s.n::int as "n",
  null::json as "outboxEvents"
from upd t join sized s on s.task_id = t.task_id
where s.running <= ${READ_BUDGET_BYTES}::bigint or s.n = 1
union all
select ${TASK_SELECT}, true as "isRoot", (select count(*) from upd)::int, 0, ${returnedEvents(db, sql`events`, sql`t.answer_bytes`)}
from tasks t where t.task_id = ${id}::uuid
order by "n"`,
    ),
  );
  const root = rows.find((r) => r.isRoot);
  if (!root) throw new NotFoundError(`task ${taskId} does not exist`);
  const changed = rows.filter((r) => !r.isRoot);
  if (root.status === 'complete' && !changed.some((r) => r.taskId === taskId)) {
    throw new ConflictError(`task ${taskId} is already complete`);
  }
  return withMeta(changed.map(toTaskRecord), { total: root.changed });
}

/**
 * One entity list of Drydock's `bubble_results`: the entities of the finished subtasks that pass
 * `keep`, each once, in the order they were first reported (subtasks in registration order, then
 * each subtask's own list order), never sorted.
 */
function bubbledList(column: SqlFragment, keep: SqlFragment): SqlFragment {
  return sql`(select coalesce(jsonb_agg(e.v order by e.seq, e.ord), '[]'::jsonb) from (
    select distinct on (x.v) x.v, d.seq, x.ord
    from done d cross join lateral jsonb_array_elements(d.${column}) with ordinality as x(v, ord)
    where ${keep}
    order by x.v, d.seq, x.ord
  ) e)`;
}

const ROLLED_UP_COLUMNS = {
  ...TASK_COLUMNS,
  taskId: 'uuid?',
  created: 'timestamptz?',
  found: 'bool',
  leaseEpoch: 'int?',
  fenceHeld: 'bool',
  rolledBytes: 'int?',
  rolledSuccesses: 'int?',
  rolledFailures: 'int?',
  ...RETURNED_EVENTS_COLUMN,
} as const satisfies ColumnSpec;

/**
 * Rolls the finished (complete or terminated) subtasks' results up into the task, as Drydock's
 * `Task.bubble_results(action_filter)` and `Task.align_result(action_filter, reset_status)` do,
 * either or both in one statement:
 * - bubble: successes from the subtasks matching its action filter; failures from every subtask
 *   of the task's retry sequence (all of them while the task's retry is 0), whatever the filter;
 *   both replace the task's lists.
 * - align: starts from `success` when the task has no subtasks at all, else `incomplete` (with
 *   `resetStatus`, the default), or from the stored status; then every finished subtask matching
 *   its filter calls Drydock's `success()` when it succeeded or partly succeeded, and `failure()`
 *   when it failed or partly succeeded within the retry sequence. That state machine makes a mix
 *   `partial_success`, whatever the order.
 *
 * All or nothing: when the bubbled lists with the task's links would pass the task's bound
 * (`TASK_BOUNDS.resultListsBytes`, what one Data API row can carry), nothing is written and the
 * roll-up is refused (409) with the sizes. Never cut: Drydock builds the next step's node filter
 * from a task's successes (`node_filter_from_successes`), so a shortened list would silently
 * leave nodes out.
 */
export async function rollUpResults(
  db: Db,
  taskId: string,
  options: RollUpOptions,
): Promise<TaskRecord> {
  const { bubble, align } = options;
  if (!bubble && !align) throw new ValidationError('a roll-up runs bubble, align or both');
  const id = p.uuid(taskId);
  const epoch = p.int(options.epoch ?? null);
  const matches = (filter: Action | undefined) =>
    filter === undefined ? sql`true` : sql`d.action = ${filter}::text`;
  const sets: SqlFragment[] = [sql`version = t.version + 1`, sql`updated = now()`];
  // The lists bubble would store, computed once: checked against the task's bound before the
  // write, so a roll-up past it is refused whole, with its sizes, rather than cut.
  const rolled = bubble
    ? sql`select ${bubbledList(sql`result_successes`, matches(bubble.actionFilter))} as successes,
    ${bubbledList(sql`result_failures`, sql`d.same_retry`)} as failures`
    : sql`select '[]'::jsonb as successes, '[]'::jsonb as failures`;
  if (bubble) {
    sets.push(
      sql`result_successes = (select successes from rolled)`,
      sql`result_failures = (select failures from rolled)`,
    );
  }
  if (align) {
    const start =
      align.resetStatus === false
        ? sql`parent.result_status`
        : sql`case when exists (select 1 from kids) then 'incomplete' else 'success' end`;
    const seen = matches(align.actionFilter);
    sets.push(sql`result_status = (
      select case
        when not f.any_success and not f.any_failure then f.s0
        when f.s0 = 'partial_success' then 'partial_success'
        when f.s0 = 'success' then case when f.any_failure then 'partial_success' else 'success' end
        when f.s0 = 'failure' then case when f.any_success then 'partial_success' else 'failure' end
        when f.any_success and f.any_failure then 'partial_success'
        when f.any_success then 'success'
        else 'failure' end
      from (
        select (select ${start} from parent) as s0,
          coalesce(bool_or(${seen} and d.result_status in ('success', 'partial_success')), false) as any_success,
          coalesce(bool_or(${seen} and d.same_retry and d.result_status in ('failure', 'partial_success')), false) as any_failure
        from done d
      ) f)`);
  }
  const rows = await run(
    db,
    statement(
      ROLLED_UP_COLUMNS,
      sql`with lease as (${LIVE_LEASE}),
fence as (${fenceOf(sql`${epoch}`)}),
parent as (select task_id, retry, result_status, result_links from tasks where task_id = ${id}::uuid),
kids as (
  select c.seq, c.action, c.status, c.retry, c.result_status, c.result_successes, c.result_failures
  from tasks c join parent on c.parent_task_id = parent.task_id
),
done as (
  select k.*, (parent.retry = 0 or k.retry = parent.retry) as same_retry
  from kids k cross join parent where k.status in ${FINISHED}
),
rolled as (${rolled}),
sized as (
  select octet_length(r.successes::text) + octet_length(r.failures::text)
      + octet_length(parent.result_links::text) as bytes,
    jsonb_array_length(r.successes) as successes, jsonb_array_length(r.failures) as failures
  from rolled r cross join parent
),
upd as (
  update tasks t set ${sql.join(sets, ', ')}
  where t.task_id = ${id}::uuid
    and (${epoch}::bigint is null or exists (select 1 from fence))
    and (select bytes from sized) <= ${TASK_BOUNDS.resultListsBytes}::int
  returning t.*
),
events as (${taskChangeEvents(db, { from: sql`upd n cross join parent p`, oldStatus: sql`n.status`, oldResult: sql`p.result_status` })})
select ${TASK_SELECT}, exists (select 1 from parent) as "found", (select epoch from lease) as "leaseEpoch",
  (${epoch}::bigint is null or exists (select 1 from fence)) as "fenceHeld", s.bytes::int as "rolledBytes", s.successes::int as "rolledSuccesses", s.failures::int as "rolledFailures",
  ${returnedEvents(db, sql`events`, sql`t.answer_bytes`)}
from (select 1) as one left join upd t on true left join sized s on true`,
    ),
  );
  const row = rows[0];
  if (hasTask(row)) return toTaskRecord(row);
  if (!row?.found) throw new NotFoundError(`task ${taskId} does not exist`);
  if (!row.fenceHeld) throw fenced(options.epoch, row.leaseEpoch);
  if ((row.rolledBytes ?? 0) > TASK_BOUNDS.resultListsBytes) {
    throw new ConflictError(
      `rolling up task ${taskId} would give it ${row.rolledSuccesses} successes and ` +
        `${row.rolledFailures} failures, ${row.rolledBytes} bytes of JSON with its links, past a ` +
        `task's bound of ${TASK_BOUNDS.resultListsBytes}; nothing was changed. The subtasks keep ` +
        'their own lists (GET /tasks/{id}/subtasks); align alone still rolls up the status',
    );
  }
  throw fenced(options.epoch, row.leaseEpoch);
}

const RETRY_COLUMNS = {
  ...TASK_COLUMNS,
  verdict: 'text',
  leaseEpoch: 'int?',
  ...RETURNED_EVENTS_COLUMN,
} as const satisfies ColumnSpec;

const RETRY_MESSAGE = 'Retrying task for failed entities.';
const OUT_OF_ATTEMPTS_MESSAGE = 'Retry requested, out of attempts.';

/**
 * Drydock's `Task.retry_task(max_attempts)` in one statement. Only a task whose result is not
 * `success` and that has failures is retried: it gets the message "Retrying task for failed
 * entities.", its `retry` grows by one, its result status becomes `success` when it has
 * successes (else `incomplete`), and a complete task runs again (complete → running, the one way
 * back from complete; the epoch that retries owns it). Its failures stay, as Drydock's do: the
 * next attempt works on them. With nothing to retry it changes nothing (`retried: false`). Past
 * `maxAttempts` it posts "Retry requested, out of attempts." and answers 409, as Drydock raises
 * `MaxRetriesReached`. Fenced by the epoch; refused (409) for a task terminated or being
 * terminated, or one not yet run.
 */
export async function retryTask(
  db: Db,
  taskId: string,
  options: RetryOptions,
): Promise<RetryOutcome> {
  const id = p.uuid(taskId);
  const limit = options.maxAttempts ? options.maxAttempts : null;
  const eventKey = p.text(options.eventKey ?? null);
  const rows = await runRetryingOnConflict(
    db,
    statement(
      RETRY_COLUMNS,
      sql`with lease as (${LIVE_LEASE}),
fence as (${fenceOf(sql`${options.epoch}`)}),
cur as (select * from tasks where task_id = ${id}::uuid),
decision as (
  select case
    when exists (select 1 from applied_event where event_key = ${eventKey}::text) then 'duplicate'
    when not exists (select 1 from fence) then 'fenced'
    when cur.result_status = 'success' or jsonb_array_length(cur.result_failures) = 0 then 'nothing'
    when cur.terminate or cur.status not in ('complete', 'running') then 'refused'
    when ${p.int(limit)}::int is not null and cur.retry >= ${p.int(limit)}::int then 'exhausted'
    else 'retry' end as verdict
  from cur
),
upd as (
  update tasks t set
    message_seq = t.message_seq + 1,
    retry = case when d.verdict = 'retry' then t.retry + 1 else t.retry end,
    result_status = case when d.verdict <> 'retry' then t.result_status
      when jsonb_array_length(t.result_successes) > 0 then 'success' else 'incomplete' end,
    status = case when d.verdict = 'retry' then 'running' else t.status end,
    claimed_epoch = case when d.verdict = 'retry' then ${options.epoch}::bigint else t.claimed_epoch end,
    version = case when d.verdict = 'retry' then t.version + 1 else t.version end,
    updated = case when d.verdict = 'retry' then now() else t.updated end
  from decision d
  where t.task_id = ${id}::uuid and d.verdict in ('retry', 'exhausted')
  returning t.*
),
note as (
  insert into result_message (task_id, sequence, message, error, context_type, context)
  select upd.task_id, upd.message_seq,
    case when d.verdict = 'retry' then ${RETRY_MESSAGE}::text else ${OUT_OF_ATTEMPTS_MESSAGE}::text end,
    false, 'NA', 'NA'
  from upd cross join decision d
),
applied as (
  insert into applied_event (event_key) select ${eventKey}::text from upd where ${eventKey}::text is not null
),
events as (${taskChangeEvents(db, { from: sql`upd n join cur c on c.task_id = n.task_id`, oldStatus: sql`c.status`, oldResult: sql`c.result_status` })})
select ${TASK_SELECT}, d.verdict as "verdict", (select epoch from lease) as "leaseEpoch",
  ${returnedEvents(db, sql`events`, sql`t.answer_bytes`)}
from decision d
cross join lateral (
  select * from upd union all select * from cur where not exists (select 1 from upd)
) t`,
    ),
    'applied_event_pkey',
  );
  const row = rows[0];
  if (!row) throw new NotFoundError(`task ${taskId} does not exist`);
  const task = toTaskRecord(row);
  switch (row.verdict) {
    case 'fenced':
      throw fenced(options.epoch, row.leaseEpoch);
    case 'refused':
      throw new ConflictError(
        `task ${taskId} is ${task.status}${task.terminate ? ' and marked for termination' : ''}; it cannot be retried`,
      );
    case 'exhausted':
      throw new MaxRetriesReachedError(
        `${OUT_OF_ATTEMPTS_MESSAGE} Task ${taskId} has been retried ${task.retry} times of max_attempts ${limit}.`,
      );
    default:
      return { retried: row.verdict === 'retry', task, duplicate: row.verdict === 'duplicate' };
  }
}
