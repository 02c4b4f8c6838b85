import type { Deps } from '../deps.ts';
import { secondsBetween } from '../metrics.ts';
import type { TaskRecord } from '../store/types.ts';

/**
 * What follows a write that may have changed a task's status: its outbox events are published
 * (inline in a Lambda, in the background locally; the schedule catches anything left) and the
 * timings only the written rows know are recorded. The counts (created, claimed, finished,
 * requeued, takeovers) come from the published events themselves (`recordEventCounts`), so each
 * change is counted once whichever statement made it.
 */
export type AnnounceDeps = Pick<Deps, 'events' | 'telemetry'>;

/**
 * Publishes the write's events, then hands its value back. `wroteEvents: false` when the write's
 * own answer shows it changed nothing (an idempotent replay, a requeue that found nothing): no
 * publisher run, so no empty claim of the outbox (one Data API call less on AWS).
 */
export async function announced<T>(
  deps: AnnounceDeps,
  value: T,
  options: { wroteEvents?: boolean } = {},
): Promise<T> {
  if (options.wroteEvents !== false) await deps.events?.afterWrite();
  return value;
}

/** Claim latency (queued → running) of freshly claimed tasks, per action. */
export function recordClaimed(deps: AnnounceDeps, tasks: readonly TaskRecord[]): void {
  for (const task of tasks) {
    if (task.status !== 'running' || !task.claimedAt) continue;
    deps.telemetry?.record('ClaimLatency', secondsBetween(task.created, task.claimedAt), {
      action: task.action,
    });
  }
}

/** Duration of a task a write finished (from its claim, or its creation when never claimed). */
export function recordFinished(deps: AnnounceDeps, task: TaskRecord): void {
  if (task.status !== 'complete' && task.status !== 'terminated') return;
  deps.telemetry?.record(
    'TaskDuration',
    secondsBetween(task.claimedAt ?? task.created, task.updated),
    {
      action: task.action,
    },
  );
}
