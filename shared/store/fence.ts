import { type ColumnSpec, type SqlFragment, sql } from '../db/sql.ts';
import { LeaseLostError } from '../errors.ts';

/**
 * Fencing: every write an orchestrator makes carries its lease epoch, and the write's own
 * statement checks it against the live lease (database clock), so a deposed leader's writes land
 * nowhere. One check, shared by the task, message and build-data statements.
 */

/** The lease's epoch while it is live (unexpired on the database clock). */
export const LIVE_LEASE = sql`select epoch from active_instance where lease_id = 1 and expires_at > now()`;

/**
 * A one-row relation (`epoch`) while `epoch` is the live lease's, empty otherwise: the fence of
 * every orchestrator write. `lease_fence` (migration 0005) holds a shared advisory lock to the end
 * of the writer's transaction and reads the lease after taking it, with a fresh snapshot; every
 * change that can end an epoch (a takeover, an abdication) takes that lock exclusively first. So a
 * takeover waits for fenced writes already past their check, and a fenced write checking after a
 * takeover committed sees the new epoch: every write of a deposed leader either committed before
 * its successor took over or is refused. Unlike a share lock on the lease row, concurrent writers
 * never write anything to check it. With `holder`, the holder must match too (the claim).
 */
export function fenceOf(epoch: SqlFragment, holder?: SqlFragment): SqlFragment {
  return holder === undefined
    ? sql`select ${epoch}::bigint as epoch where lease_fence(${epoch}::bigint)`
    : sql`select ${epoch}::bigint as epoch where lease_fence(${epoch}::bigint, ${holder}::text)`;
}

/** Taken (exclusively) by a statement that can end an epoch, before it changes the lease row. */
export const LEASE_EXCLUSIVE = sql`lease_exclusive()`;

/** The error of every write refused because its epoch is not the live one; it wrote nothing. */
export function fenced(epoch: number | undefined, live: number | null | undefined): LeaseLostError {
  return new LeaseLostError(
    `lease epoch ${epoch} is not the current one (${live ?? 'none live'}); the write was fenced`,
  );
}

/** Output columns of a fenced write: whether its epoch held, and the live one. */
export const FENCE_COLUMNS = { leaseHeld: 'bool', liveEpoch: 'int?' } as const satisfies ColumnSpec;

export interface LeaseFence {
  /** CTEs to put first in the statement (each followed by a comma), or nothing. */
  readonly ctes: SqlFragment;
  /** An `and …` condition for the statement's first write. */
  readonly guard: SqlFragment;
  /** The select-list entries of FENCE_COLUMNS. */
  readonly columns: SqlFragment;
}

/**
 * The lease check of an orchestrator's write, in the write's own statement: with an epoch, the
 * write happens only while that epoch is the live lease's, and the statement says which held.
 * Without one (a caller that is not the orchestrator), nothing is added to the statement.
 */
export function leaseFence(epoch: number | undefined): LeaseFence {
  if (epoch === undefined) {
    return {
      ctes: sql.empty,
      guard: sql.empty,
      columns: sql`true as "leaseHeld", null::bigint as "liveEpoch"`,
    };
  }
  return {
    ctes: sql`live as (${LIVE_LEASE}),
fence as (${fenceOf(sql`${epoch}`)}),
`,
    guard: sql` and exists (select 1 from fence)`,
    columns: sql`exists (select 1 from fence) as "leaseHeld", (select epoch from live) as "liveEpoch"`,
  };
}

/** Refuses (412) a write whose statement found its epoch stale; it wrote nothing. */
export function checkFence(
  row: { leaseHeld: boolean; liveEpoch: number | null } | undefined,
  epoch: number | undefined,
): void {
  if (row && !row.leaseHeld) throw fenced(epoch, row.liveEpoch);
}
