import type { Db } from '#shared/db/port.ts';
import { sql, statement } from '#shared/db/sql.ts';
import { claimLease } from '#shared/store/lease.ts';
import { createTask } from '#shared/store/tasks.ts';
import type { NewTask, TaskRecord } from '#shared/store/types.ts';

/** Creates a queued top-level task with sensible defaults. */
export async function queuedTask(db: Db, overrides: Partial<NewTask> = {}): Promise<TaskRecord> {
  const { task } = await createTask(db, {
    action: 'deploy_nodes',
    designRef: 'https://designs.example.com/site.yaml',
    status: 'queued',
    createdBy: 'tester',
    ...overrides,
  });
  return task;
}

/** Empties every table (between tests that need a clean slate, e.g. the queue and the lease). */
export async function resetTables(db: Db): Promise<void> {
  await db.query(
    statement(
      {},
      sql`truncate tasks, result_message, build_data, active_instance, applied_event, maintenance_claim`,
    ),
  );
}

/** Makes `instanceId` the lease holder and returns its epoch. */
export async function becomeLeader(
  db: Db,
  instanceId = 'leader-a',
  graceSeconds = 60,
): Promise<number> {
  const claim = await claimLease(db, { instanceId, graceSeconds });
  if (!claim.held) throw new Error(`${instanceId} could not take the lease from ${claim.holder}`);
  return claim.epoch;
}

/** Moves the clock of a row backwards: ages tasks for retention tests without sleeping. */
export async function ageTask(db: Db, taskId: string, days: number): Promise<void> {
  await db.query(
    statement(
      {},
      sql`update tasks set updated = now() - make_interval(days => ${days}::int), created = now() - make_interval(days => ${days}::int) where task_id = ${taskId}::uuid`,
    ),
  );
}
