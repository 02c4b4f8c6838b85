import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateBootActionKey, newBootActionId } from '#shared/bootactions/key.ts';
import type { Db } from '#shared/db/port.ts';
import { sql, statement } from '#shared/db/sql.ts';
import { LeaseLostError } from '#shared/errors.ts';
import { createBootActionContext } from '#shared/store/boot-actions.ts';
import { postBuildData, queryBuildData } from '#shared/store/build-data.ts';
import { claimLease, renewLease } from '#shared/store/lease.ts';
import { appendMessages } from '#shared/store/messages.ts';
import { claimTasks, requeueStrandedTasks } from '#shared/store/queue.ts';
import { createTask, getTask, updateTask } from '#shared/store/tasks.ts';
import type { LeaseClaim } from '#shared/store/types.ts';
import { contenderRandom, raceSeed, yieldRandomly } from '#test/support/random.ts';
import {
  becomeLeader,
  expireLease,
  type LapsedLease,
  queuedTask,
  resetTables,
} from '#test/support/store-fixtures.ts';
import { openTestDb, TEST_DRIVERS, type TestDb } from '#test/support/test-db.ts';

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
    const seed = raceSeed();
    const fighters = contenders.slice(0, 8);
    const held: {
      holder: string;
      epoch: number;
      acquiredAt: string;
      expiresAt: string;
      dbNow: string;
    }[] = [];
    const lapses = new Map<number, LapsedLease>();
    await Promise.all(
      fighters.map(async (db, i) => {
        const me = `instance-${i}`;
        const random = contenderRandom(seed, i);
        let epoch: number | null = null;
        for (let round = 0; round < 60; round += 1) {
          try {
            const state: LeaseClaim =
              epoch === null
                ? await claimLease(db, { instanceId: me, graceSeconds: 60 })
                : {
                    ...(await renewLease(db, { instanceId: me, epoch, graceSeconds: 60 })),
                    held: true,
                  };
            if (state.held) {
              held.push(state);
              epoch = state.epoch;
              // Now and then the holder falls silent past its grace period, forcing a takeover:
              // its lease ends on the database clock, as if the whole grace had gone by.
              if (random() < 0.15) {
                const lapsed = await expireLease(db, { holder: me, epoch });
                if (lapsed) lapses.set(lapsed.epoch, lapsed);
                epoch = null;
              }
            }
          } catch (error) {
            if (!(error instanceof LeaseLostError)) throw error;
            epoch = null;
          }
          await yieldRandomly(random);
        }
      }),
    );
    const epochs = [...new Set(held.map((h) => h.epoch))].sort((a, b) => a - b);
    expect(epochs.length).toBeGreaterThan(1); // takeovers happened
    for (const epoch of epochs) {
      expect(new Set(held.filter((h) => h.epoch === epoch).map((h) => h.holder)).size).toBe(1);
    }
    // The grace never runs out by itself here: every epoch but the last ended by its holder's
    // lapse, nothing was granted in it after that, and the next epoch started later still.
    for (let i = 1; i < epochs.length; i += 1) {
      const lapse = lapses.get(epochs[i - 1] as number);
      expect(lapse).toBeDefined();
      const ended = lapse as LapsedLease;
      for (const grant of held.filter((h) => h.epoch === ended.epoch)) {
        expect(grant.dbNow <= ended.dbNow).toBe(true);
      }
      const start = held
        .filter((h) => h.epoch === epochs[i])
        .map((h) => h.acquiredAt)
        .sort()[0] as string;
      expect(start >= ended.expiresAt).toBe(true);
    }
    // Observed in database-clock order, epochs never go down.
    const byClock = [...held].sort((a, b) => (a.dbNow < b.dbNow ? -1 : a.dbNow > b.dbNow ? 1 : 0));
    for (let i = 1; i < byClock.length; i += 1) {
      expect((byClock[i] as { epoch: number }).epoch).toBeGreaterThanOrEqual(
        (byClock[i - 1] as { epoch: number }).epoch,
      );
    }
  });

  it('a deposed leader racing its successor: none of its writes lands after the takeover', async () => {
    const parent = await queuedTask(t.db);
    const a = await becomeLeader(t.db, 'leader-a', 300);
    await claimTasks(t.db, { instanceId: 'leader-a', epoch: a });
    const { task: sub } = await createTask(t.db, {
      parentTaskId: parent.taskId,
      action: 'deploy_node',
      epoch: a,
    });
    await updateTask(t.db, sub.taskId, { status: 'running' }, { epoch: a });

    // The old leader's threads, one connection each, write with its epoch without pause: every
    // kind of orchestrator write, before, during and after the takeover.
    const landed: string[] = [];
    let flowing: () => void = () => {};
    const forty = new Promise<void>((resolve) => {
      flowing = resolve;
    });
    const lateSuccesses: string[] = [];
    let refused = 0;
    let takenOver = false;
    let stop = false;
    const write = (db: Db, marker: string, i: number): Promise<unknown> => {
      switch (i % 4) {
        case 0:
          return appendMessages(
            db,
            parent.taskId,
            [{ message: marker, error: false, contextType: 'task', context: 'a' }],
            { epoch: a },
          );
        case 1:
          return updateTask(db, sub.taskId, { result: { addSuccesses: [marker] } }, { epoch: a });
        case 2:
          return postBuildData(
            db,
            [
              {
                nodeName: 'n1',
                taskId: sub.taskId,
                generator: marker,
                dataFormat: 'text/plain',
                dataElement: 'x',
              },
            ],
            { epoch: a },
          );
        default:
          return createTask(db, {
            parentTaskId: parent.taskId,
            action: 'noop',
            designRef: `https://stale.example/${marker}`,
            epoch: a,
          });
      }
    };
    const deposed = contenders.slice(0, 6).map(async (db, w) => {
      let refusedHere = 0;
      for (let i = 0; !stop || refusedHere < 8; i += 1) {
        const marker = `A ${w}-${i}`;
        const after = takenOver;
        try {
          await write(db, marker, i);
          landed.push(marker);
          if (landed.length === 40) flowing();
          if (after) lateSuccesses.push(marker);
        } catch (error) {
          if (!(error instanceof LeaseLostError)) throw error;
          refused += 1;
          refusedHere += 1;
        }
      }
    });

    // Let the old leader's writes flow, then its grace runs out and a new leader takes over.
    await forty;
    await expireLease(contenders[15] as Db);
    const b = await claimLease(contenders[15] as Db, { instanceId: 'leader-b', graceSeconds: 300 });
    takenOver = true;
    expect(b).toMatchObject({ held: true, epoch: a + 1 });
    // The new leader works: recovers the dead epoch's tree, writes its own messages.
    const newLeader = contenders[14] as Db;
    expect(await requeueStrandedTasks(newLeader, { epoch: b.epoch, limit: 1000 })).toMatchObject({
      requeued: 1,
    });
    for (let i = 0; i < 20; i += 1) {
      await appendMessages(
        newLeader,
        parent.taskId,
        [{ message: `B ${i}`, error: false, contextType: 'task', context: 'b' }],
        { epoch: b.epoch },
      );
    }
    stop = true;
    await Promise.all(deposed);

    expect(lateSuccesses).toEqual([]);
    expect(refused).toBeGreaterThanOrEqual(6 * 8);
    // What landed is exactly what the old leader was told landed, and all of it came before the
    // new leader's first write: the recovery message follows every one of the old messages.
    const after = await getTask(t.db, parent.taskId);
    const requeueMessage = after.messages.find((m) => m.message.startsWith('Requeued'));
    const oldMessages = after.messages.filter((m) => m.message.startsWith('A '));
    expect(oldMessages.map((m) => m.message).sort()).toEqual(
      landed.filter((m) => Number(m.split('-')[1]) % 4 === 0).sort(),
    );
    expect(Math.max(...oldMessages.map((m) => m.sequence))).toBeLessThan(
      requeueMessage?.sequence as number,
    );
    expect(after.messages.filter((m) => m.message.startsWith('B '))).toHaveLength(20);
    const [rows] = await t.db.query(
      statement(
        { builds: 'int', lateBuilds: 'int', subtasks: 'int', unfinished: 'int' },
        sql`select
  (select count(*) from build_data where generator like 'A %')::int as "builds",
  (select count(*) from build_data where generator like 'A %' and collected_date >= ${b.acquiredAt}::timestamptz)::int as "lateBuilds",
  (select count(*) from tasks where design_ref like 'https://stale.example/%')::int as "subtasks",
  (select count(*) from tasks where claimed_epoch = ${a}::bigint and status not in ('complete', 'terminated'))::int as "unfinished"`,
      ),
    );
    expect(rows).toEqual({
      builds: landed.filter((m) => Number(m.split('-')[1]) % 4 === 2).length,
      lateBuilds: 0,
      subtasks: landed.filter((m) => Number(m.split('-')[1]) % 4 === 3).length,
      // Every task the old epoch owned was ended by the recovery: none was added after it.
      unfinished: 0,
    });
    expect((await getTask(t.db, sub.taskId)).resultSuccesses.sort()).toEqual(
      landed.filter((m) => Number(m.split('-')[1]) % 4 === 1).sort(),
    );
  }, 120_000);

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
    expect(reloaded.errorCount).toBe(batches.length);
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
    expect(reloaded.errorCount).toBe(1);
  });
  it("16 posters of one node's generators, each batch in its own order, keep each generator's newest item", async () => {
    const seed = raceSeed();
    const node = 'race-node';
    const generators = ['lshw', 'lldp', 'dmesg', 'ipmi'];
    const date = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();
    const minutes = await Promise.all(
      contenders.map(async (db, c) => {
        const random = contenderRandom(seed, c);
        // Each contender posts every generator once, in its own order, at its own minute.
        const order = [...generators].sort(() => random() - 0.5);
        const minute = c * 7 + Math.floor(random() * 5);
        await yieldRandomly(random);
        await postBuildData(
          db,
          order.map((generator) => ({
            nodeName: node,
            taskId: '00000000-0000-4000-8000-000000000001',
            generator,
            collectedDate: date(minute),
            dataFormat: 'text/plain',
            dataElement: `${generator} by ${c}`,
          })),
        );
        return minute;
      }),
    );
    const newest = Math.max(...minutes);
    const latest = await queryBuildData(t.db, { nodeName: node, latest: true, verbosity: 1 });
    expect(latest.map((r) => [r.generator, r.collectedDate.slice(0, 16)]).sort()).toEqual(
      generators.map((g) => [g, date(newest).slice(0, 16)]).sort(),
    );
  });

  // A task's update locks its row `for no key update`, which a foreign-key check's `for key share`
  // does not wait for. `for update` would hold every insert referencing the task (its boot
  // actions here) until the update's transaction ends: with the lock timeout below, that is a
  // lock_timeout error instead of a context. (A message append is no witness: it bumps the task's
  // message counter, an update of the row that waits for either lock.) On pg only: the update's
  // transaction stays open on one connection while another one inserts.
  it.runIf(driver === 'pg')(
    'an open task update does not hold inserts that reference the task (a boot-action context)',
    async () => {
      const task = await queuedTask(t.db, { action: 'deploy_node' });
      const referrer = t.connect({ lock_timeout: '2s' }, 1);
      const created = await t.db.transaction(async (tx) => {
        await updateTask(tx, task.taskId, { result: { message: 'deploying' } });
        return createBootActionContext(referrer, {
          nodeName: 'n1',
          taskId: task.taskId,
          identityKeyHash: generateBootActionKey().hash,
          actions: [
            { actionId: newBootActionId(), actionName: 'hello', actionStatus: 'incomplete' },
          ],
        });
      });
      expect(created).toMatchObject({ nodeName: 'n1', taskId: task.taskId });
    },
  );
});
