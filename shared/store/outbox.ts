import type { Db } from '../db/port.ts';
import { type ColumnSpec, p, type SqlFragment, sql, statement } from '../db/sql.ts';
import { ValidationError } from '../errors.ts';
import { run } from './run.ts';

/**
 * The transactional outbox (`event_outbox`, migration 0006). The statements that change a task's
 * status or result insert the change's event row in a CTE of their own statement, with the
 * fragments below, so a change and its event commit (or roll back) together, and return the rows
 * they wrote (`returnedEvents`) to the inline publisher's hand-off, which delivers them without
 * reading them back (on any other Db, `Db.returnsEvents` unset, they return nothing there).
 * The publisher (`shared/notify/publisher.ts`) delivers them and marks them; rows nobody
 * delivered (a crash, a failed delivery) are claimed by the schedule's sweep.
 */

export const DETAIL_TYPES = ['Task Status Change', 'Lease Takeover', 'Boot Action Status'] as const;
export type DetailType = (typeof DETAIL_TYPES)[number];

/** Where a status-changing statement's event comes from. */
export interface TaskChangeSource {
  /**
   * The FROM list that yields one row per changed task, the task row after the change aliased `n`
   * (a CTE returning `tasks.*`), joined to whatever holds the values before it.
   */
  readonly from: SqlFragment;
  /** The status before the change (`null::text` for a new task). */
  readonly oldStatus: SqlFragment;
  /** The result status before the change (`null::text` for a new task). */
  readonly oldResult: SqlFragment;
  /** The epoch the event names; the task's owning epoch after the change by default. */
  readonly epoch?: SqlFragment;
}

/**
 * How an event-writing CTE ends: `returning *` for a Db that asks for its events
 * (`Db.returnsEvents`), which `returnedEvents` reads; nothing otherwise, as nothing else reads an
 * event CTE back, and each row projected and kept for the rest of a statement costs the server
 * (about 10 µs a create, measured).
 */
export function eventsReturning(db: Db): SqlFragment {
  return db.returnsEvents === true ? RETURNING_ALL : sql.empty;
}

const RETURNING_ALL = sql`returning *`;

/**
 * The task columns an event reads from `n` (`taskChangeEvents`): a CTE that feeds it need return
 * no more of the row than these (and what its own statement reads).
 */
export const EVENT_TASK_COLUMNS = sql`task_id, parent_task_id, action, status, result_status, claimed_epoch, version`;

/**
 * The body of a data-modifying CTE (`events as (${taskChangeEvents(…)})`) that writes one
 * "Task Status Change" row per changed task whose status or result status moved: a write that
 * only adds a message, a link or a reason announces nothing. Each row carries the task's version
 * after the change, so consumers order and de-duplicate by it.
 */
export function taskChangeEvents(db: Db, source: TaskChangeSource): SqlFragment {
  const epoch = source.epoch ?? sql`n.claimed_epoch`;
  return sql`insert into event_outbox (detail_type, task_id, parent_task_id, action, old_status,
    new_status, result_status, epoch, version)
  select 'Task Status Change', n.task_id, n.parent_task_id, n.action, ${source.oldStatus}, n.status,
    n.result_status, ${epoch}, n.version
  from ${source.from}
  where (${source.oldStatus}) is distinct from n.status or (${source.oldResult}) is distinct from n.result_status
  ${eventsReturning(db)}`;
}

/** A created task's event: from nothing to its first status. `created` returns at least `EVENT_TASK_COLUMNS`. */
export function createdTaskEvents(db: Db, created: SqlFragment): SqlFragment {
  return taskChangeEvents(db, {
    from: sql`${created} n`,
    oldStatus: sql`null::text`,
    oldResult: sql`null::text`,
  });
}

/**
 * The column a statement that wrote events returns them in (`returnedEvents`), on one row only:
 * the publisher's hand-off (`shared/notify/hand-off.ts`) takes it off the rows before the store
 * sees them.
 */
export const RETURNED_EVENTS = 'outboxEvents';

/** `RETURNED_EVENTS` as a column to spread into a statement's column spec. */
export const RETURNED_EVENTS_COLUMN = { [RETURNED_EVENTS]: 'json?' } as const satisfies ColumnSpec;

/**
 * Most bytes of returned events and what shares their row: one Data API row carries 64 KB. A
 * statement that wrote more than fits (a large tree terminated, a big batch, beside a task row
 * near its bound) returns how many instead, and the publisher reads them back with a claim.
 */
const RETURNED_EVENTS_ROW_BYTES = 60 * 1024;

/**
 * The select-list entry returning the event rows the data-modifying CTE `cte` wrote (its
 * `returning *`), as one JSON array in event order, or `{"omitted": n}` when they and `beside`
 * (the bytes of the row's other columns, e.g. a task's `answer_bytes`) would pass
 * `RETURNED_EVENTS_ROW_BYTES`; null when it wrote none. A statement returning several rows puts it
 * on one of them (`null::json` on the others). Null on a Db that does not ask for its events
 * (`Db.returnsEvents`): nobody would read them.
 */
