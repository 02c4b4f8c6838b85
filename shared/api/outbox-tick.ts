import type { Deps } from '../deps.ts';
import { purgePublishedEvents } from '../store/outbox.ts';
import { readQueueFigures } from '../store/wait.ts';

/** Published events are kept a day (a stream's replay after a reconnect), then dropped. */
const KEEP_PUBLISHED_SECONDS = 86_400;
const PURGE_LIMIT = 5000;

/** What the schedule's outbox and metrics run did, for its log line and its tests. */
export interface OutboxTick {
  published: number;
  purged: number;
  queued: number;
  oldestQueuedSeconds: number | null;
  stuck: number;
  eventsPending: number;
}

/**
 * The schedule's share of events and metrics, after the lease tick: delivers every event a write
 * left pending (a publisher that crashed, an EventBridge outage), drops old published rows, and
 * publishes the queue's figures (one statement) as gauges.
 */
export async function runOutboxTick(
  deps: Pick<Deps, 'db' | 'config' | 'events' | 'telemetry'>,
): Promise<OutboxTick> {
  const published = (await deps.events?.drain()) ?? 0;
  const { purged } = await purgePublishedEvents(deps.db, {
    keepSeconds: KEEP_PUBLISHED_SECONDS,
    limit: PURGE_LIMIT,
  });
  const figures = await readQueueFigures(deps.db, {
    defaultSeconds: deps.config.metrics.stuckRunningSeconds,
    boundsSeconds: deps.config.metrics.stuckRunningBounds,
  });
  deps.telemetry?.record('QueueDepth', figures.queued);
  deps.telemetry?.record('OldestQueuedAge', figures.oldestQueuedSeconds ?? 0);
  deps.telemetry?.record('StuckRunningTasks', figures.stuck);
  deps.telemetry?.record('EventsPending', figures.eventsPending);
  return { published, purged, ...figures };
}
