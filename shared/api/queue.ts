import type { Deps } from '../deps.ts';
import { type QueueHealth, readQueueHealth } from '../store/queue.ts';

/** Default bound after which a running task without change or message counts as stale. */
export const DEFAULT_STALE_AFTER_SECONDS = 1800;
/** Most stuck tasks one answer lists. */
const STUCK_LIST_LIMIT = 50;

/** `GET /queue`'s body: snake_case like the rest of the API. */
export interface QueueHealthDict {
  db_now: string;
  stale_after_seconds: number;
  lease_epoch: number | null;
  queued: number;
  oldest_queued: { task_id: string; action: string; created: string; age_seconds: number } | null;
  running: number;
  stale: number;
  stranded: number;
  stuck: {
    task_id: string;
    parent_task_id: string | null;
    action: string;
    status: string;
    active_at: string;
    idle_seconds: number;
    claimed_epoch: number | null;
    stale: boolean;
    stranded: boolean;
  }[];
}

function toQueueHealthDict(health: QueueHealth): QueueHealthDict {
  const oldest = health.oldestQueued;
  return {
    db_now: health.dbNow,
    stale_after_seconds: health.staleAfterSeconds,
    lease_epoch: health.leaseEpoch,
    queued: health.queued,
    oldest_queued: oldest
      ? {
          task_id: oldest.taskId,
          action: oldest.action,
          created: oldest.created,
          age_seconds: Math.max(0, Math.round(oldest.ageSeconds)),
        }
      : null,
    running: health.running,
    stale: health.stale,
    stranded: health.stranded,
    stuck: health.stuck.map((task) => ({
      task_id: task.taskId,
      parent_task_id: task.parentTaskId,
      action: task.action,
      status: task.status,
      active_at: task.activeAt,
      idle_seconds: Math.max(0, Math.round(task.idleSeconds)),
      claimed_epoch: task.claimedEpoch,
      stale: task.stale,
      stranded: task.stranded,
    })),
  };
}

/** Queue depth, oldest queued task and stuck running tasks, read in one statement. */
export async function queueHealth(
  deps: Pick<Deps, 'db'>,
  options: { staleAfterSeconds?: number | undefined },
): Promise<QueueHealthDict> {
  const health = await readQueueHealth(deps.db, {
    staleAfterSeconds: options.staleAfterSeconds ?? DEFAULT_STALE_AFTER_SECONDS,
    listLimit: STUCK_LIST_LIMIT,
  });
  return toQueueHealthDict(health);
}
