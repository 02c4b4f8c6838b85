import { beforeEach, describe, expect, it } from 'vitest';
import { waitForMessages, waitForTaskVersion } from '#shared/api/wait.ts';
import type { Config } from '#shared/config.ts';
import { NotFoundError } from '#shared/errors.ts';
import { InProcessBus } from '#shared/notify/bus.ts';
import { type WaitClock, waitFor } from '#shared/notify/wait.ts';
import { appendMessages } from '#shared/store/messages.ts';
import { updateTask } from '#shared/store/tasks.ts';
import { countingDb } from '#test/support/counting-db.ts';
import { queuedTask, resetTables } from '#test/support/store-fixtures.ts';
import { TEST_DRIVERS, testDatabase } from '#test/support/test-db.ts';

/**
 * A clock that never waits: a sleep moves virtual time on at once, unless `hold` keeps it
 * asleep until woken, so a test tells a wake from a timeout without real time passing.
 */
function virtualClock(options: { hold?: boolean } = {}) {
  const clock = {
    t: 0,
    sleeps: [] as number[],
    onSleep: undefined as (() => unknown) | undefined,
    now: () => clock.t,
    sleep: async (ms: number, signal: AbortSignal) => {
      clock.sleeps.push(ms);
      // What happens "meanwhile" (another writer) finishes before the sleep ends.
      await clock.onSleep?.();
      if (!options.hold) {
        clock.t += ms;
        return;
      }
      return new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    },
  };
  return clock satisfies WaitClock;
}

const config = (waitMaxSeconds: number) =>
  ({
    events: { waitMaxSeconds, sink: 'local', publish: 'inline', busName: undefined },
  }) as unknown as Config;

describe('waitFor', () => {
  it('times out after the wait, re-reading with the backoff, and counts its reads', async () => {
    const clock = virtualClock();
    const outcome = await waitFor({
      taskId: 't',
      waitMs: 25_000,
      clock,
      check: async () => undefined,
    });
    expect(outcome).toEqual({ value: undefined, timedOut: true, reads: 16 });
    expect(clock.sleeps.slice(0, 5)).toEqual([250, 500, 1000, 2000, 2000]);
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(25_000);
  });

  it('wakes on a signal for its task, not for another', async () => {
    const bus = new InProcessBus();
    const clock = virtualClock({ hold: true });
    let changed = false;
    clock.onSleep = () => {
      bus.signal({ taskId: 'other', kind: 'event' });
      changed = true;
      bus.signal({ taskId: 't', kind: 'message' });
    };
    const outcome = await waitFor({
      taskId: 't',
      waitMs: 25_000,
      clock,
      wake: bus,
      check: async () => (changed ? 'yes' : undefined),
    });
    expect(outcome).toEqual({ value: 'yes', timedOut: false, reads: 2 });
  });
});

describe.each(TEST_DRIVERS)('waits on %s', (driver) => {
  const t = testDatabase(driver);
  beforeEach(async () => resetTables(t.db));

  it('answers at once when the version already passed, after the change otherwise', async () => {
    const task = await queuedTask(t.db);
    const db = countingDb(t.db);
    const clock = virtualClock();
    const deps = { db, config: config(25), waitClock: clock };
    expect(await waitForTaskVersion(deps, task.taskId, { seconds: 10, version: 0 })).toMatchObject({
      outcome: 'changed',
      reads: 1,
    });
    // The change lands while the wait sleeps: the next read sees it.
    clock.onSleep = () => {
      clock.onSleep = undefined;
      return updateTask(
        t.db,
        task.taskId,
        { status: 'terminated' },
        { expectedVersion: task.version },
      );
    };
    const outcome = await waitForTaskVersion(deps, task.taskId, { seconds: 10 });
    expect(outcome).toMatchObject({ outcome: 'changed', reads: 2 });
  });

  it('times out with the task unchanged, cut by the API Gateway bound, at one read per step', async () => {
    const task = await queuedTask(t.db);
    const db = countingDb(t.db);
    const clock = virtualClock();
    const outcome = await waitForTaskVersion(
      { db, config: config(25), waitClock: clock },
      task.taskId,
      { seconds: 60, version: task.version },
    );
    expect(outcome).toEqual({ outcome: 'timeout', limitedTo: 25, reads: 16 });
    // Every read is one statement (on the Data API one ExecuteStatement).
    expect(db.statements).toBe(16);
    if (t.dataApiCalls) expect(t.dataApiCalls().ExecuteStatement).toBeGreaterThanOrEqual(16);
  });

  it('waits for a message after the given sequence; a missing task is 404', async () => {
    const task = await queuedTask(t.db);
    const clock = virtualClock();
    const deps = { db: t.db, config: config(25), waitClock: clock };
    clock.onSleep = () => {
      clock.onSleep = undefined;
      return appendMessages(t.db, task.taskId, [
        { message: 'm', error: false, contextType: 'task', context: 'x' },
      ]);
    };
    const waited = await waitForTaskVersion(deps, task.taskId, { seconds: 0 });
    expect(waited).toMatchObject({ outcome: 'timeout', reads: 1 });
    expect(await waitForMessages(deps, task.taskId, { seconds: 5, after: 0 })).toMatchObject({
      outcome: 'changed',
      reads: 2,
    });
    expect((await waitForMessages(deps, task.taskId, { seconds: 5, after: 1 })).outcome).toBe(
      'timeout',
    );
    await expect(
      waitForTaskVersion(deps, crypto.randomUUID(), { seconds: 5 }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });
});
