import type { Db } from '../db/port.ts';
import { type ColumnSpec, sql, statement } from '../db/sql.ts';
import { ValidationError } from '../errors.ts';
import { run } from './run.ts';

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
  if (!Number.isInteger(listLimit) || listLimit < 0 || listLimit > 1000) {
    throw new ValidationError('the list limit must be 0 to 1000');
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
