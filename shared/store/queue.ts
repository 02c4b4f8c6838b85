import type { Db } from '../db/port.ts';
import { type ColumnSpec, p, type SqlFragment, sql, statement } from '../db/sql.ts';
import { STATUS_TRANSITIONS, TASK_STATUSES, type TaskStatus } from '../domain.ts';
import { LeaseLostError, ValidationError } from '../errors.ts';
import { LIMITS } from '../limits.ts';
import { READ_BUDGET_BYTES, withMeta } from './bounds.ts';
import { fenced, fenceOf, LIVE_LEASE } from './fence.ts';
import {
  RETURNED_EVENTS_COLUMN,
  returnedEvents,
  returnedEventsValue,
  taskChangeEvents,
} from './outbox.ts';
import { run } from './run.ts';
import { hasTask, TASK_COLUMNS, TASK_SELECT, toTaskRecord } from './task-row.ts';
import type {
  ClaimRequest,
  CompletionOutcome,
  RecoveryResult,
  TaskCompletion,
  TaskRecord,
} from './types.ts';

/**
 * The queue: claiming queued tasks, recovering the work of dead lease epochs, and what an
 * operator sees of it. Queued and owned tasks are found through `task_queue` (migration 0005),
 * which triggers keep in step with `tasks`; every statement here locks the task row before the
 * trigger touches the queue row, so the two are always locked in that order.
 */

/** A running (or terminating) task an operator should look at. */
export interface StuckTask {
  taskId: string;
  parentTaskId: string | null;
  action: string;
  status: string;
  /** The task's last change or message, whichever is later. */
  activeAt: string;
  /** Seconds since then, on the database clock. */
  idleSeconds: number;
  claimedEpoch: number | null;
  /** No change and no message for longer than the bound. */
  stale: boolean;
  /** Claimed under a lease epoch that is no longer the live one (its orchestrator is gone). */
  stranded: boolean;
}

/** The queue as an operator sees it: what waits, for how long, and what may be stuck. */
export interface QueueHealth {
  dbNow: string;
  staleAfterSeconds: number;
  /** The live lease epoch, or null when nobody holds the lease. */
  leaseEpoch: number | null;
  queued: number;
  oldestQueued: { taskId: string; action: string; created: string; ageSeconds: number } | null;
  running: number;
  stale: number;
  stranded: number;
  /** The stuck tasks (stale or stranded), longest idle first, at most `listLimit`. */
  stuck: StuckTask[];
}

const QUEUE_COLUMNS = {
  dbNow: 'timestamptz',
  leaseEpoch: 'int?',
  queued: 'int',
  oldestTaskId: 'uuid?',
  oldestAction: 'text?',
  oldestCreated: 'timestamptz?',
  oldestAgeSeconds: 'float?',
  running: 'int',
  stale: 'int',
  stranded: 'int',
  taskId: 'uuid?',
  parentTaskId: 'uuid?',
  action: 'text?',
  status: 'text?',
  activeAt: 'timestamptz?',
  idleSeconds: 'float?',
  claimedEpoch: 'int?',
  isStale: 'bool?',
  isStranded: 'bool?',
} as const satisfies ColumnSpec;

/**
 * Queue depth, the oldest queued task and the running tasks that look stuck, in one statement on
 * the database clock. "Stale": running or terminating with no change and no new message for
 * `staleAfterSeconds`.
 * "Stranded": claimed under a lease epoch that is not the live one (the requeue after a takeover
 * has not reached it yet). Queued tasks are read through `task_queue`; the running
 * ones are a scan of the tasks table (no index covers unclaimed running subtasks) plus one primary
 * key probe each for its last message, which is fine for an operator's page and not meant for a
 * tight loop.
 */
