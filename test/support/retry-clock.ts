import type { RetryClock } from '#shared/retry.ts';

/**
 * A retry clock that waits for nothing: virtual time starts at 0 and moves only by the sleeps
 * asked of it, which it records, so a test asserts the delays a retry loop chose, not how long
 * a run took.
 */
export function recordingClock(): RetryClock & { readonly sleeps: number[]; waited(): number } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    waited: () => sleeps.reduce((sum, ms) => sum + ms, 0),
  };
}
