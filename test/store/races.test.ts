import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '#shared/db/port.ts';
import { sql, statement } from '#shared/db/sql.ts';
import { LeaseLostError } from '#shared/errors.ts';
import { claimLease, renewLease } from '#shared/store/lease.ts';
import { appendMessages } from '#shared/store/messages.ts';
import { claimTasks, getTask, updateTask } from '#shared/store/tasks.ts';
import type { LeaseClaim } from '#shared/store/types.ts';
import { becomeLeader, queuedTask, resetTables } from '#test/support/store-fixtures.ts';
import { openTestDb, TEST_DRIVERS, type TestDb } from '#test/support/test-db.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Races need several real connections: every contender gets a pool of its own. */
const RACE_DRIVERS = TEST_DRIVERS.filter((d) => d !== 'pglite');

describe.each(RACE_DRIVERS)('races over real connections on %s', (driver) => {
  let t: TestDb;
  let contenders: Db[];
  beforeAll(async () => {
    t = await openTestDb(driver);
    contenders = Array.from({ length: 16 }, () => t.connect({}, 1));
  });
  afterAll(async () => t.close());
  beforeEach(async () => resetTables(t.db));

  // Over the Data API every claim is an HTTPS call through the SDK (~4 ms each here), so that
  // driver races over fewer tasks to keep the suite inside its time budget.
  const queued = driver === 'data-api' ? 500 : 2000;

  it(`16 claimers over ${queued} queued tasks claim each exactly once and lose none`, async () => {
    await t.db.query(
      statement(
        {},
        sql`insert into tasks (action, status, design_ref) select 'noop', 'queued', 'file:///d/' || g from generate_series(1, ${queued}::int) g`,
      ),
    );
    const epoch = await becomeLeader(t.db, 'leader', 300);
    const claimedBy = await Promise.all(
      contenders.map(async (db) => {
        const mine: string[] = [];
        for (;;) {
          const [task] = await claimTasks(db, { instanceId: 'leader', epoch });
          if (!task) return mine;
          mine.push(task.taskId);
          await updateTask(
            db,
            task.taskId,
            { status: 'complete', result: { status: 'success' } },
            { epoch },
          );
        }
      }),
    );
    const all = claimedBy.flat();
    expect(all).toHaveLength(queued);
    expect(new Set(all).size).toBe(queued);
    expect(claimedBy.filter((mine) => mine.length > 0).length).toBeGreaterThan(1); // really concurrent
    const [left] = await t.db.query(
      statement({ n: 'int' }, sql`select count(*)::int as n from tasks where status <> 'complete'`),
    );
    expect(left?.n).toBe(0);
  }, 180_000);

  it('8 instances fighting for the lease never see two holders at once, and epochs only grow', async () => {
    const fighters = contenders.slice(0, 8);
    const held: {
      holder: string;
      epoch: number;
      acquiredAt: string;
      expiresAt: string;
      dbNow: string;
    }[] = [];
    const deadline = Date.now() + 4_000;
    await Promise.all(
      fighters.map(async (db, i) => {
        const me = `instance-${i}`;
        let epoch: number | null = null;
        while (Date.now() < deadline) {
          try {
            const state: LeaseClaim =
              epoch === null
                ? await claimLease(db, { instanceId: me, graceSeconds: 1 })
                : {
                    ...(await renewLease(db, { instanceId: me, epoch, graceSeconds: 1 })),
                    held: true,
                  };
            if (state.held) {
              held.push(state);
              epoch = state.epoch;
              // Now and then the holder goes silent past its grace period, forcing a takeover.
              if (Math.random() < 0.15) {
                await sleep(1_150);
                epoch = null;
              }
            }
          } catch (error) {
            if (!(error instanceof LeaseLostError)) throw error;
            epoch = null;
          }
          await sleep(20 + Math.random() * 60);
        }
      }),
    );
    const epochs = [...new Set(held.map((h) => h.epoch))].sort((a, b) => a - b);
    expect(epochs.length).toBeGreaterThan(1); // takeovers happened
    for (const epoch of epochs) {
      expect(new Set(held.filter((h) => h.epoch === epoch).map((h) => h.holder)).size).toBe(1);
    }
    // The next epoch starts only after the previous one's last granted expiry: no overlap.
    for (let i = 1; i < epochs.length; i += 1) {
      const previous = held.filter((h) => h.epoch === epochs[i - 1]);
      const next = held.filter((h) => h.epoch === epochs[i]);
      const lastExpiry = previous
        .map((h) => h.expiresAt)
        .sort()
        .at(-1) as string;
      const start = next.map((h) => h.acquiredAt).sort()[0] as string;
      expect(start >= lastExpiry).toBe(true);
    }
    // Observed in database-clock order, epochs never go down.
    const byClock = [...held].sort((a, b) => (a.dbNow < b.dbNow ? -1 : a.dbNow > b.dbNow ? 1 : 0));
    for (let i = 1; i < byClock.length; i += 1) {
      expect((byClock[i] as { epoch: number }).epoch).toBeGreaterThanOrEqual(
        (byClock[i - 1] as { epoch: number }).epoch,
      );
    }
  });

  it('8 writers appending to one task get contiguous sequences with no gaps or duplicates', async () => {
    const task = await queuedTask(t.db);
    const writers = contenders.slice(0, 8);
    const results = await Promise.all(
      writers.map(async (db, w) => {
        const got: number[][] = [];
        for (let i = 0; i < 25; i += 1) {
          const size = 1 + ((w + i) % 3);
          const batch = Array.from({ length: size }, (_, j) => ({
            message: `w${w}-b${i}-m${j}`,
            error: j === 0,
            contextType: 'task',
            context: `writer-${w}`,
          }));
          got.push((await appendMessages(db, task.taskId, batch)).appended.map((m) => m.sequence));
        }
        return got;
      }),
    );
    const batches = results.flat();
    const all = batches.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
    for (const batch of batches) {
      // Each batch is one unbroken run of sequence numbers.
      expect(batch).toEqual(batch.map((_, j) => (batch[0] as number) + j));
    }
    const reloaded = await getTask(t.db, task.taskId);
    expect(reloaded.messageCount).toBe(all.length);
    expect(reloaded.result.errorCount).toBe(batches.length);
  });

  it('a batch replayed by 8 writers at once is inserted exactly once', async () => {
    const task = await queuedTask(t.db);
    const batch = Array.from({ length: 5 }, (_, i) => ({
      message: `m${i}`,
      error: i === 4,
      contextType: 'task',
      context: 'sqs',
      idempotencyKey: `msg-1:${i}`,
    }));
    const results = await Promise.all(
      contenders.slice(0, 8).map((db) => appendMessages(db, task.taskId, batch)),
    );
    expect(results.reduce((n, r) => n + r.appended.length, 0)).toBe(5);
    const reloaded = await getTask(t.db, task.taskId);
    expect(reloaded.messages.map((m) => m.sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(reloaded.result.errorCount).toBe(1);
  });
});