export async function readQueueHealth(
  db: Db,
  options: { staleAfterSeconds: number; listLimit: number },
): Promise<QueueHealth> {
  const { staleAfterSeconds, listLimit } = options;
  if (!Number.isInteger(staleAfterSeconds) || staleAfterSeconds < 1) {
    throw new ValidationError('the stale bound must be a positive number of seconds');
  }
  if (!Number.isInteger(listLimit) || listLimit < 0 || listLimit > LIMITS.listPage) {
    throw new ValidationError(`the list limit must be 0 to ${LIMITS.listPage}`);
  }
  const rows = await run(
    db,
    statement(
      QUEUE_COLUMNS,
      sql`with lease as (
  select epoch from active_instance where lease_id = 1 and expires_at > now()
),
oldest as (
  select t.task_id, t.action, t.created from task_queue q join tasks t on t.task_id = q.task_id
  where q.queued and t.status = 'queued' order by q.seq limit 1
),
running as (
  select t.task_id, t.parent_task_id, t.action, t.status, t.claimed_epoch,
    greatest(t.updated, (select m.ts from result_message m where m.task_id = t.task_id
                         order by m.sequence desc limit 1)) as active_at
  from tasks t where t.status in ('running', 'terminating')
),
active as (
  select r.*, r.active_at < now() - make_interval(secs => ${staleAfterSeconds}::int) as is_stale,
    r.claimed_epoch is not null and r.claimed_epoch is distinct from (select epoch from lease) as is_stranded
  from running r
),
summary as (
  select now() as db_now,
    (select epoch from lease) as lease_epoch,
    (select count(*) from task_queue where queued)::int as queued,
    (select count(*) from active)::int as running,
    (select count(*) from active where is_stale)::int as stale,
    (select count(*) from active where is_stranded)::int as stranded
),
stuck as (
  select * from active where is_stale or is_stranded order by active_at, task_id limit ${listLimit}::int
)
select s.db_now as "dbNow", s.lease_epoch as "leaseEpoch", s.queued as "queued",
  o.task_id as "oldestTaskId", o.action as "oldestAction", o.created as "oldestCreated",
  extract(epoch from now() - o.created)::float8 as "oldestAgeSeconds",
  s.running as "running", s.stale as "stale", s.stranded as "stranded",
  k.task_id as "taskId", k.parent_task_id as "parentTaskId", k.action as "action",
  k.status as "status", k.active_at as "activeAt",
  extract(epoch from now() - k.active_at)::float8 as "idleSeconds",
  k.claimed_epoch as "claimedEpoch", k.is_stale as "isStale", k.is_stranded as "isStranded"
from summary s
left join oldest o on true
left join stuck k on true
order by k.active_at, k.task_id`,
    ),
  );
  const first = rows[0];
  if (!first) throw new Error('the queue summary returned no row');
  return {
    dbNow: first.dbNow,
    staleAfterSeconds,
    leaseEpoch: first.leaseEpoch,
    queued: first.queued,
    oldestQueued:
      first.oldestTaskId && first.oldestAction && first.oldestCreated
        ? {
            taskId: first.oldestTaskId,
            action: first.oldestAction,
            created: first.oldestCreated,
            ageSeconds: first.oldestAgeSeconds ?? 0,
          }
        : null,
    running: first.running,
    stale: first.stale,
    stranded: first.stranded,
    stuck: rows.flatMap((row) =>
      row.taskId && row.action && row.status && row.activeAt
        ? [
            {
              taskId: row.taskId,
              parentTaskId: row.parentTaskId,
              action: row.action,
              status: row.status,
              activeAt: row.activeAt,
              idleSeconds: row.idleSeconds ?? 0,
              claimedEpoch: row.claimedEpoch,
              stale: row.isStale === true,
              stranded: row.isStranded === true,
            },
          ]
        : [],
    ),
  };
}

/** What a claim took, and how many tasks its limit would have taken that it left queued. */
export type ClaimedTasks = TaskRecord[] & {
  /** Locked candidates left queued because the answer would have passed `CLAIM_BUDGET_BYTES`. */
  deferred: number;
};

/**
 * Bytes of claimed task rows one claim answers at most, counted as `tasks.answer_bytes` (each
 * value as JSON text, so escaping is counted) plus `CLAIM_ROW_FRAMING` a task: one read
 * statement's budget, so the claim's one Data API result stays under 1 MiB and its HTTP answer
 * far under a Lambda answer's 6 MB. Always at least one task is claimed (a task row is at most
 * 62 KiB, migration 0008), so the queue always moves.
 */
export const CLAIM_BUDGET_BYTES = READ_BUDGET_BYTES;

/**
 * What a claim stamp (`claimed_by`) adds to `tasks.answer_bytes`: its JSON text, 4 for null, as
 * the size trigger counts it (migrations 0013, 0014).
 */
const STAMP_BYTES = (stamp: SqlFragment) => sql`coalesce(octet_length(to_json(${stamp})::text), 4)`;

/** A claimed task's ids, numbers, timestamps, keys and per-field framing, on the safe side. */
const CLAIM_ROW_FRAMING = 1024;

