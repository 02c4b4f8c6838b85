import type { Deps } from '../deps.ts';
import { LeaseLostError, NotFoundError } from '../errors.ts';
import {
  abdicateLease,
  claimLease,
  claimMaintenance,
  readLease,
  renewLease,
} from '../store/lease.ts';
import { requeueStrandedTasks } from '../store/queue.ts';
import { purgeFinishedTasks } from '../store/retention.ts';
import { type AnnounceDeps, announced } from './announce.ts';
import { type LeaseDict, toLeaseDict } from './shapes.ts';

/** The lease as the database sees it; 404 before anyone ever claimed it. */
export async function currentLease(deps: Pick<Deps, 'db'>): Promise<LeaseDict> {
  const lease = await readLease(deps.db);
  if (!lease) throw new NotFoundError('No orchestrator instance has claimed the lease yet.');
  return toLeaseDict(lease);
}

/** Claims (or refreshes) the lease for an instance; `held` says whether it holds it now. */
export async function claimLeaderLease(
  deps: Pick<Deps, 'db' | 'config'> & AnnounceDeps,
  input: { instance_id: string; grace_seconds?: number | undefined },
): Promise<LeaseDict> {
  const lease = await claimLease(deps.db, {
    instanceId: input.instance_id,
    graceSeconds: input.grace_seconds ?? deps.config.lease.graceSeconds,
  });
  return announced(deps, toLeaseDict(lease));
}

/** Extends the holder's lease; 412 when it lapsed or another instance took over. */
export async function renewLeaderLease(
  deps: Pick<Deps, 'db' | 'config'>,
  input: { instance_id: string; epoch: number; grace_seconds?: number | undefined },
): Promise<LeaseDict> {
  const lease = await renewLease(deps.db, {
    instanceId: input.instance_id,
    epoch: input.epoch,
    graceSeconds: input.grace_seconds ?? deps.config.lease.graceSeconds,
  });
  return toLeaseDict(lease);
}

/** Gives the lease up at once, so another instance need not wait out the grace period. */
export async function abdicateLeaderLease(
  deps: Pick<Deps, 'db'>,
  input: { instance_id: string; epoch: number },
): Promise<void> {
  await abdicateLease(deps.db, { instanceId: input.instance_id, epoch: input.epoch });
}

/**
 * The holder recovers the work of dead epochs (what an earlier holder left unfinished): their
 * running top-level tasks back to the queue, the rest of their unfinished tasks terminated. A new
 * leader calls this right after taking over. Bounded per call; `more` asks for another.
 */
export async function requeueStranded(
  deps: Pick<Deps, 'db'> & AnnounceDeps,
  input: { instance_id: string; epoch: number; limit?: number | undefined },
): Promise<{ requeued: number; terminated: number; more: boolean }> {
  const limit = input.limit ?? REQUEUE_BATCH;
  // One statement: the store checks the live lease's holder and epoch itself (412 otherwise).
  const done = await requeueStrandedTasks(deps.db, {
    epoch: input.epoch,
    instanceId: input.instance_id,
    limit,
  });
  const moved = done.requeued + done.terminated;
  return announced(deps, { ...done, more: moved === limit }, { wroteEvents: moved > 0 });
}

/** What one tick of the lease schedule did, for its log line and its tests. */
export interface LeaseTick {
  mode: 'watch' | 'hold';
  /** `hold` only: the schedule's own instance id. */
  instanceId: string | null;
  /** Whether the schedule itself holds the lease after the tick (only ever in `hold` mode). */
  held: boolean;
  /** The lease as the tick left it: holder and epoch, and whether it is live. */
  holder: string | null;
  epoch: number | null;
  live: boolean;
  /** Recovered work of dead epochs. */
  requeued: number;
  terminated: number;
  retention: { ran: boolean; deletedTasks: number; more: boolean };
}

const RETENTION_JOB = 'retention';
const DAY_SECONDS = 86_400;
/** Upper bounds per tick, so a backlog is worked off over several ticks rather than one long run. */
const REQUEUE_BATCH = 500;
const REQUEUE_BATCHES_PER_TICK = 10;
const RETENTION_BATCHES_PER_TICK = 50;

/**
 * One tick of the one-minute schedule. It keeps the lease honest rather than standing in for the
 * orchestrator:
 * - `watch` (the default) holds no lease and renews none: a lease lives only as long as its
 *   holder's own claim and renew calls keep it (the evidence of life), so a silent holder's lease
 *   lapses after the grace period. The tick recovers the work of dead epochs (older than the live
 *   one after a takeover, or every epoch once the lease has lapsed): a caller's task goes back to
 *   the queue, the rest of its tree ends terminated. A standby takes over by claiming, with or
 *   without the schedule.
 * - `hold` claims or renews the lease for `instanceId`, an orchestrator that runs inside the
 *   scheduled function (its tick is its evidence of life), then recovers as the holder.
 * Either way, once a day (claimed by moving a timestamp in the database, so duplicate deliveries
 * and other containers do not repeat it) it purges finished tasks older than the retention period
 * in bounded batches. `remainingMs` (the Lambda's remaining time) stops the retention loop early.
 */
export async function runLeaseTick(
  deps: Pick<Deps, 'db' | 'config' | 'logger'>,
  remainingMs: () => number = () => Number.POSITIVE_INFINITY,
): Promise<LeaseTick> {
  const { config, db, logger } = deps;
  const tick: LeaseTick = {
    mode: config.lease.mode,
    instanceId: config.lease.mode === 'hold' ? config.lease.instanceId : null,
    held: false,
    holder: null,
    epoch: null,
    live: false,
    requeued: 0,
    terminated: 0,
    retention: { ran: false, deletedTasks: 0, more: false },
  };
  let holder: { epoch: number; instanceId: string } | undefined;
  if (config.lease.mode === 'hold') {
    const { instanceId } = config.lease;
    const lease = await claimLease(db, { instanceId, graceSeconds: config.lease.graceSeconds });
    Object.assign(tick, {
      held: lease.held,
      holder: lease.holder,
      epoch: lease.epoch,
      live: lease.active,
    });
    if (!lease.held) return tick;
    holder = { epoch: lease.epoch, instanceId };
  }

  try {
    for (let i = 0; i < REQUEUE_BATCHES_PER_TICK; i += 1) {
      const done = await requeueStrandedTasks(db, { ...holder, limit: REQUEUE_BATCH });
      tick.requeued += done.requeued;
      tick.terminated += done.terminated;
      if (done.requeued + done.terminated < REQUEUE_BATCH) break;
    }
    if (!holder) {
      const lease = await readLease(db);
      Object.assign(tick, {
        holder: lease?.holder ?? null,
        epoch: lease?.epoch ?? null,
        live: lease?.active ?? false,
      });
    }
    if (await claimMaintenance(db, { job: RETENTION_JOB, intervalSeconds: DAY_SECONDS })) {
      tick.retention.ran = true;
      tick.retention.more = true;
      for (let i = 0; tick.retention.more && i < RETENTION_BATCHES_PER_TICK; i += 1) {
        if (remainingMs() < 10_000) break;
        const purged = await purgeFinishedTasks(db, {
          olderThanDays: config.retention.days,
          batchSize: config.retention.batchSize,
        });
        tick.retention.deletedTasks += purged.deletedTasks;
        tick.retention.more = purged.more;
      }
    }
  } catch (error) {
    // Losing the lease mid-tick is normal (another instance took over); the next tick reclaims.
    if (!(error instanceof LeaseLostError)) throw error;
    logger.warn('lease lost during the tick', { ...holder });
    tick.held = false;
  }
  return tick;
}
