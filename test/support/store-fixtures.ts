import type { Db } from '#shared/db/port.ts';
import { type ColumnSpec, p, type Row, sql, statement } from '#shared/db/sql.ts';
import { claimLease } from '#shared/store/lease.ts';
import { createTask } from '#shared/store/tasks.ts';
import type { NewTask, TaskRecord } from '#shared/store/types.ts';

/**
 * `count` control characters (U+0001): 1 byte stored, 6 as JSON (`\u0001`), so a text of them
 * reaches a byte bound on its JSON size long before its stored one.
 */
export const controlChars = (count: number): string => '\u0001'.repeat(count);

/** A task's stored answer size (`tasks.answer_bytes`, kept by the size trigger), 0 when it is gone. */
export async function answerBytesOf(db: Db, taskId: string): Promise<number> {
  const [row] = await db.query(
    statement(
      { n: 'int' },
      sql`select answer_bytes as n from tasks where task_id = ${p.uuid(taskId)}::uuid`,
    ),
  );
  return row?.n ?? 0;
}

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
      sql`truncate tasks, task_queue, result_message, build_data, active_instance, applied_event, maintenance_claim, boot_action, boot_action_status, event_outbox`,
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

const LAPSED_COLUMNS = {
  holder: 'text',
  epoch: 'int',
  expiresAt: 'timestamptz',
  dbNow: 'timestamptz',
} as const satisfies ColumnSpec;

/** The lease as `expireLease` left it: its holder, its epoch and when it ended. */
export type LapsedLease = Row<typeof LAPSED_COLUMNS>;

/**
 * Ends the lease's grace period now, as if its holder had fallen silent that long ago: the
 * holder's lease lapses on the database clock without the test sleeping through it. With
 * `only`, it ends that holder's lease at that epoch and nobody else's (a no-op, null, when the
 * lease has moved on), at its last renewal, as a zero grace period would have: a claim already
 * in flight (its `now()` taken before that renewal) cannot take it over, and returns the lease as
 * it ended.
 */
export async function expireLease(
  db: Db,
  only?: { holder: string; epoch: number },
): Promise<LapsedLease | null> {
  const rows = await db.query(
    only
      ? statement(
          LAPSED_COLUMNS,
          sql`update active_instance set expires_at = renewed_at
where lease_id = 1 and holder = ${only.holder}::text and epoch = ${only.epoch}::bigint
returning holder as "holder", epoch as "epoch", expires_at as "expiresAt", now() as "dbNow"`,
        )
      : statement(
          LAPSED_COLUMNS,
          sql`update active_instance set expires_at = now() - interval '1 millisecond', renewed_at = least(renewed_at, now() - interval '1 millisecond')
where lease_id = 1
returning holder as "holder", epoch as "epoch", expires_at as "expiresAt", now() as "dbNow"`,
        ),
  );
  return rows[0] ?? null;
}

/**
 * Moves the lease's timestamps `seconds` into the past, as if it had been claimed and last
 * renewed that much earlier: a grace period runs out, or a refresh shows, without sleeping.
 */
export async function ageLease(db: Db, seconds: number): Promise<void> {
  await db.query(
    statement(
      {},
      sql`update active_instance set acquired_at = acquired_at - make_interval(secs => ${seconds}::int),
  renewed_at = renewed_at - make_interval(secs => ${seconds}::int), expires_at = expires_at - make_interval(secs => ${seconds}::int)
where lease_id = 1`,
    ),
  );
}

/** Moves a maintenance job's last run `seconds` into the past, as if it had run that long ago. */
export async function ageMaintenance(db: Db, job: string, seconds: number): Promise<void> {
  await db.query(
    statement(
      {},
      sql`update maintenance_claim set last_run_at = last_run_at - make_interval(secs => ${seconds}::int) where job = ${job}::text`,
    ),
  );
}

/** Puts a task straight into a state (status, result, retry): the fixture of lifecycle tables. */
export async function forceTask(
  db: Db,
  taskId: string,
  state: {
    status?: string;
    result?: string;
    successes?: string[];
    failures?: string[];
    retry?: number;
    terminate?: boolean;
  },
): Promise<void> {
  await db.query(
    statement(
      {},
      sql`update tasks set
  status = coalesce(${p.text(state.status ?? null)}::text, status),
  result_status = coalesce(${p.text(state.result ?? null)}::text, result_status),
  result_successes = coalesce(${p.json(state.successes ?? null)}::jsonb, result_successes),
  result_failures = coalesce(${p.json(state.failures ?? null)}::jsonb, result_failures),
  retry = coalesce(${p.int(state.retry ?? null)}::int, retry),
  terminate = coalesce(${p.bool(state.terminate ?? null)}::boolean, terminate)
where task_id = ${p.uuid(taskId)}::uuid`,
    ),
  );
}
