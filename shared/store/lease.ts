import type { Db } from '../db/port.ts';
import { type ColumnSpec, sql, statement } from '../db/sql.ts';
import { LeaseLostError, ValidationError } from '../errors.ts';
import { LIMITS } from '../limits.ts';
import { LEASE_EXCLUSIVE } from './fence.ts';
import { eventsReturning, RETURNED_EVENTS_COLUMN, returnedEvents } from './outbox.ts';
import { run } from './run.ts';
import type { LeaseClaim, LeaseState } from './types.ts';

const LEASE_COLUMNS = {
  holder: 'text',
  epoch: 'int',
  acquiredAt: 'timestamptz',
  renewedAt: 'timestamptz',
  expiresAt: 'timestamptz',
  dbNow: 'timestamptz',
  active: 'bool',
} as const satisfies ColumnSpec;

// One object per statement, not per call: the decoder caches a column list's layout by its identity.
const CLAIM_COLUMNS = {
  ...LEASE_COLUMNS,
  held: 'bool',
  ...RETURNED_EVENTS_COLUMN,
} as const satisfies ColumnSpec;
const EPOCH_COLUMNS = { epoch: 'int' } as const satisfies ColumnSpec;
const JOB_COLUMNS = { job: 'text' } as const satisfies ColumnSpec;

const LEASE_SELECT = sql`a.holder as "holder", a.epoch as "epoch", a.acquired_at as "acquiredAt",
  a.renewed_at as "renewedAt", a.expires_at as "expiresAt", now() as "dbNow", a.expires_at > now() as "active"`;

function checkGrace(graceSeconds: number): void {
  if (!Number.isInteger(graceSeconds) || graceSeconds < 1 || graceSeconds > LIMITS.graceSeconds) {
    throw new ValidationError(`the lease grace period must be 1 to ${LIMITS.graceSeconds} seconds`);
  }
}

/**
 * Claims the lease for `instanceId`, or refreshes it when the caller already holds it (Drydock's
 * re-entrant claim never refreshed). Another instance may take it only once it has expired, on
 * the database clock, so the session time zone plays no part. Every takeover (including the
 * holder's own claim after its lease lapsed) increments the epoch and writes a "Lease Takeover"
 * event to the outbox in the same statement. It first takes the fence's lock exclusively
 * (`fence.ts`), so it waits for fenced writes already past their check.
 */
export async function claimLease(
  db: Db,
  options: { instanceId: string; graceSeconds: number },
): Promise<LeaseClaim> {
  checkGrace(options.graceSeconds);
  const rows = await run(
    db,
    statement(
      CLAIM_COLUMNS,
      sql`with claim as (
  insert into active_instance as a (lease_id, holder, epoch, acquired_at, renewed_at, expires_at)
  select 1, ${options.instanceId}::text, 1, now(), now(), now() + make_interval(secs => ${options.graceSeconds}::int)
  where ${LEASE_EXCLUSIVE}
  on conflict (lease_id) do update set
    holder = excluded.holder,
    epoch = case when a.holder = excluded.holder and a.expires_at > now() then a.epoch else a.epoch + 1 end,
    acquired_at = case when a.holder = excluded.holder and a.expires_at > now() then a.acquired_at else now() end,
    renewed_at = now(),
    expires_at = excluded.expires_at
  where a.holder = excluded.holder or a.expires_at <= now()
  returning a.*
),
-- A takeover (a new epoch) is announced; a holder refreshing its own live lease is not. The
-- previous holder is as this statement's snapshot saw it.
prev as (select holder, epoch from active_instance where lease_id = 1),
takeover as (
  insert into event_outbox (detail_type, epoch, extra)
  select 'Lease Takeover', c.epoch, jsonb_build_object('holder', c.holder,
    'previous_holder', (select holder from prev), 'previous_epoch', (select epoch from prev))
  from claim c where c.epoch is distinct from (select epoch from prev)
  ${eventsReturning(db)}
)
select ${LEASE_SELECT}, true as "held", ${returnedEvents(db, sql`takeover`)} from claim a
union all
select ${LEASE_SELECT}, false as "held", null::json from active_instance a
where a.lease_id = 1 and not exists (select 1 from claim)`,
    ),
  );
  const row = rows[0];
  if (row) {
    const { outboxEvents: _events, ...claim } = row;
    return claim;
  }
  // Lost a race for the very first row: our snapshot predates the winner's insert. Read it now.
  const current = await readLease(db);
  if (!current) throw new LeaseLostError('the lease could not be claimed; retry');
  return { ...current, held: false };
}

/** Extends the caller's live lease. `LeaseLostError` when it lapsed or another instance took over. */
export async function renewLease(
  db: Db,
  options: { instanceId: string; epoch: number; graceSeconds: number },
): Promise<LeaseState> {
  checkGrace(options.graceSeconds);
  const rows = await run(
    db,
    statement(
      LEASE_COLUMNS,
      sql`with renewed as (
  update active_instance set renewed_at = now(), expires_at = now() + make_interval(secs => ${options.graceSeconds}::int)
  where lease_id = 1 and holder = ${options.instanceId}::text and epoch = ${options.epoch}::bigint and expires_at > now()
  returning *
)
select ${LEASE_SELECT} from renewed a`,
    ),
  );
  const row = rows[0];
  if (!row)
    throw new LeaseLostError(
      `instance ${options.instanceId} no longer holds the lease at epoch ${options.epoch}`,
    );
  return row;
}

/**
 * Gives the lease up at once (after the fenced writes in flight, like a takeover) so another instance can claim it without waiting out the grace
 * period. The row stays (expired), so the next claim still increments the epoch.
 */
export async function abdicateLease(
  db: Db,
  options: { instanceId: string; epoch: number },
): Promise<void> {
  const rows = await run(
    db,
    statement(
      EPOCH_COLUMNS,
      sql`update active_instance set expires_at = least(expires_at, now())
where ${LEASE_EXCLUSIVE} and lease_id = 1 and holder = ${options.instanceId}::text and epoch = ${options.epoch}::bigint
returning epoch as "epoch"`,
    ),
  );
  if (rows.length === 0) {
    throw new LeaseLostError(
      `instance ${options.instanceId} does not hold the lease at epoch ${options.epoch}`,
    );
  }
}

/** The lease as the database sees it now, or null before anyone ever claimed it. */
export async function readLease(db: Db): Promise<LeaseState | null> {
  const rows = await run(
    db,
    statement(
      LEASE_COLUMNS,
      sql`select ${LEASE_SELECT} from active_instance a where a.lease_id = 1`,
    ),
  );
  return rows[0] ?? null;
}

/**
 * Claims a periodic job by moving its timestamp: true for the one caller that moved it (and so
 * should run the job), false for everyone else within `intervalSeconds` of the last run.
 */
export async function claimMaintenance(
  db: Db,
  options: { job: string; intervalSeconds: number },
): Promise<boolean> {
  const rows = await run(
    db,
    statement(
      JOB_COLUMNS,
      sql`insert into maintenance_claim as m (job, last_run_at) values (${options.job}::text, now())
on conflict (job) do update set last_run_at = now()
where m.last_run_at <= now() - make_interval(secs => ${options.intervalSeconds}::int)
returning m.job as "job"`,
    ),
  );
  return rows.length === 1;
}