/**
 * The claim's candidates (`next`: locked, with their size once stamped) that fit its answer, in
 * FIFO order: a running sum. A claim of one needs none, its one candidate always fits.
 */
const FITS = sql`select task_id, answer_bytes from (
    select task_id, answer_bytes, row_number() over w as n,
      sum(answer_bytes + ${CLAIM_ROW_FRAMING}::int) over w as running
    from next window w as (order by seq)
  ) s
  where n = 1 or running <= ${CLAIM_BUDGET_BYTES}::bigint`;

const CLAIM_COLUMNS = {
  ...TASK_COLUMNS,
  taskId: 'uuid?',
  created: 'timestamptz?',
  leaseHeld: 'bool',
  deferred: 'int',
  ...RETURNED_EVENTS_COLUMN,
} as const satisfies ColumnSpec;

/**
 * Claims the oldest queued tasks for the current lease holder (`FOR UPDATE SKIP LOCKED`, so
 * concurrent claimers never take the same task) and stamps them with its epoch. A task already
 * flagged for termination is moved to `terminated` instead and returned as such, never run.
 * Refused with `LeaseLostError` when the caller is not the live holder at that epoch.
 * Takes at most `limit` tasks and, in FIFO order, only those whose rows fit `CLAIM_BUDGET_BYTES`
 * together (a running sum over the locked candidates' stored sizes): the rest stay queued for the
 * next call and are counted in `deferred`. The bound is inside the statement because an answer
 * cut after claiming would lose claimed tasks.
 */
export async function claimTasks(db: Db, request: ClaimRequest): Promise<ClaimedTasks> {
  const limit = request.limit ?? 1;
  if (!Number.isInteger(limit) || limit < 1 || limit > LIMITS.claim) {
    throw new ValidationError(`limit must be an integer from 1 to ${LIMITS.claim}`);
  }
  const actions = request.actions && request.actions.length > 0 ? request.actions : null;
  const rows = await run(
    db,
    statement(
      CLAIM_COLUMNS,
      sql`with lease as (${fenceOf(sql`${request.epoch}`, sql`${request.instanceId}`)}),
next as (
  -- Each row's size once stamped: less its old claim stamp, plus this one.
  select t.task_id, q.seq,
    t.answer_bytes - ${STAMP_BYTES(sql`t.claimed_by`)} + ${STAMP_BYTES(sql`${request.instanceId}::text`)} as answer_bytes
  from task_queue q join tasks t on t.task_id = q.task_id
  where q.queued and t.status = 'queued' and exists (select 1 from lease)
    ${actions ? sql`and q.action in (select jsonb_array_elements_text(${p.json(actions)}::jsonb))` : sql.empty}
  order by q.seq
  -- Written into the text (a statement per batch size): the plan then expects that many rows and
  -- updates them through the primary key, where a bound limit counts a tenth of the queue.
  limit ${sql.count(limit)}
  for no key update of t skip locked
),
-- The locked candidates that fit the answer, oldest first; the first always does.
fits as (${limit === 1 ? sql`select task_id, answer_bytes from next` : FITS}),
claimed as (
  update tasks t set
    status = case when t.terminate then 'terminated' else 'running' end,
    terminated = case when t.terminate then coalesce(t.terminated, now()) else t.terminated end,
    claimed_epoch = ${request.epoch}::bigint,
    claimed_by = ${request.instanceId}::text,
    -- Written here (the size next worked out), so the size trigger is not called (migration
    -- 0014 checks the sum).
    answer_bytes = n.answer_bytes,
    claimed_at = now(),
    version = t.version + 1,
    updated = now()
  from fits n
  where t.task_id = n.task_id
  returning t.*
),
-- Claimed rows were queued: the claim read them locked, as they were.
events as (${taskChangeEvents(db, { from: sql`claimed n`, oldStatus: sql`'queued'::text`, oldResult: sql`n.result_status` })})
select ${TASK_SELECT}, exists (select 1 from lease) as "leaseHeld",
  ((select count(*) from next) - (select count(*) from fits))::int as "deferred",
  -- The claim's events ride on its first row.
  case when t.seq is not distinct from (select min(seq) from claimed)
    then ${returnedEventsValue(db, sql`events`, sql`t.answer_bytes`)} end as "outboxEvents"
from (select 1) as one left join claimed t on true
order by t.seq`,
    ),
  );
  if (!rows[0]?.leaseHeld) {
    throw new LeaseLostError(
      `instance ${request.instanceId} does not hold the lease at epoch ${request.epoch}`,
    );
  }
  const tasks = rows.filter(hasTask).map((row) => toTaskRecord(row));
  return withMeta(tasks, { deferred: rows[0].deferred });
}

