import type { Db } from '../db/port.ts';
import {
  claimPendingEvents,
  markEventsPublished,
  type OutboxEvent,
  releaseEventClaims,
} from '../store/outbox.ts';

/** Where events go: EventBridge on AWS, the in-process bus locally. */
export interface EventSink {
  readonly name: string;
  /** Delivers events; returns the ids it delivered (the rest are retried later). */
  deliver(events: readonly OutboxEvent[]): Promise<readonly number[]>;
}

/** What the publisher reports about itself (logs, metrics). */
export interface PublisherLog {
  warn(message: string, extra: Record<string, unknown>): void;
}

export interface EventPublisher {
  /**
   * Called after a write that may have written events. `inline` (a Lambda, which freezes once it
   * answers): delivers them before returning. `background` (the local server): starts a delivery
   * and returns at once. Never throws: the change committed whatever happens to its event, and
   * the schedule delivers what is left.
   */
  afterWrite(): Promise<void>;
  /** Delivers every pending event now, batch after batch; returns how many were delivered. */
  drain(): Promise<number>;
  /** Resolves once no delivery is running (tests and shutdown). */
  idle(): Promise<void>;
  readonly sink: EventSink;
}

export interface PublisherOptions {
  readonly db: Db;
  readonly sink: EventSink;
  /** `none`: only `drain` publishes (the schedule's run). */
  readonly mode: 'inline' | 'background' | 'none';
  readonly log?: PublisherLog;
  /** Events claimed per statement. */
  readonly batchSize?: number;
  /** How long a claim holds: past it, another publisher may deliver the rows again. */
  readonly claimSeconds?: number;
  /** Called with what each drain delivered (counts for metrics). */
  readonly onDelivered?: (events: readonly OutboxEvent[]) => void;
}

/**
 * The outbox publisher: claims pending rows (one statement), delivers them to the sink, marks the
 * delivered ones (one statement) and gives back the claim of the rest. A crash after delivery and
 * before marking delivers those rows again once the claim lapses: at least once, never lost.
 * Drains never overlap within a process; a write during a drain makes it run once more, so no
 * event waits for the schedule when a publisher is at hand.
 */
export function createPublisher(options: PublisherOptions): EventPublisher {
  const batchSize = options.batchSize ?? 100;
  const claimSeconds = options.claimSeconds ?? 30;
  let running: Promise<number> | undefined;
  let again = false;

  const drainOnce = async (): Promise<number> => {
    let delivered = 0;
    for (;;) {
      const batch = await claimPendingEvents(options.db, { limit: batchSize, claimSeconds });
      if (batch.length === 0) return delivered;
      let ok: readonly number[] = [];
      try {
        ok = await options.sink.deliver(batch);
      } catch (error) {
        options.log?.warn('event delivery failed; the events stay pending', {
          sink: options.sink.name,
          events: batch.length,
          errorName: (error as Error).name,
          reason: (error as Error).message,
        });
      }
      const okSet = new Set(ok);
      // Counted on delivery: a mark that fails later redelivers (and recounts) them, at least once.
      if (ok.length > 0) options.onDelivered?.(batch.filter((e) => okSet.has(e.eventId)));
      await markEventsPublished(options.db, ok);
      const failed = batch.filter((event) => !okSet.has(event.eventId)).map((e) => e.eventId);
      delivered += ok.length;
      if (failed.length > 0) {
        await releaseEventClaims(options.db, failed);
        return delivered;
      }
      if (batch.length < batchSize) return delivered;
    }
  };

  const drain = (): Promise<number> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      try {
        do {
          again = false;
          total += await drainOnce();
        } while (again);
      } finally {
        // Cleared in the same turn that last read `again`, so a write that comes after it starts
        // a drain of its own. Cleared in a later callback, a write in between would join a drain
        // that had already finished, and its events would wait for the next write.
        running = undefined;
      }
      return total;
    })();
    return running;
  };

  const quietDrain = async (): Promise<void> => {
    try {
      await drain();
    } catch (error) {
      options.log?.warn('event publishing failed; the schedule delivers the events later', {
        errorName: (error as Error).name,
        reason: (error as Error).message,
      });
    }
  };

  return {
    sink: options.sink,
    drain,
    async afterWrite() {
      if (options.mode === 'inline') await quietDrain();
      else if (options.mode === 'background') void quietDrain();
    },
    async idle() {
      while (running) await running.catch(() => undefined);
    },
  };
}
