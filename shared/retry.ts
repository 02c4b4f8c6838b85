import { setTimeout as sleepFor } from 'node:timers/promises';

/**
 * Retrying a call within a deadline, the one loop the Data API adapter and the design fetch
 * share: exponential backoff with jitter, never a wait that would end past the deadline, time
 * injected so tests see which delays were asked for without waiting them out.
 */

/** Time as a retry loop sees it. */
export interface RetryClock {
  /** Epoch milliseconds; deadlines are compared with it. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const REAL_RETRY_CLOCK: RetryClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleepFor(ms, undefined, signal ? { signal } : undefined),
};

/** How a failed attempt is judged: the error to throw if it ends there, and whether to retry. */
export type AttemptFailure = {
  readonly error: unknown;
  readonly retryable: boolean;
  /** A wait the other side asked for (`Retry-After`); the delay is at least this. */
  readonly retryAfterMs?: number | undefined;
};

export type RetryOptions = {
  /** Judges a failed attempt (and translates its error). */
  readonly judge: (error: unknown) => AttemptFailure;
  /** Attempts after the first; unbounded by default, when the deadline alone ends the loop. */
  readonly retries?: number;
  /** First backoff step; doubled per attempt up to `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** `full`: a random delay up to the step; `equal`: half the step fixed, half random. */
  readonly jitter: 'full' | 'equal';
  /** Epoch ms no wait may reach (or pass): the retries stop before it. */
  readonly deadline: number;
  readonly clock?: RetryClock;
  readonly random?: () => number;
  /** Cuts a wait short; `cancelled` names the error then. */
  readonly signal?: AbortSignal;
  /** Before each wait (a log line). */
  readonly onRetry?: (failure: AttemptFailure, info: { attempt: number; delayMs: number }) => void;
  /** The error when the deadline ends the retries; default: the last attempt's. */
  readonly exhausted?: (
    failure: AttemptFailure,
    info: { attempts: number; waitedMs: number },
  ) => unknown;
  /** The error when `signal` cuts a wait short; default: the signal's reason. */
  readonly cancelled?: (failure: AttemptFailure) => unknown;
};

/**
 * Runs `attempt(0)`, then again after each retryable failure, until it succeeds, a failure is
 * not retryable, the retries are spent or the next wait would reach the deadline.
 * @example await retryWithinDeadline((n) => send(), { judge, baseDelayMs: 250, maxDelayMs: 8_000, jitter: 'equal', deadline })
 */
export async function retryWithinDeadline<T>(
  attempt: (n: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const clock = options.clock ?? REAL_RETRY_CLOCK;
  const random = options.random ?? Math.random;
  const retries = options.retries ?? Number.POSITIVE_INFINITY;
  const started = clock.now();
  for (let n = 0; ; n += 1) {
    let failure: AttemptFailure;
    try {
      return await attempt(n);
    } catch (caught) {
      failure = options.judge(caught);
    }
    if (!failure.retryable || n >= retries) throw failure.error;
    const step = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** n);
    const jittered =
      options.jitter === 'full' ? Math.round(random() * step) : step / 2 + random() * (step / 2);
    const delayMs = Math.max(jittered, failure.retryAfterMs ?? 0);
    if (clock.now() + delayMs >= options.deadline) {
      // Waiting would end past the deadline: report the real failure, not a timeout.
      throw options.exhausted
        ? options.exhausted(failure, { attempts: n + 1, waitedMs: clock.now() - started })
        : failure.error;
    }
    options.onRetry?.(failure, { attempt: n + 1, delayMs });
    try {
      await clock.sleep(delayMs, options.signal);
    } catch (reason) {
      throw options.cancelled ? options.cancelled(failure) : reason;
    }
  }
}
