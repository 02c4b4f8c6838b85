import type { Db } from '../db/port.ts';
import { type ColumnSpec, p, type SqlFragment, sql, statement } from '../db/sql.ts';
import { type Action, STATUS_TRANSITIONS, TASK_STATUSES } from '../domain.ts';
import { ConflictError, LeaseLostError, NotFoundError, ValidationError } from '../errors.ts';
import { isUniqueViolation, run, runRetryingOnConflict } from './run.ts';
import {
  JOINED_MESSAGE_COLUMNS,
  JOINED_MESSAGE_SELECT,
  NEW_TASK_SELECT,
  TASK_COLUMNS,
  TASK_SELECT,
  toJoinedMessage,
  toTaskRecord,
} from './task-row.ts';
import type {
  ClaimRequest,
  NewTask,
  PurgeResult,
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
} as const satisfies ColumnSpec;

/**
 * Creates a task; with a parent, also registers it as a subtask and posts Drydock's "Started
 * subtask" message on the parent, all in one statement. The parent's row is updated (its message
 * counter) under its row lock, so a concurrent terminate is seen: registration is refused once the
 * parent is terminating. A replay of the same `requestKey` returns the first task unchanged.
 */
export async function createTask(
  db: Db,
  input: NewTask,
): Promise<{ task: TaskRecord; created: boolean }> {
  const parentId = p.uuid(input.parentTaskId ?? null);
  const requestKey = p.text(input.requestKey ?? null);
  const values = sql`coalesce(${p.uuid(input.taskId ?? null)}::uuid, gen_random_uuid()), ${parentId}::uuid,
    ${input.action}::text, ${input.status ?? 'requested'}::text, ${p.text(input.designRef ?? null)}::text,
    ${p.json(input.nodeFilter ?? null)}::jsonb, ${p.text(input.createdBy ?? null)}::text,
    ${p.json(input.requestContext ?? null)}::jsonb, ${requestKey}::text`;
  // The common case, a top-level task without an idempotency key, needs neither the replay
  // lookup nor the parent's row: a plain insert (the hot path of POST /tasks).
  const simple = input.parentTaskId === undefined && input.requestKey === undefined;
  const stmt = simple
    ? statement(
        CREATE_COLUMNS,
        sql`with t as (
  insert into tasks (task_id, parent_task_id, action, status, design_ref, node_filter, created_by,
    request_context, request_key)
  values (${values})
  returning *
)
select ${NEW_TASK_SELECT}, true as "wasCreated", null::text as "parentStatus", null::boolean as "parentTerminate"
from t`,
      )
    : statement(
        CREATE_COLUMNS,
        sql`with existing as (
  select * from tasks where ${requestKey}::text is not null and request_key = ${requestKey}::text
),
parent as (
  update tasks set message_seq = message_seq + 1
  where task_id = ${parentId}::uuid and not exists (select 1 from existing)
    and not terminate and status not in ('terminating', 'terminated')
  returning task_id, message_seq
),
ins as (
  insert into tasks (task_id, parent_task_id, action, status, design_ref, node_filter, created_by,
    request_context, request_key)
  select ${values}
  where not exists (select 1 from existing)
    and (${parentId}::uuid is null or exists (select 1 from parent))
  returning *
),
started as (
  insert into result_message (task_id, sequence, message, error, context_type, context)
  select parent.task_id, parent.message_seq,
    'Started subtask ' || ins.task_id || ' for action ' || ins.action, false, 'task', parent.task_id::text
  from parent cross join ins
)
select ${TASK_SELECT}, t.was_created as "wasCreated",
  (select status from tasks where task_id = ${parentId}::uuid) as "parentStatus",
  (select terminate from tasks where task_id = ${parentId}::uuid) as "parentTerminate"
from (select 1) as one
left join (select *, true as was_created from ins union all select *, false from existing) t on true`,
      );
  let rows: Awaited<ReturnType<typeof run<typeof CREATE_COLUMNS>>>;
  try {
    rows = await runRetryingOnConflict(db, stmt, 'tasks_request_key_key');
  } catch (error) {
    if (isUniqueViolation(error, 'tasks_pkey')) {
      throw new ConflictError(`task ${input.taskId} already exists`, { cause: error });
    }
    throw error;
  }
  const row = rows[0];
  if (!row || row.taskId === null) {
    if (input.parentTaskId && row?.parentStatus == null) {
      throw new NotFoundError(`parent task ${input.parentTaskId} does not exist`);
    }
    throw new ConflictError(
      `parent task ${input.parentTaskId} is terminating; it accepts no new subtasks`,
    );
  }
  return {
    task: toTaskRecord(row as Parameters<typeof toTaskRecord>[0]),
    created: row.wasCreated === true,
  };
}

