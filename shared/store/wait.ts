import type { Db } from '../db/port.ts';
import { type ColumnSpec, p, sql, statement } from '../db/sql.ts';
import { run } from './run.ts';

// One object per statement, not per call: the decoder caches a column list's layout by its identity.
const MARK_COLUMNS = { version: 'int', messageSeq: 'int' } as const satisfies ColumnSpec;
const FIGURES_COLUMNS = {
  queued: 'int',
  oldestQueuedSeconds: 'float?',
  stuck: 'int',
  eventsPending: 'int',
} as const satisfies ColumnSpec;

/** What a wait compares: a task's version and its last message's sequence. */
export interface TaskMark {
  readonly version: number;
  readonly messageSeq: number;
}

/**
 * The task's version and message counter: one primary-key probe, the cheapest statement a wait
 * can repeat (on the Data API one ExecuteStatement of a few hundred bytes). Null when the task
 * does not exist.
 */
export async function readTaskMark(db: Db, taskId: string): Promise<TaskMark | null> {
  const rows = await run(
    db,
    statement(
      MARK_COLUMNS,
      sql`select t.version as "version", t.message_seq as "messageSeq" from tasks t
where t.task_id = ${p.uuid(taskId)}::uuid`,
    ),
  );
  return rows[0] ?? null;
}

/** The queue figures the schedule publishes, read in one statement. */
export interface QueueFigures {
  readonly queued: number;
  readonly oldestQueuedSeconds: number | null;
  /** Running (or terminating) tasks past their action's bound. */
  readonly stuck: number;
  /** Outbox events not yet published. */
  readonly eventsPending: number;
}

/**
 * Queue depth, the oldest queued task's age, the running tasks past their action's bound and the
 * outbox backlog, in one statement on the database clock, through `task_queue` (the live tasks,
 * migration 0005) rather than a scan of every task: running tasks are those an epoch owns (every
 * claimed task, every subtask of one). A task runs from its claim (subtasks, which are never
 * claimed, from their last change). `boundsSeconds` maps an action to its bound; actions not in
 * it use `defaultSeconds`.
 */
export async function readQueueFigures(
  db: Db,
  options: { defaultSeconds: number; boundsSeconds: Readonly<Record<string, number>> },
): Promise<QueueFigures> {
  const rows = await run(
    db,
    statement(
      FIGURES_COLUMNS,
      sql`with bound as (
  select key as action, value::int as secs from jsonb_each_text(${p.json(options.boundsSeconds)}::jsonb)
),
q as (
  select count(*)::int as queued, extract(epoch from now() - min(t.created))::float8 as oldest
  from task_queue q join tasks t on t.task_id = q.task_id where q.queued and t.status = 'queued'
)
select q.queued as "queued", q.oldest as "oldestQueuedSeconds",
  (select count(*) from task_queue o join tasks t on t.task_id = o.task_id
   left join bound b on b.action = t.action
   where not o.queued and t.status in ('running', 'terminating')
     and coalesce(t.claimed_at, t.updated) < now() - make_interval(secs => coalesce(b.secs, ${options.defaultSeconds}::int)))::int as "stuck",
  (select count(*) from event_outbox where published_at is null)::int as "eventsPending"
from q`,
    ),
  );
  return rows[0] ?? { queued: 0, oldestQueuedSeconds: null, stuck: 0, eventsPending: 0 };
}