const REQUEUED_COLUMNS = {
  requeued: 'int',
  terminated: 'int',
  leaseHeld: 'bool',
  ...RETURNED_EVENTS_COLUMN,
} as const satisfies ColumnSpec;

/**
 * Recovers the work of dead lease epochs: every unfinished task (requested, running or
 * terminating) owned by an epoch older than the live one, or by any epoch when no lease is live.
 * A caller's top-level task that was running goes back to `queued`, its result reset, so the next
 * leader starts it again; everything else ends `terminated`: the subtasks and internal tasks the
 * dead leader made (nobody else would ever finish them), and tasks whose termination was
 * requested. Each gets a message naming the lost epoch, so no task of a dead leader stays running
 * and the new leader finds a quiet tree. With `epoch` (and `instanceId`) only the live holder at
 * that epoch may do it; without, it is the schedule's recovery, which needs no lease. Bounded by
 * `limit` per call; rows another statement holds are left for the next call.
 */
export async function requeueStrandedTasks(
  db: Db,
  options: { limit: number; epoch?: number | undefined; instanceId?: string | undefined },
): Promise<RecoveryResult> {
  const holder = options.instanceId === undefined ? sql.empty : sql`, ${options.instanceId}::text`;
  const epoch = p.int(options.epoch ?? null);
  const rows = await run(
    db,
    statement(
      REQUEUED_COLUMNS,
      sql`with lease as (select epoch, expires_at > now() as live from active_instance where lease_id = 1),
allowed as (
  select 1 where ${epoch}::bigint is null or lease_fence(${epoch}::bigint${holder})
),
-- Epochs below this one are dead: the live epoch, or every epoch there ever was after a lapse.
bound as (select case when live then epoch else epoch + 1 end as epoch from lease where exists (select 1 from allowed)),
stranded as (
  select t.task_id, t.claimed_epoch, t.status as old_status, t.result_status as old_result,
    t.parent_task_id is null and t.created_epoch is null and t.status = 'running' and not t.terminate as requeue
  from task_queue q join tasks t on t.task_id = q.task_id
  where q.epoch < (select epoch from bound) and not q.queued
    and t.status in ('requested', 'running', 'terminating') and t.claimed_epoch < (select epoch from bound)
  order by q.seq limit ${options.limit}::int
  for no key update of t skip locked
),
upd as (
  update tasks t set
    status = case when s.requeue then 'queued' else 'terminated' end,
    terminated = case when s.requeue then t.terminated else coalesce(t.terminated, now()) end,
    result_status = case when s.requeue then 'incomplete' else t.result_status end,
    result_successes = case when s.requeue then '[]'::jsonb else t.result_successes end,
    result_failures = case when s.requeue then '[]'::jsonb else t.result_failures end,
    claimed_epoch = case when s.requeue then null else t.claimed_epoch end,
    claimed_by = case when s.requeue then null else t.claimed_by end,
    claimed_at = case when s.requeue then null else t.claimed_at end,
    message_seq = t.message_seq + 1,
    version = t.version + 1,
    updated = now()
  from stranded s
  where t.task_id = s.task_id
  returning t.*, s.claimed_epoch as old_epoch, s.old_status, s.old_result
),
events as (${taskChangeEvents(db, { from: sql`upd n`, oldStatus: sql`n.old_status`, oldResult: sql`n.old_result`, epoch: sql`n.old_epoch` })}),
note as (
  insert into result_message (task_id, sequence, message, error, context_type, context)
  select task_id, message_seq,
    case when status = 'queued' then 'Requeued: lease epoch ' || old_epoch || ' that ran this task has ended'
         else 'Terminated: lease epoch ' || old_epoch || ' that ran this task has ended' end,
    false, 'task', task_id::text
  from upd
)
select (select count(*) from upd where status = 'queued')::int as "requeued",
  (select count(*) from upd where status = 'terminated')::int as "terminated",
  exists (select 1 from allowed) as "leaseHeld", ${returnedEvents(db, sql`events`)}`,
    ),
  );
  const row = rows[0];
  if (!row?.leaseHeld) {
    throw new LeaseLostError(`lease epoch ${options.epoch} is not live; requeue refused`);
  }
  return { requeued: row.requeued, terminated: row.terminated };
}