// ---------------------------------------------------------------------------------------------
// Read

const TASK_WITH_MESSAGES = {
  ...TASK_COLUMNS,
  ...JOINED_MESSAGE_COLUMNS,
} as const satisfies ColumnSpec;

/** One task with its messages in sequence order: one statement, a join instead of N+1 reads. */
export async function getTask(db: Db, taskId: string): Promise<TaskWithMessages> {
  const rows = await run(
    db,
    statement(
      TASK_WITH_MESSAGES,
      sql`select ${TASK_SELECT}, ${JOINED_MESSAGE_SELECT}
from tasks t left join result_message m on m.task_id = t.task_id
where t.task_id = ${p.uuid(taskId)}::uuid
order by m.sequence`,
    ),
  );
  const first = rows[0];
  if (!first) throw new NotFoundError(`task ${taskId} does not exist`);
  const messages = rows.map(toJoinedMessage).filter((m) => m !== null);
  return { ...toTaskRecord(first), messages };
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

/**
 * Lists tasks newest first with optional filters. The cursor is a keyset position (the insertion
 * sequence), so pages stay stable while tasks are added; only present filters reach the SQL text.
 */
export async function listTasks(
  db: Db,
  filter: TaskFilter,
): Promise<{ tasks: TaskRecord[]; nextCursor: string | null }> {
  if (!Number.isInteger(filter.limit) || filter.limit < 1 || filter.limit > 1000) {
    throw new ValidationError('limit must be an integer from 1 to 1000');
  }
  const conditions: SqlFragment[] = [sql`true`];
  if (filter.cursor !== undefined)
    conditions.push(sql`t.seq < ${decodeCursor(filter.cursor)}::bigint`);
  if (filter.status) conditions.push(sql`t.status = ${filter.status}::text`);
  if (filter.action) conditions.push(sql`t.action = ${filter.action}::text`);
  if (filter.parentTaskId)
    conditions.push(sql`t.parent_task_id = ${p.uuid(filter.parentTaskId)}::uuid`);
  if (filter.topLevel) conditions.push(sql`t.parent_task_id is null`);
  if (filter.createdBy) conditions.push(sql`t.created_by = ${filter.createdBy}::text`);
  const rows = await run(
    db,
    statement(
      { ...TASK_COLUMNS, seq: 'int' },
      sql`select ${TASK_SELECT}, t.seq as "seq" from tasks t
where ${sql.join(conditions, ' and ')}
order by t.seq desc limit ${filter.limit + 1}::int`,
    ),
  );
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  return {
    tasks: page.map(toTaskRecord),
    nextCursor: rows.length > filter.limit && last ? encodeCursor(last.seq) : null,
  };
}

/** Subtasks of a parent in registration order: all, active (not finished) or complete (finished). */
export async function listSubtasks(
  db: Db,
  parentTaskId: string,
  which: SubtaskSelection,
): Promise<TaskRecord[]> {
  const scope =
    which === 'all'
      ? sql`true`
      : which === 'active'
        ? sql`t.status not in ${FINISHED}`
        : sql`t.status in ${FINISHED}`;
  const rows = await run(
    db,
    statement(
      TASK_COLUMNS,
      sql`select ${TASK_SELECT} from tasks t
where t.parent_task_id = ${p.uuid(parentTaskId)}::uuid and ${scope}
order by t.seq`,
    ),
  );
  return rows.map(toTaskRecord);
}

/**
 * The task tree under `rootTaskId` down to `layers` layers (1 = the root only, -1 = all), breadth
 * first, every task with its messages: one recursive statement instead of Drydock's two reads
 * per node.
 */
export async function getTaskTree(
  db: Db,
  rootTaskId: string,
  options: { layers: number },
): Promise<TreeTask[]> {
  if (!Number.isInteger(options.layers) || (options.layers < 1 && options.layers !== -1)) {
    throw new ValidationError('layers must be -1 or a positive integer');
  }
  const rows = await run(
    db,
    statement(
      { ...TASK_COLUMNS, layer: 'int', ...JOINED_MESSAGE_COLUMNS },
      sql`with recursive tree as (
  select task_id, 1 as layer from tasks where task_id = ${p.uuid(rootTaskId)}::uuid
  union all
  select c.task_id, tree.layer + 1 from tasks c join tree on c.parent_task_id = tree.task_id
  where ${options.layers}::int < 0 or tree.layer < ${options.layers}::int
)
select ${TASK_SELECT}, tree.layer as "layer", ${JOINED_MESSAGE_SELECT}
from tree join tasks t on t.task_id = tree.task_id
left join result_message m on m.task_id = t.task_id
order by tree.layer, t.seq, m.sequence`,
    ),
  );
  if (rows.length === 0) throw new NotFoundError(`task ${rootTaskId} does not exist`);
  const tree: TreeTask[] = [];
  for (const row of rows) {
    let current = tree.at(-1);
    if (!current || current.taskId !== row.taskId) {
      current = { ...toTaskRecord(row), layer: row.layer, messages: [] };
      tree.push(current);
    }
    const message = toJoinedMessage(row);
    if (message) current.messages.push(message);
  }
  return tree;
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
  duplicate: 'bool',
} as const satisfies ColumnSpec;

/** The lease row when it is live: writes carrying an epoch must match it. */
const LIVE_LEASE = sql`select epoch from active_instance where lease_id = 1 and expires_at > now()`;

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
    if (target === 'queued' || target === 'requested') {
      sets.push(sql`claimed_epoch = null, claimed_by = null, claimed_at = null`);
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
  const { epoch, eventKey } = condition;
  if (epoch !== undefined) where.push(sql`exists (${LIVE_LEASE} and epoch = ${epoch}::bigint)`);
  if (eventKey !== undefined) {
    where.push(sql`not exists (select 1 from applied_event where event_key = ${eventKey}::text)`);
  }
  const applied =
    eventKey === undefined
      ? sql.empty
      : sql`, applied as (insert into applied_event (event_key) select ${eventKey}::text from upd)`;
  const leaseEpoch = epoch === undefined ? sql`null::bigint` : sql`(${LIVE_LEASE})`;
  const duplicate =
    eventKey === undefined
      ? sql`false`
      : sql`exists (select 1 from applied_event where event_key = ${eventKey}::text)`;
  const rows = await runRetryingOnConflict(
    db,
    statement(
      UPDATE_COLUMNS,
      sql`with upd as (
  update tasks set ${sql.join(sets, ', ')}
  where ${sql.join(where, ' and ')}
  returning *
)${applied}
select ${TASK_SELECT}, cur.status as "currentStatus", cur.version as "currentVersion",
  ${leaseEpoch} as "leaseEpoch", ${duplicate} as "duplicate"
from (select 1) as one
left join upd t on true
left join tasks cur on cur.task_id = ${id}::uuid`,
    ),
    'applied_event_pkey',
  );
  const row = rows[0];
  if (row?.taskId) return toTaskRecord(row as Parameters<typeof toTaskRecord>[0]);
  if (!row || row.currentStatus === null) throw new NotFoundError(`task ${taskId} does not exist`);
  if (row.duplicate) return getTask(db, taskId);
  if (epoch !== undefined && row.leaseEpoch !== epoch) {
    throw new LeaseLostError(
      `lease epoch ${epoch} is not the current one (${row.leaseEpoch ?? 'none live'}); the write was fenced`,
    );
  }
  if (condition.expectedVersion !== undefined && row.currentVersion !== condition.expectedVersion) {
    throw new ConflictError(
      `task ${taskId} is at version ${row.currentVersion}, not ${condition.expectedVersion}; read it again`,
    );
  }
  throw new ConflictError(`task ${taskId} cannot move from ${row.currentStatus} to ${target}`);
}

const TERMINATE_COLUMNS = { ...TASK_COLUMNS, isRoot: 'bool' } as const satisfies ColumnSpec;

/**
 * Requests termination. A task not yet running ends `terminated` at once (it will never be
 * claimed); a running one becomes `terminating` until its worker stops. With `recursive`, every
 * unfinished descendant too. Finished tasks are left as they are. Returns the tasks changed.
 */
export async function terminateTask(
  db: Db,
  taskId: string,
  options: { terminatedBy: string | null; recursive: boolean },
): Promise<TaskRecord[]> {
  const rows = await run(
    db,
    statement(
      TERMINATE_COLUMNS,
      sql`with recursive targets as (
  select task_id from tasks where task_id = ${p.uuid(taskId)}::uuid
  union all
  select c.task_id from tasks c join targets on c.parent_task_id = targets.task_id
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
  returning t.*
)
select ${TASK_SELECT}, false as "isRoot" from upd t
union all
select ${TASK_SELECT}, true as "isRoot" from tasks t where t.task_id = ${p.uuid(taskId)}::uuid`,
    ),
  );
  const root = rows.find((r) => r.isRoot);
  if (!root) throw new NotFoundError(`task ${taskId} does not exist`);
  const changed = rows.filter((r) => !r.isRoot);
  if (root.status === 'complete' && !changed.some((r) => r.taskId === taskId)) {
    throw new ConflictError(`task ${taskId} is already complete`);
  }
  return changed.map(toTaskRecord);
}

/**
 * Rolls the finished subtasks' results up into the parent (Drydock's `bubble_results` then
 * `align_result`): successes from subtasks matching the action filter; failures from every
 * subtask of the parent's retry sequence (all of them when the parent's retry is 0); the status
 * `success` when the task has no subtasks at all, else from the matching finished subtasks:
 * success only → success, failure only → failure, both → partial_success, none → incomplete.
 */
export async function rollUpResults(
  db: Db,
  taskId: string,
  options: { actionFilter?: Action; epoch?: number } = {},
): Promise<TaskRecord> {
  const filter = p.text(options.actionFilter ?? null);
  const epoch = p.int(options.epoch ?? null);
  const rows = await run(
    db,
    statement(
      {
        ...TASK_COLUMNS,
        taskId: 'uuid?',
        created: 'timestamptz?',
        found: 'bool',
        leaseEpoch: 'int?',
      },
      sql`with lease as (${LIVE_LEASE}),
parent as (select task_id, retry from tasks where task_id = ${p.uuid(taskId)}::uuid),
kids as (select c.* from tasks c join parent on c.parent_task_id = parent.task_id),
done as (
  select d.*,
    (${filter}::text is null or d.action = ${filter}::text) as matches,
    (parent.retry = 0 or d.retry = parent.retry) as same_retry
  from kids d cross join parent where d.status in ${FINISHED}
),
agg as (
  select
    (select count(*) from kids) as n_all,
    coalesce(bool_or(matches and result_status in ('success', 'partial_success')), false) as any_success,
    coalesce(bool_or(matches and same_retry and result_status in ('failure', 'partial_success')), false) as any_failure,
    (select coalesce(jsonb_agg(x order by x), '[]'::jsonb) from (select distinct jsonb_array_elements_text(d.result_successes) as x from done d where d.matches) s) as successes,
    (select coalesce(jsonb_agg(x order by x), '[]'::jsonb) from (select distinct jsonb_array_elements_text(d.result_failures) as x from done d where d.same_retry) f) as failures
  from done
),
upd as (
  update tasks t set
    result_status = case when agg.n_all = 0 then 'success'
                         when agg.any_success and agg.any_failure then 'partial_success'
                         when agg.any_success then 'success'
                         when agg.any_failure then 'failure'
                         else 'incomplete' end,
    result_successes = agg.successes,
    result_failures = agg.failures,
    version = t.version + 1,
    updated = now()
  from agg
  where t.task_id = ${p.uuid(taskId)}::uuid
    and (${epoch}::bigint is null or exists (select 1 from lease where epoch = ${epoch}::bigint))
  returning t.*
)
select ${TASK_SELECT}, exists (select 1 from parent) as "found", (select epoch from lease) as "leaseEpoch"
from (select 1) as one left join upd t on true`,
    ),
  );
  const row = rows[0];
  if (row?.taskId) return toTaskRecord(row as Parameters<typeof toTaskRecord>[0]);
  if (!row?.found) throw new NotFoundError(`task ${taskId} does not exist`);
  throw new LeaseLostError(
    `lease epoch ${options.epoch} is not the current one (${row.leaseEpoch ?? 'none live'}); the write was fenced`,
  );
}

// ---------------------------------------------------------------------------------------------
// Queue

/**
 * Claims the oldest queued tasks for the current lease holder (`FOR UPDATE SKIP LOCKED`, so
 * concurrent claimers never take the same task) and stamps them with its epoch. A task already
 * flagged for termination is moved to `terminated` instead and returned as such, never run.
 * Refused with `LeaseLostError` when the caller is not the live holder at that epoch.
 */
export async function claimTasks(db: Db, request: ClaimRequest): Promise<TaskRecord[]> {
  const limit = request.limit ?? 1;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new ValidationError('limit must be an integer from 1 to 100');
  }
  const actions = request.actions && request.actions.length > 0 ? request.actions : null;
  const rows = await run(
    db,
    statement(
      { ...TASK_COLUMNS, taskId: 'uuid?', created: 'timestamptz?', leaseHeld: 'bool' },
      sql`with lease as (
  select epoch from active_instance
  where lease_id = 1 and holder = ${request.instanceId}::text and epoch = ${request.epoch}::bigint
    and expires_at > now()
),
next as (
  select task_id from tasks
  where status = 'queued' and exists (select 1 from lease)
    ${actions ? sql`and action in (select jsonb_array_elements_text(${p.json(actions)}::jsonb))` : sql.empty}
  order by seq
  limit ${limit}::int
  for update skip locked
),
claimed as (
  update tasks t set
    status = case when t.terminate then 'terminated' else 'running' end,
    terminated = case when t.terminate then coalesce(t.terminated, now()) else t.terminated end,
    claimed_epoch = ${request.epoch}::bigint,
    claimed_by = ${request.instanceId}::text,
    claimed_at = now(),
    version = t.version + 1,
    updated = now()
  from next where t.task_id = next.task_id
  returning t.*
)
select ${TASK_SELECT}, exists (select 1 from lease) as "leaseHeld"
from (select 1) as one left join claimed t on true
order by t.seq`,
    ),
  );
  if (!rows[0]?.leaseHeld) {
    throw new LeaseLostError(
      `instance ${request.instanceId} does not hold the lease at epoch ${request.epoch}`,
    );
  }
  return rows
    .filter((r) => r.taskId !== null)
    .map((r) => toTaskRecord(r as Parameters<typeof toTaskRecord>[0]));
}

