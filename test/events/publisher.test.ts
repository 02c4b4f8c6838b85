import { beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '#shared/db/port.ts';
import { createPublisher } from '#shared/notify/publisher.ts';
import { recordingSink } from '#test/support/recording-sink.ts';
import { queuedTask, resetTables } from '#test/support/store-fixtures.ts';
import { TEST_DRIVERS, testDatabase } from '#test/support/test-db.ts';

/** Runs `work` after `depth` turns of the microtask queue. */
function afterMicrotasks(depth: number, work: () => void): void {
  if (depth === 0) work();
  else queueMicrotask(() => afterMicrotasks(depth - 1, work));
}

/**
 * The real database, with a hook that runs once the next statement after `arm` has answered,
 * before its caller resumes: it lets a test call the publisher at each point of its finishing
 * steps without waiting on time.
 */
function withAnswerHook(db: Db) {
  let hook: (() => void) | undefined;
  const hooked: Db = {
    driver: db.driver,
    close: () => db.close(),
    async query(statement) {
      const rows = await db.query(statement);
      const run = hook;
      hook = undefined;
      run?.();
      return rows;
    },
  };
  return { db: hooked, arm: (work: () => void) => (hook = work) };
}

describe.each(TEST_DRIVERS)('the event publisher on %s', (driver) => {
  const t = testDatabase(driver);
  beforeEach(async () => resetTables(t.db));

  // A write that lands while a delivery finishes must not wait for the next write or the
  // schedule: the console, following the event stream, would not see it for 30 s.
  it('publishes a write that commits while a delivery finishes, whenever its afterWrite comes', async () => {
    for (let depth = 0; depth <= 16; depth++) {
      await resetTables(t.db);
      const sink = recordingSink();
      const { db, arm } = withAnswerHook(t.db);
      const publisher = createPublisher({ db, sink, mode: 'background' });
      let lateWritten = false;
      let afterWriteCalled!: () => void;
      const lateAfterWrite = new Promise<void>((called) => {
        afterWriteCalled = called;
      });
      const deliver = sink.deliver.bind(sink);
      sink.deliver = async (events) => {
        const ids = await deliver(events);
        if (!lateWritten) {
          // The second write commits during the first delivery; its afterWrite comes `depth`
          // microtasks after the delivery's last statement answers.
          lateWritten = true;
          await queuedTask(t.db);
          arm(() =>
            afterMicrotasks(depth, () => {
              void publisher.afterWrite();
              afterWriteCalled();
            }),
          );
        }
        return ids;
      };
      await queuedTask(t.db);
      await publisher.afterWrite();
      await lateAfterWrite;
      await publisher.idle();
      expect({ depth, delivered: sink.got.length }).toEqual({ depth, delivered: 2 });
    }
  });
});
