import type { EventSink } from '#shared/notify/publisher.ts';
import type { OutboxEvent } from '#shared/store/outbox.ts';

/** A sink that keeps what it was given, or fails while `down`. */
export function recordingSink(): EventSink & { got: OutboxEvent[]; down: boolean } {
  const sink = {
    name: 'recording',
    got: [] as OutboxEvent[],
    down: false,
    async deliver(events: readonly OutboxEvent[]) {
      if (sink.down) throw new Error('sink unreachable');
      sink.got.push(...events);
      return events.map((e) => e.eventId);
    },
  };
  return sink;
}