/**
 * Gives back work stranded by a dead epoch: tasks claimed under an older epoch and still running
 * go back to `queued` (or to `terminated` when termination was requested), each with a message
 * saying why. Only the live holder at `epoch` (and, when named, `instanceId`) may do this;
 * bounded by `limit` per call.
 */
export async function requeueStrandedTasks(
  db: Db,
  options: { epoch: number; limit: number; instanceId?: string },
): Promise<{ requeued: number; terminated: number }> {
  const holder =
    options.instanceId === undefined ? sql.empty : sql` and holder = ${options.instanceId}::text`;
  const rows = await run(
    db,
    statement(
      { requeued: 'int', terminated: 'int', leaseHeld: 'bool' },
      sql`with lease as (${LIVE_LEASE} and epoch = ${options.epoch}::bigint${holder}),
stranded as (
  select task_id, claimed_epoch from tasks
  where status in ('running', 'terminating') and claimed_epoch < (select epoch from lease)
  order by seq limit ${options.limit}::int
  for update skip locked
),
upd as (
  update tasks t set
    status = case when t.terminate or t.status = 'terminating' then 'terminated' else 'queued' end,
    terminated = case when t.terminate or t.status = 'terminating' then coalesce(t.terminated, now()) else t.terminated end,
    claimed_epoch = null, claimed_by = null, claimed_at = null,
    message_seq = t.message_seq + 1,
    version = t.version + 1,
    updated = now()
  from stranded s where t.task_id = s.task_id
  returning t.task_id, t.status, t.message_seq, s.claimed_epoch as old_epoch
),
note as (
  insert into result_message (task_id, sequence, message, error, context_type, context)
  select task_id, message_seq,
    case when status = 'queued' then 'Requeued: lease epoch ' || old_epoch || ' that claimed this task has ended'
         else 'Terminated: lease epoch ' || old_epoch || ' that claimed this task has ended' end,
    false, 'task', task_id::text
  from upd
)
select (select count(*) from upd where status = 'queued')::int as "requeued",
  (select count(*) from upd where status = 'terminated')::int as "terminated",
  exists (select 1 from lease) as "leaseHeld"`,
    ),
  );
  const row = rows[0];
  if (!row?.leaseHeld)
    throw new LeaseLostError(`lease epoch ${options.epoch} is not live; requeue refused`);
  return { requeued: row.requeued, terminated: row.terminated };
}

