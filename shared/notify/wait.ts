/**
 * Waiting for a change instead of polling: `GET /tasks/{id}?wait=<s>&version=<n>` and the
 * messages route with `after=`. The wait re-reads one indexed row (`readTaskMark`) with a
 * backoff, and wakes early when something in this process says the task changed (the local
 * server's in-process bus). Time is injected, so tests drive it without sleeping.
 */

/** Time as a wait sees it: a monotonic millisecond clock and a sleep that a wake can cut. */
export interface WaitClock {
  now(): number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const REAL_WAIT_CLOCK: WaitClock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    }),
};

/** Something that can wake a wait on a task (the in-process bus). */
export interface WakeSource {
  onTask(taskId: string, listener: () => void): () => void;
}

/**
 * Re-read delays in ms: quick first looks (a worker that answers at once), then every 2 s. A
 * 25 s wait costs 15 reads, each one Data API call (see shared/notify/README.md).
 */
export const WAIT_BACKOFF_MS = [250, 500, 1000, 2000] as const;

export interface WaitOutcome<T> {
  /** The value `check` produced when the awaited change happened, or undefined on timeout. */
  readonly value: T | undefined;
  readonly timedOut: boolean;
  /** How many times the row was read (the cost of the wait). */
  readonly reads: number;
}

/**
 * Calls `check` until it returns a value or `waitMs` passes: after each miss it sleeps for the
 * next backoff step, cut short by a wake for `taskId` or by the deadline.
 */
export async function waitFor<T>(options: {
  readonly taskId: string;
  readonly waitMs: number;
  readonly check: () => Promise<T | undefined>;
  readonly clock: WaitClock;
  readonly wake?: WakeSource | undefined;
  readonly backoffMs?: readonly number[];
}): Promise<WaitOutcome<T>> {
  const backoff = options.backoffMs ?? WAIT_BACKOFF_MS;
  const deadline = options.clock.now() + options.waitMs;
  let woken = false;
  let controller = new AbortController();
  const stop = options.wake?.onTask(options.taskId, () => {
    woken = true;
    controller.abort();
  });
  try {
    let reads = 0;
    for (let step = 0; ; step++) {
      woken = false;
      reads += 1;
      const value = await options.check();
      if (value !== undefined) return { value, timedOut: false, reads };
      const left = deadline - options.clock.now();
      if (left <= 0) return { value: undefined, timedOut: true, reads };
      // A wake that came while the row was being read is not lost: read again at once.
      if (woken) continue;
      const delay = Math.min(backoff[Math.min(step, backoff.length - 1)] ?? 1000, left);
      await options.clock.sleep(delay, controller.signal);
      if (controller.signal.aborted) controller = new AbortController();
    }
  } finally {
    stop?.();
  }
}
