import type { Db } from '../db/port.ts';
import { type ColumnSpec, sql, statement } from '../db/sql.ts';
import { ValidationError } from '../errors.ts';
import { LIMITS } from '../limits.ts';
import { run } from './run.ts';
import type { PurgeResult } from './types.ts';

/** One object, not one per call: the decoder caches a column list's layout by its identity. */
const PURGED_COLUMNS = { deleted: 'int', candidates: 'int' } as const satisfies ColumnSpec;

const FINISHED = sql`('complete', 'terminated')`;

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
  if (
    !Number.isInteger(options.batchSize) ||
    options.batchSize < 1 ||
    options.batchSize > LIMITS.retentionBatch
  ) {
    throw new ValidationError(`batch size must be an integer from 1 to ${LIMITS.retentionBatch}`);
  }
  const rows = await run(
    db,
    statement(
      PURGED_COLUMNS,
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