/** Most tasks one batched completion takes. */
export const MAX_COMPLETION_BATCH = 1000;

/** The statuses each completion target may be reached from (the lifecycle's own moves). */
function movesInto(target: 'complete' | 'terminated'): SqlFragment {
  const from = TASK_STATUSES.filter((s) => STATUS_TRANSITIONS[s].includes(target));
  return sql`(x.status = ${target}::text and t.status in (${sql.join(
    from.map((s) => sql`${s}::text`),
    ', ',
  )}))`;
}

const MOVES = sql`(${movesInto('complete')} or ${movesInto('terminated')})`;

const COMPLETE_COLUMNS = {
  taskId: 'uuid',
  applied: 'bool',
  status: 'text?',
  version: 'int?',
  leaseHeld: 'bool',
  liveEpoch: 'int?',
  duplicate: 'bool',
  ...RETURNED_EVENTS_COLUMN,
} as const satisfies ColumnSpec;

/** One task of a completion batch, as the statement reads it. */
interface CompletionRow {
  task_id: string;
  status: 'complete' | 'terminated';
  result_status: string | null;
  set_message: boolean;
  result_message: string | null;
  set_reason: boolean;
  result_reason: string | null;
  add_successes: readonly string[] | null;
  add_failures: readonly string[] | null;
  add_links: readonly unknown[] | null;
}

const COMPLETION_COLUMNS = {
  task_id: 'uuid',
  status: 'text',
  result_status: 'text',
  set_message: 'boolean',
  result_message: 'text',
  set_reason: 'boolean',
  result_reason: 'text',
  add_successes: 'jsonb',
  add_failures: 'jsonb',
  add_links: 'jsonb',
} as const satisfies Record<keyof CompletionRow, string>;

/** A completion batch as rows: one JSON parameter, whatever its size. */
function completionRecordset(batch: readonly CompletionRow[]): SqlFragment {
  return sql`${sql.recordset(COMPLETION_COLUMNS, batch)}
  -- The batch's size, written into the text, so the plan expects that many rows (a function scan
  -- counts 100) and reaches each task through its primary key instead of scanning the table.
  limit ${sql.count(batch.length)}`;
}

/** A batch of one (a worker finishing the task it claimed): its fields as parameters. */
function oneCompletion(row: CompletionRow): SqlFragment {
  const list = (value: readonly unknown[] | null) => sql`${p.json(value)}::jsonb`;
  return sql`select 0 as ord, ${p.uuid(row.task_id)}::uuid as task_id, ${row.status}::text as status,
    ${p.text(row.result_status)}::text as result_status, ${row.set_message}::boolean as set_message,
    ${p.text(row.result_message)}::text as result_message, ${row.set_reason}::boolean as set_reason,
    ${p.text(row.result_reason)}::text as result_reason, ${list(row.add_successes)} as add_successes,
    ${list(row.add_failures)} as add_failures, ${list(row.add_links)} as add_links`;
}

const isStatus = (value: string | null): value is TaskStatus =>
  value !== null && (TASK_STATUSES as readonly string[]).includes(value);

/**
 * Ends many tasks in one statement: each becomes `complete` (or `terminated`) with its result
 * change (the fields of `updateTask`'s result: status, message, reason, entities and links
 * added), all under one lease epoch, fenced like every orchestrator write. A task moves only
 * along the lifecycle (running, terminating or requested to complete; any unfinished status to
 * terminated); each task's outcome says what happened to it, and the others still move. With
 * an `eventKey` (SQS) the batch is applied at most once. Answers only what a worker needs: each
 * task's outcome, status and version.
 */