export function returnedEvents(
  db: Db,
  cte: SqlFragment,
  beside: SqlFragment = sql`0`,
): SqlFragment {
  return sql`${returnedEventsValue(db, cte, beside)} as "outboxEvents"`;
}

/** `returnedEvents` without its column name, for an expression that picks the row it rides on. */
export function returnedEventsValue(
  db: Db,
  cte: SqlFragment,
  beside: SqlFragment = sql`0`,
): SqlFragment {
  if (db.returnsEvents !== true) return NO_RETURNED_EVENTS;
  return sql`(select case when x.j is null then null
    when octet_length(x.j::text) + coalesce(${beside}, 0) + 1024 <= ${RETURNED_EVENTS_ROW_BYTES}::int
      then x.j else json_build_object('omitted', json_array_length(x.j)) end
  from (select json_agg(json_build_object('eventId', e.event_id, 'detailType', e.detail_type,
    'taskId', e.task_id, 'parentTaskId', e.parent_task_id, 'action', e.action,
    'oldStatus', e.old_status, 'newStatus', e.new_status, 'resultStatus', e.result_status,
    'epoch', e.epoch, 'version', e.version, 'extra', e.extra,
    'created', to_char(e.created at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) order by e.event_id) as j
  from ${cte} e) x)`;
}

const NO_RETURNED_EVENTS = sql`null::json`;

/**
 * The events a statement returned in `RETURNED_EVENTS` (what `returnedEvents` built): `omitted`
 * when they were too many to return, so they are still to be read.
 */
export function toReturnedEvents(value: unknown): { events: OutboxEvent[]; omitted: boolean } {
  // A row that is not an event (never, as `returnedEventsValue` writes them) is not delivered
  // here: it stays pending, and the schedule's sweep reads it the usual way.
  if (Array.isArray(value))
    return { events: value.filter(isEventRow).map(toEvent), omitted: false };
  return { events: [], omitted: value !== null && value !== undefined };
}

/** One pending event as the publisher delivers it. */
export interface OutboxEvent {
  readonly eventId: number;
  readonly detailType: DetailType;
  readonly detail: EventDetail;
}

/**
 * The event's `detail`: the same keys for every detail type (null where they do not apply, e.g.
 * no task on a lease takeover), plus the type's own (`holder`, a boot action's fields).
 */
export interface EventDetail {
  readonly task_id: string | null;
  readonly parent_task_id: string | null;
  readonly action: string | null;
  readonly old_status: string | null;
  readonly new_status: string | null;
  readonly result_status: string | null;
  readonly epoch: number | null;
  readonly version: number | null;
  /** When the change committed's statement ran (database clock), ISO-8601 UTC. */
  readonly time: string;
  readonly [key: string]: unknown;
}

const EVENT_COLUMNS = {
  eventId: 'int',
  detailType: 'text',
  taskId: 'uuid?',
  parentTaskId: 'uuid?',
  action: 'text?',
  oldStatus: 'text?',
  newStatus: 'text?',
  resultStatus: 'text?',
  epoch: 'int?',
  version: 'int?',
  extra: 'json?',
  created: 'timestamptz',
} as const satisfies ColumnSpec;

const EVENT_SELECT = sql`e.event_id as "eventId", e.detail_type as "detailType", e.task_id as "taskId",
  e.parent_task_id as "parentTaskId", e.action as "action", e.old_status as "oldStatus",
  e.new_status as "newStatus", e.result_status as "resultStatus", e.epoch as "epoch",
  e.version as "version", e.extra as "extra", e.created as "created"`;

/** An outbox row as the claim reads it and as `returnedEventsValue` writes it. */
interface EventRow {
  eventId: number;
  detailType: string;
  taskId: string | null;
  parentTaskId: string | null;
  action: string | null;
  oldStatus: string | null;
  newStatus: string | null;
  resultStatus: string | null;
  epoch: number | null;
  version: number | null;
  extra: unknown;
  created: string;
}

/** Whether a returned JSON value is an event row (what the publisher needs is there). */
function isEventRow(value: unknown): value is EventRow {
  if (typeof value !== 'object' || value === null) return false;
  const row = value as Record<string, unknown>;
  return (
    typeof row.eventId === 'number' &&
    typeof row.detailType === 'string' &&
    typeof row.created === 'string'
  );
}

function toEvent(row: EventRow): OutboxEvent {
  return {
    eventId: row.eventId,
    detailType: row.detailType as DetailType,
    detail: {
      ...(row.extra as Record<string, unknown> | null),
      task_id: row.taskId,
      parent_task_id: row.parentTaskId,
      action: row.action,
      old_status: row.oldStatus,
      new_status: row.newStatus,
      result_status: row.resultStatus,
      epoch: row.epoch,
      version: row.version,
      time: row.created,
    },
  };
}

/**
 * Claims up to `limit` pending events, oldest first, for `claimSeconds`: rows another publisher
 * holds (a live claim or a row lock) are skipped, so two publishers never deliver the same row at
 * once, and a publisher that dies before marking leaves them to the next one after the claim.
 */
