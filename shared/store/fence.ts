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
 * The live lease row at `epoch`, share-locked for the rest of the writer's transaction: the
 * fence of every orchestrator write. The lock makes the fence strict. A takeover (or renewal)
 * updates this row, so it waits for fenced writes already past their check to commit; a fenced
 * write that reaches the row after a takeover committed re-reads the new row (READ COMMITTED
 * follows the update) and finds another epoch. So every write of a deposed leader either
 * committed before its successor took over or is refused: none lands on top of the new leader's
 * work. (Without the lock a write whose snapshot predates the takeover could still apply after
 * it.) `FOR KEY SHARE` would not do: a takeover changes no key, so it would not wait.
 */
export function fenceOf(epoch: SqlFragment): SqlFragment {
  return sql`select epoch from active_instance
  where lease_id = 1 and expires_at > now() and epoch = ${epoch}::bigint for share`;
}

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
