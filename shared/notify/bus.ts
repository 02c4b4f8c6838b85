import type { OutboxEvent } from '../store/outbox.ts';

/** Something that happened to a task, for those waiting on it in this process. */
export type TaskSignal = { readonly taskId: string; readonly kind: 'event' | 'message' };

type EventListener = (event: OutboxEvent) => void;
type SignalListener = (signal: TaskSignal) => void;

/**
 * The in-process bus of a local server: the publisher delivers outbox events to it (where AWS
 * would use EventBridge), the SSE stream and the metrics registry listen, and waits on a task
 * wake on its signals. Listeners run synchronously and must not throw; a slow consumer buffers
 * on its own side (the SSE stream writes to its socket).
 */
export class InProcessBus {
  readonly #events = new Set<EventListener>();
  readonly #signals = new Map<string, Set<SignalListener>>();
  readonly #anySignal = new Set<SignalListener>();

  /** Delivers events in order to every subscriber, then wakes the waiters of their tasks. */
  publish(events: readonly OutboxEvent[]): void {
    for (const event of events) {
      for (const listener of this.#events) listener(event);
      if (event.detail.task_id) this.signal({ taskId: event.detail.task_id, kind: 'event' });
    }
  }

  /** Every event from now on; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.#events.add(listener);
    return () => this.#events.delete(listener);
  }

  /** Wakes whoever waits on a task (a new message has no event of its own). */
  signal(signal: TaskSignal): void {
    for (const listener of this.#signals.get(signal.taskId) ?? []) listener(signal);
    for (const listener of this.#anySignal) listener(signal);
  }

  /** Every signal, whatever the task (the stream's message hints). */
  onAnySignal(listener: SignalListener): () => void {
    this.#anySignal.add(listener);
    return () => this.#anySignal.delete(listener);
  }

  /** Listens for signals about one task; returns the unsubscribe function. */
  onTask(taskId: string, listener: SignalListener): () => void {
    let set = this.#signals.get(taskId);
    if (!set) {
      set = new Set();
      this.#signals.set(taskId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#signals.delete(taskId);
    };
  }

  /** How many listen (for tests and the metrics page). */
  get subscribers(): number {
    return this.#events.size;
  }
}
