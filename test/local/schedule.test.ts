import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FIRST_TICK_MS, scheduleTicks } from '#infra/local/service.ts';

describe("the local server's lease schedule", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ticks first a second after start, not at once, then every period', () => {
    const tick = vi.fn();
    const stop = scheduleTicks(tick, 60_000);
    // Nothing at start: the first requests of a restart are not queued behind a tick.
    expect(tick).not.toHaveBeenCalled();
    vi.advanceTimersByTime(FIRST_TICK_MS - 1);
    expect(tick).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(tick).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(60_000 - FIRST_TICK_MS - 1);
    expect(tick).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(tick).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(120_000);
    expect(tick).toHaveBeenCalledTimes(4);
    stop();
    vi.advanceTimersByTime(600_000);
    expect(tick).toHaveBeenCalledTimes(4);
  });

  it('stopped before its first tick, it never ticks', () => {
    const tick = vi.fn();
    scheduleTicks(tick, 60_000)();
    vi.advanceTimersByTime(600_000);
    expect(tick).not.toHaveBeenCalled();
  });

  it('a period shorter than the first delay ticks first at that period', () => {
    const tick = vi.fn();
    const stop = scheduleTicks(tick, 200);
    vi.advanceTimersByTime(199);
    expect(tick).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(tick).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(800);
    expect(tick).toHaveBeenCalledTimes(5);
    stop();
  });
});