export async function claimPendingEvents(
  db: Db,
  options: {
    limit: number;
    claimSeconds: number;
    /**
     * Only rows at least this old: the schedule's sweep where writers deliver their own events
     * and mark them with their next statement (`shared/notify/hand-off.ts`), so that it takes
     * what they did not deliver, not what they have yet to mark.
     */
    olderThanSeconds?: number;
  },
): Promise<OutboxEvent[]> {
  if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > 1000) {
    throw new ValidationError('the event batch must be 1 to 1000');
  }
  const rows = await run(
    db,
    statement(
      EVENT_COLUMNS,
      sql`with next as (
  select event_id from event_outbox
  where published_at is null and (claimed_until is null or claimed_until <= now())
    and created <= now() - make_interval(secs => ${options.olderThanSeconds ?? 0}::int)
  order by event_id limit ${options.limit}::int
  for update skip locked
),
claimed as (
  update event_outbox o set claimed_until = now() + make_interval(secs => ${options.claimSeconds}::int)
  from next where o.event_id = next.event_id
  returning o.*
)
select ${EVENT_SELECT} from claimed e order by e.event_id`,
    ),
  );
  return rows.map(toEvent);
}

/**
 * The text of a data-modifying CTE body that marks delivered events published, to ride on a
 * statement already written (`shared/notify/hand-off.ts`): `placeholder` is the parameter holding
 * the event ids as a JSON array. Rows already marked are left as they are.
 */
export function markPublishedText(placeholder: string): string {
  return `update event_outbox set published_at = now(), claimed_until = null
  where event_id in (select (jsonb_array_elements_text(${placeholder}::jsonb))::bigint) and published_at is null`;
}

const MARKED_COLUMNS = { marked: 'int' } as const satisfies ColumnSpec;

/** Marks delivered events published (they leave the pending index). */
export async function markEventsPublished(db: Db, eventIds: readonly number[]): Promise<number> {
  if (eventIds.length === 0) return 0;
  const rows = await run(
    db,
    statement(
      MARKED_COLUMNS,
      sql`with marked as (
  update event_outbox set published_at = now(), claimed_until = null
  where event_id in (select (jsonb_array_elements_text(${p.json(eventIds)}::jsonb))::bigint)
    and published_at is null
  returning 1
)
select count(*)::int as "marked" from marked`,
    ),
  );
  return rows[0]?.marked ?? 0;
}

const RELEASED_COLUMNS = { n: 'int' } as const satisfies ColumnSpec;

/**
 * Gives a claim back at once (a delivery that failed), so the next publisher run retries the rows
 * instead of waiting out the claim.
 */
export async function releaseEventClaims(db: Db, eventIds: readonly number[]): Promise<void> {
  if (eventIds.length === 0) return;
  await run(
    db,
    statement(
      RELEASED_COLUMNS,
      sql`with released as (
  update event_outbox set claimed_until = null
  where event_id in (select (jsonb_array_elements_text(${p.json(eventIds)}::jsonb))::bigint)
    and published_at is null
  returning 1
)
select count(*)::int as "n" from released`,
    ),
  );
}

/**
 * Events after `afterId` in id order, published or not (a stream's replay after a reconnect,
 * `Last-Event-ID`); at most `limit`.
 */
export async function readEventsAfter(
  db: Db,
  afterId: number,
  limit: number,
): Promise<OutboxEvent[]> {
  const rows = await run(
    db,
    statement(
      EVENT_COLUMNS,
      sql`select ${EVENT_SELECT} from event_outbox e where e.event_id > ${afterId}::bigint
order by e.event_id limit ${limit}::int`,
    ),
  );
  return rows.map(toEvent);
}

/** Outbox state for the schedule's metrics and the health of the publisher. */
export interface OutboxBacklog {
  readonly pending: number;
  readonly oldestPendingSeconds: number | null;
  readonly purged: number;
}

const PURGED_COLUMNS = {
  pending: 'int',
  oldestPendingSeconds: 'float?',
  purged: 'int',
} as const satisfies ColumnSpec;

/**
 * Drops events published `keepSeconds` ago or earlier (at most `limit` rows) and reports the
 * backlog, in one statement: the schedule's outbox upkeep. The bounds are inclusive here and in
 * the claim's lapse: PGlite's clock ticks in milliseconds, so consecutive statements can share one
 * `now()`, and a strict bound would keep a row `keepSeconds: 0` means to drop.
 */
export async function purgePublishedEvents(
  db: Db,
  options: { keepSeconds: number; limit: number },
): Promise<OutboxBacklog> {
  const rows = await run(
    db,
    statement(
      PURGED_COLUMNS,
      sql`with gone as (
  delete from event_outbox where event_id in (
    select event_id from event_outbox
    where published_at is not null and published_at <= now() - make_interval(secs => ${options.keepSeconds}::int)
    order by published_at limit ${options.limit}::int)
  returning 1
)
select (select count(*) from event_outbox where published_at is null)::int as "pending",
  (select extract(epoch from now() - min(created))::float8 from event_outbox where published_at is null)
    as "oldestPendingSeconds",
  (select count(*) from gone)::int as "purged"`,
    ),
  );
  return rows[0] ?? { pending: 0, oldestPendingSeconds: null, purged: 0 };
}