export async function completeTasks(
  db: Db,
  request: { epoch: number; tasks: readonly TaskCompletion[]; eventKey?: string | undefined },
): Promise<{ outcomes: CompletionOutcome[]; duplicate: boolean }> {
  const { tasks } = request;
  if (tasks.length === 0 || tasks.length > MAX_COMPLETION_BATCH) {
    throw new ValidationError(`complete between 1 and ${MAX_COMPLETION_BATCH} tasks`);
  }
  if (new Set(tasks.map((t) => t.taskId)).size !== tasks.length) {
    throw new ValidationError('a task appears twice in one completion');
  }
  const batch = tasks.map(
    (t): CompletionRow => ({
      task_id: t.taskId,
      status: t.status ?? 'complete',
      result_status: t.result?.status ?? null,
      set_message: t.result !== undefined && 'message' in t.result,
      result_message: t.result?.message ?? null,
      set_reason: t.result !== undefined && 'reason' in t.result,
      result_reason: t.result?.reason ?? null,
      add_successes: t.result?.addSuccesses?.length ? t.result.addSuccesses : null,
      add_failures: t.result?.addFailures?.length ? t.result.addFailures : null,
      add_links: t.result?.addLinks?.length ? t.result.addLinks : null,
    }),
  );
  // With an event key the batch is recorded in `applied_event`, and skipped when it already is;
  // without one (HTTP) the statement does not mention that table at all.
  const eventKey = request.eventKey === undefined ? undefined : p.text(request.eventKey);
  const seen = eventKey
    ? {
        cte: sql`seen as (select 1 from applied_event where event_key = ${eventKey}::text),`,
        unseen: sql` and not exists (select 1 from seen)`,
        applied: sql`,
applied as (
  insert into applied_event (event_key) select ${eventKey}::text
  where exists (select 1 from fence) and not exists (select 1 from seen)
)`,
        duplicate: sql`exists (select 1 from seen)`,
      }
    : { cte: sql.empty, unseen: sql.empty, applied: sql.empty, duplicate: sql`false` };
  const rows = await run(
    db,
    statement(
      COMPLETE_COLUMNS,
      sql`with x as (${batch.length === 1 ? oneCompletion(batch[0] as CompletionRow) : completionRecordset(batch)}),
fence as (${fenceOf(sql`${request.epoch}`)}),
${seen.cte}
-- Each task locked, with its values before the change for the events: the rows the update changes.
prev as (
  select x.*, b.old_status, b.old_result from x cross join lateral (
    select status as old_status, result_status as old_result from tasks where task_id = x.task_id
    for no key update
  ) b
),
upd as (
  update tasks t set
    status = x.status,
    terminated = case when x.status = 'terminated' then coalesce(t.terminated, now()) else t.terminated end,
    result_status = coalesce(x.result_status, t.result_status),
    result_message = case when x.set_message then x.result_message else t.result_message end,
    result_reason = case when x.set_reason then x.result_reason else t.result_reason end,
    result_successes = case when x.add_successes is null then t.result_successes
      else jsonb_append_distinct(t.result_successes, x.add_successes) end,
    result_failures = case when x.add_failures is null then t.result_failures
      else jsonb_append_distinct(t.result_failures, x.add_failures) end,
    result_links = case when x.add_links is null then t.result_links else t.result_links || x.add_links end,
    version = t.version + 1,
    updated = now()
  from prev x
  where t.task_id = x.task_id and ${MOVES} and exists (select 1 from fence)${seen.unseen}
  returning t.task_id, t.parent_task_id, t.action, t.status, t.result_status, t.claimed_epoch, t.version,
    x.old_status, x.old_result
),
events as (${taskChangeEvents(db, { from: sql`upd n`, oldStatus: sql`n.old_status`, oldResult: sql`n.old_result` })})${seen.applied}
select x.task_id as "taskId", u.task_id is not null as "applied", coalesce(u.status, c.status) as "status",
  coalesce(u.version, c.version) as "version", exists (select 1 from fence) as "leaseHeld",
  (${LIVE_LEASE}) as "liveEpoch", ${seen.duplicate} as "duplicate",
  -- The batch's events ride on its first row.
  case when x.ord = (select min(ord) from x) then ${returnedEventsValue(db, sql`events`)} end as "outboxEvents"
from x
left join upd u on u.task_id = x.task_id
-- What a task that did not move is now (one key probe, only for those: kept a subquery by the
-- offset, the test on \`u\` gates the probe; flattened into the join, it filtered after probing
-- every task).
left join lateral (
  select c.status, c.version from tasks c where u.task_id is null and c.task_id = x.task_id offset 0
) c on true
order by x.ord`,
    ),
  );
  const first = rows[0];
  if (first && !first.leaseHeld) throw fenced(request.epoch, first.liveEpoch);
  const outcomes = rows.map((row, i): CompletionOutcome => {
    const status = isStatus(row.status) ? row.status : null;
    const target = (tasks[i] as TaskCompletion).status ?? 'complete';
    return {
      taskId: row.taskId,
      outcome: row.applied
        ? 'completed'
        : status === null
          ? 'missing'
          : status === target
            ? 'already'
            : 'refused',
      status,
      version: row.version,
    };
  });
  return { outcomes, duplicate: first?.duplicate === true };
}