// ---------------------------------------------------------------------------------------------
// Retention

/**
 * Deletes up to `batchSize` finished top-level tasks older than `olderThanDays` (by last change),
 * with their subtasks and messages (foreign keys cascade). A tree with any unfinished task is
 * kept whole: a running task is never deleted. Build data is kept. Also drops applied-event keys
 * older than SQS's 14-day maximum retention. Never VACUUM FULL: plain autovacuum reclaims space.
 */
export async function purgeFinishedTasks(
  db: Db,
  options: { olderThanDays: number; batchSize: number },
): Promise<PurgeResult> {
  if (!Number.isInteger(options.olderThanDays) || options.olderThanDays < 1) {
    throw new ValidationError('days must be a positive integer');
  }
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1 || options.batchSize > 10_000) {
    throw new ValidationError('batch size must be an integer from 1 to 10000');
  }
  const rows = await run(
    db,
    statement(
      { deleted: 'int', candidates: 'int' },
      sql`with candidates as (
  select t.task_id from tasks t
  where t.parent_task_id is null and t.status in ${FINISHED}
    and t.updated < now() - make_interval(days => ${options.olderThanDays}::int)
    and not exists (
      with recursive d as (
        select c.task_id, c.status from tasks c where c.parent_task_id = t.task_id
        union all
        select c.task_id, c.status from tasks c join d on c.parent_task_id = d.task_id
      )
      select 1 from d where d.status not in ${FINISHED}
    )
  order by t.updated
  limit ${options.batchSize + 1}::int
  for update skip locked
),
gone as (
  delete from tasks t using (select task_id from candidates limit ${options.batchSize}::int) v
  where t.task_id = v.task_id
  returning 1
),
old_events as (
  delete from applied_event where event_key in (
    select event_key from applied_event where applied_at < now() - interval '14 days'
    limit ${options.batchSize}::int)
)
select (select count(*) from gone)::int as "deleted", (select count(*) from candidates)::int as "candidates"`,
    ),
  );
  const row = rows[0] ?? { deleted: 0, candidates: 0 };
  return { deletedTasks: row.deleted, more: row.candidates > options.batchSize };
}
