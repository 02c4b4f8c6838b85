import type { OutboxEvent } from '../store/outbox.ts';
import type { InProcessBus } from './bus.ts';
import type { EventSink } from './publisher.ts';

/** The `source` of every event the service puts on EventBridge. */
export const EVENT_SOURCE = 'drydock.statemgmt';

/** PutEvents takes at most 10 entries per call. */
const PUT_EVENTS_MAX = 10;

/** The part of the EventBridge client the sink uses (the SDK's client satisfies it). */
export interface PutEventsClient {
  send(command: {
    input: {
      Entries: {
        Source: string;
        DetailType: string;
        Detail: string;
        EventBusName: string;
        Time: Date;
      }[];
    };
  }): Promise<{
    FailedEntryCount?: number | undefined;
    Entries?: { EventId?: string | undefined; ErrorCode?: string | undefined }[] | undefined;
  }>;
}

/**
 * EventBridge: source `drydock.statemgmt`, the outbox row's detail type, its detail as JSON, on
 * the configured bus. Entries are sent 10 per call; an entry EventBridge refuses stays pending
 * (the response lists failures entry by entry, in order).
 */
export async function createEventBridgeSink(busName: string): Promise<EventSink> {
  const { EventBridgeClient, PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
  const client = new EventBridgeClient({});
  return eventBridgeSink(busName, {
    send: (command) => client.send(new PutEventsCommand(command.input)),
  });
}

/** The EventBridge sink over a given client (tests pass one pointed at a stand-in). */
export function eventBridgeSink(busName: string, client: PutEventsClient): EventSink {
  return {
    name: 'eventbridge',
    async deliver(events: readonly OutboxEvent[]) {
      const delivered: number[] = [];
      for (let i = 0; i < events.length; i += PUT_EVENTS_MAX) {
        const chunk = events.slice(i, i + PUT_EVENTS_MAX);
        const answer = await client.send({
          input: {
            Entries: chunk.map((event) => ({
              Source: EVENT_SOURCE,
              DetailType: event.detailType,
              Detail: JSON.stringify(event.detail),
              EventBusName: busName,
              Time: new Date(event.detail.time),
            })),
          },
        });
        chunk.forEach((event, j) => {
          if (!answer.Entries?.[j]?.ErrorCode) delivered.push(event.eventId);
        });
        // A refused entry keeps its place: later events of the same task wait for the next run
        // rather than overtaking it.
        if ((answer.FailedEntryCount ?? 0) > 0) break;
      }
      return delivered;
    },
  };
}

/** The local server's sink: the in-process bus (SSE stream, metrics, waits). */
export function busSink(bus: InProcessBus): EventSink {
  return {
    name: 'in-process',
    async deliver(events) {
      bus.publish(events);
      return events.map((event) => event.eventId);
    },
  };
}
