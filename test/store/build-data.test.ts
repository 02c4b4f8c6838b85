import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { migrate } from '#shared/db/migrate.ts';
import { migrations } from '#shared/db/migrations.generated.ts';
import { sql, statement } from '#shared/db/sql.ts';
import { LeaseLostError, ValidationError } from '#shared/errors.ts';
import { READ_BUDGET_BYTES, ROW_FRAMING_BYTES, textAnswerBytes } from '#shared/store/bounds.ts';
import { buildDataRead, postBuildData, queryBuildData } from '#shared/store/build-data.ts';
import { appendMessages } from '#shared/store/messages.ts';
import { purgeFinishedTasks } from '#shared/store/retention.ts';
import { runReadsTogether } from '#shared/store/run.ts';
import { createTask, getTask, getTaskTree, taskRead, taskTreeRead } from '#shared/store/tasks.ts';
import type { NewBuildData } from '#shared/store/types.ts';
import {
  ageTask,
  becomeLeader,
  controlChars,
  expireLease,
  forceTask,
  queuedTask,
} from '#test/support/store-fixtures.ts';
import { openTestDb, TEST_DRIVERS, testDatabase } from '#test/support/test-db.ts';

const item = (
  nodeName: string,
  taskId: string,
  generator: string,
  collectedDate: string,
  dataElement = `<${generator}/>`,
): NewBuildData => ({
  nodeName,
  taskId,
  generator,
  collectedDate,
  dataFormat: 'text/xml',
  dataElement,
});

describe.each(TEST_DRIVERS)('build data on %s', (driver) => {
  const t = testDatabase(driver);

  it('queries by node, by task and by node and task, newest first (Drydock dropped the task filter)', async () => {
    const node = `node-${randomUUID()}`;
    const other = `node-${randomUUID()}`;
    const [t1, t2] = [randomUUID(), randomUUID()];
    const posted = await postBuildData(t.db, [
      item(node, t1, 'lshw', '2026-01-01T00:00:00Z'),
      item(node, t2, 'lldp', '2026-01-03T00:00:00Z'),
      item(node, t1, 'lldp', '2026-01-02T00:00:00Z'),
      item(other, t1, 'lshw', '2026-01-04T00:00:00Z'),
    ]);
    expect(posted.inserted).toHaveLength(4);
    expect(posted.inserted[0]).not.toHaveProperty('dataElement');
    const gens = (rows: Awaited<ReturnType<typeof queryBuildData>>) =>
      rows.map((r) => [r.nodeName === node ? 'n' : 'o', r.generator, r.collectedDate.slice(0, 10)]);
    expect(gens(await queryBuildData(t.db, { nodeName: node, verbosity: 1 }))).toEqual([
      ['n', 'lldp', '2026-01-03'],
      ['n', 'lldp', '2026-01-02'],
      ['n', 'lshw', '2026-01-01'],
    ]);
    expect(gens(await queryBuildData(t.db, { taskId: t1, verbosity: 1 }))).toEqual([
      ['o', 'lshw', '2026-01-04'],
      ['n', 'lldp', '2026-01-02'],
      ['n', 'lshw', '2026-01-01'],
    ]);
    expect(gens(await queryBuildData(t.db, { nodeName: node, taskId: t1, verbosity: 1 }))).toEqual([
      ['n', 'lldp', '2026-01-02'],
      ['n', 'lshw', '2026-01-01'],
    ]);
  });

  it('reads the build data of several tasks in one statement', async () => {
    const node = `node-${randomUUID()}`;
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    await postBuildData(t.db, [
      item(node, a, 'lshw', '2026-06-01T00:00:00Z'),
      item(node, b, 'lldp', '2026-06-02T00:00:00Z'),
      item(node, c, 'lldp', '2026-06-03T00:00:00Z'),
    ]);
    const rows = await queryBuildData(t.db, { taskIds: [a, b], verbosity: 2 });
    expect(rows.map((r) => [r.taskId, r.dataElement])).toEqual([
      [b, '<lldp/>'],
      [a, '<lshw/>'],
    ]);
  });

  it('returns the newest item per generator, with or without payload (verbosity 1 or 2)', async () => {
    const node = `node-${randomUUID()}`;
    const task = randomUUID();
    await postBuildData(t.db, [
      item(node, task, 'hello', '2026-02-01T00:00:00Z', 'old hello'),
      item(node, task, 'hello', '2026-02-03T00:00:00Z', 'new hello'),
      item(node, task, 'bye', '2026-02-02T00:00:00Z', 'bye'),
    ]);
    const latest = await queryBuildData(t.db, { nodeName: node, latest: true, verbosity: 2 });
    expect(latest.map((r) => [r.generator, r.dataElement])).toEqual([
      ['hello', 'new hello'],
      ['bye', 'bye'],
    ]);
    const brief = await queryBuildData(t.db, { nodeName: node, latest: true, verbosity: 1 });
    expect(brief).toHaveLength(2);
    expect(brief[0]).not.toHaveProperty('dataElement');
    expect(
      await queryBuildData(t.db, { nodeName: `none-${randomUUID()}`, latest: true, verbosity: 1 }),
    ).toEqual([]);
  });

  it('keeps the newest item per generator beside the history, whatever order items arrive in or change', async () => {
    const node = `node-${randomUUID()}`;
    const task = randomUUID();
    const latest = async () =>
      (await queryBuildData(t.db, { nodeName: node, latest: true, verbosity: 1 })).map((r) => [
        r.generator,
        r.collectedDate.slice(0, 10),
      ]);
    await postBuildData(t.db, [
      item(node, task, 'lshw', '2026-03-05T00:00:00Z'),
      item(node, task, 'lshw', '2026-03-01T00:00:00Z'),
      item(node, task, 'lldp', '2026-03-02T00:00:00Z'),
    ]);
    // An older item posted later, and a newer one of another generator.
    await postBuildData(t.db, [
      item(node, task, 'lshw', '2026-03-03T00:00:00Z'),
      item(node, task, 'lldp', '2026-03-04T00:00:00Z'),
    ]);
    expect(await latest()).toEqual([
      ['lshw', '2026-03-05'],
      ['lldp', '2026-03-04'],
    ]);
    // A page of one, then the rest after its cursor.
    const first = await queryBuildData(t.db, {
      nodeName: node,
      latest: true,
      verbosity: 1,
      limit: 1,
    });
    expect(first.map((r) => r.generator)).toEqual(['lshw']);
    const rest = await queryBuildData(t.db, {
      nodeName: node,
      latest: true,
      verbosity: 1,
      limit: 1,
      cursor: first.nextCursor ?? undefined,
    });
    expect([rest.map((r) => r.generator), rest.nextCursor]).toEqual([['lldp'], null]);
    // The service never changes or deletes build data; a hand-made change still keeps it right.
    await t.db.query(
      statement(
        {},
        sql`delete from build_data where node_name = ${node}::text and collected_date = '2026-03-05T00:00:00Z'`,
      ),
    );
    await t.db.query(
      statement(
        {},
        sql`update build_data set generator = 'lldp' where node_name = ${node}::text and collected_date = '2026-03-03T00:00:00Z'`,
      ),
    );
    expect(await latest()).toEqual([
      ['lldp', '2026-03-04'],
      ['lshw', '2026-03-01'],
    ]);
    await t.db.query(statement({}, sql`delete from build_data where node_name = ${node}::text`));
    expect(await latest()).toEqual([]);
  });

  it('pages one item at a time across microseconds and 1970 without repeating or skipping one', async () => {
    const node = `node-${randomUUID()}`;
    const task = randomUUID();
    const dates = [
      '1970-01-01T00:00:00.000001Z',
      '1969-12-31T23:59:59.250001Z',
      '1969-12-31T23:59:59.250000Z',
      '1969-12-31T23:59:59.000000Z',
    ];
    await postBuildData(
      t.db,
      dates.map((d, i) => item(node, task, `g${i}`, d)),
    );
    for (const latest of [false, true]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await queryBuildData(t.db, {
          nodeName: node,
          latest,
          verbosity: 1,
          limit: 1,
          cursor,
        });
        seen.push(...page.map((r) => r.collectedDate));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      expect(seen).toEqual(dates);
    }
  });

  it('ends a page where the read budget runs out, to the byte, after one item at least', async () => {
    // What an item adds to a read, as the statement counts it (JSON text escaped once): its
    // metadata and row framing once per row, and at verbosity 2 its payload, with the metadata
    // repeated on each of its chunk rows.
    const cost = (i: NewBuildData, verbosity: 1 | 2) => {
      const meta =
        ROW_FRAMING_BYTES.buildData +
        textAnswerBytes(i.nodeName) +
        textAnswerBytes(i.generator) +
        textAnswerBytes(i.dataFormat);
      if (verbosity === 1) return meta;
      const payload = textAnswerBytes(i.dataElement);
      return payload + (1 + Math.floor((payload - 3) / 12_000)) * meta;
    };
    /** A generator name whose item costs exactly `bytes` at verbosity 1 (1 byte stored, 6 in JSON). */
    const sized = (node: string, rank: number, bytes: number): string => {
      const base = cost(item(node, randomUUID(), '', '2026-01-01T00:00:00Z', 'x'), 1);
      const needed = bytes - base - 1; // one character names the rank
      const escaped = Math.floor((needed - 1) / 6);
      return `${String.fromCharCode(65 + rank)}${controlChars(escaped)}${'z'.repeat(needed - 6 * escaped)}`;
    };
    const pages = async (node: string, latest: boolean, verbosity: 1 | 2) => {
      const seen: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await queryBuildData(t.db, { nodeName: node, latest, verbosity, cursor });
        seen.push(page.map((r) => r.generator.slice(0, 1)));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      return seen;
    };
    // Ten items of 48,000 bytes, then one that fills the budget to the byte or passes it by one
    // (every row stays under the Data API's 64 KB), then a small one: newest first.
    for (const over of [0, 1]) {
      const node = `node-${randomUUID()}`;
      const task = randomUUID();
      const costs = Array.from({ length: 10 }, () => 48_000);
      costs.push(READ_BUDGET_BYTES + over - costs.reduce((a, b) => a + b, 0), 1_000);
      const items = costs.map((bytes, rank) =>
        item(node, task, sized(node, rank, bytes), `2026-01-01T00:00:${String(59 - rank)}Z`, 'x'),
      );
      expect(items.map((i) => cost(i, 1))).toEqual(costs);
      await postBuildData(t.db, items);
      const split = over === 0 ? 11 : 10;
      const expected = [
        'ABCDEFGHIJKL'.slice(0, split).split(''),
        'ABCDEFGHIJKL'.slice(split).split(''),
      ];
      expect(await pages(node, true, 1), `latest, ${over} byte over`).toEqual(expected);
      expect(await pages(node, false, 1), `history, ${over} byte over`).toEqual(expected);
    }
    // An item past the budget on its own (a payload at its bound, and its metadata on each of its
    // 41 chunk rows) is a page of its own at verbosity 2, and fits with the next at verbosity 1.
    const node = `node-${randomUUID()}`;
    const task = randomUUID();
    const big = item(
      node,
      task,
      `A${controlChars(200)}`,
      '2026-01-02T00:00:00Z',
      'x'.repeat(491_518),
    );
    const small = item(node, task, 'B', '2026-01-01T00:00:00Z', 'x');
    expect(cost(big, 2)).toBeGreaterThan(READ_BUDGET_BYTES);
    await postBuildData(t.db, [big, small]);
    for (const latest of [true, false]) {
      expect(await pages(node, latest, 2)).toEqual([['A'], ['B']]);
      expect(await pages(node, latest, 1)).toEqual([['A', 'B']]);
    }
  });

  it('fills the newest items per generator from the history already stored when migration 0016 runs', async () => {
    const before = await openTestDb(driver, { migrate: false });
    try {
      await migrate(
        before.db,
        migrations.filter((m) => m.version < 16),
      );
      const task = randomUUID();
      await postBuildData(before.db, [
        item('old-node', task, 'lshw', '2026-01-01T00:00:00Z', 'first'),
        item('old-node', task, 'lshw', '2026-01-03T00:00:00Z', 'newest'),
        item('old-node', task, 'lshw', '2026-01-02T00:00:00Z', 'between'),
        item('old-node', task, 'lldp', '2026-01-02T00:00:00Z', 'lldp'),
      ]);
      await migrate(before.db, migrations);
      const latest = await queryBuildData(before.db, {
        nodeName: 'old-node',
        latest: true,
        verbosity: 2,
      });
      expect(latest.map((r) => [r.generator, r.dataElement])).toEqual([
        ['lshw', 'newest'],
        ['lldp', 'lldp'],
      ]);
    } finally {
      await before.close();
    }
  });

  it('refuses a query without a node or task instead of failing in SQL (Drydock latest-without-filter)', async () => {
    await expect(queryBuildData(t.db, { latest: true, verbosity: 1 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(
      queryBuildData(t.db, { taskId: randomUUID(), latest: true, verbosity: 1 }),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it('keeps long node names and large payloads whole (Drydock capped names at 32)', async () => {
    const node = `rack01-compute-node-with-a-very-long-name-${'z'.repeat(200)}.example.com`;
    const payload = `<lshw>${'x'.repeat(200_000)}</lshw>`;
    await postBuildData(t.db, [item(node, randomUUID(), 'lshw', '2026-03-01T00:00:00Z', payload)]);
    const [row] = await queryBuildData(t.db, { nodeName: node, verbosity: 2 });
    expect(row?.nodeName).toBe(node);
    expect(row?.dataElement).toBe(payload);
  });

  it('skips items whose idempotency key is stored already', async () => {
    const node = `node-${randomUUID()}`;
    const batch = [
      { ...item(node, randomUUID(), 'lshw', '2026-04-01T00:00:00Z'), idempotencyKey: `bd-${node}` },
    ];
    expect((await postBuildData(t.db, batch)).inserted).toHaveLength(1);
    expect(await postBuildData(t.db, batch)).toEqual({ inserted: [], duplicates: 1 });
    expect(await queryBuildData(t.db, { nodeName: node, verbosity: 1 })).toHaveLength(1);
  });

  it("stores an orchestrator's items only while its lease epoch is live", async () => {
    const node = `node-${randomUUID()}`;
    const epoch = await becomeLeader(t.db, `leader-${randomUUID()}`);
    const one = [item(node, randomUUID(), 'lshw', '2026-06-01T00:00:00Z')];
    expect((await postBuildData(t.db, one, { epoch })).inserted).toHaveLength(1);
    await expect(postBuildData(t.db, one, { epoch: epoch + 1 })).rejects.toBeInstanceOf(
      LeaseLostError,
    );
    await expireLease(t.db);
    await expect(
      postBuildData(t.db, [item(node, randomUUID(), 'lldp', '2026-06-02T00:00:00Z')], { epoch }),
    ).rejects.toThrow(/fenced/);
    expect(await queryBuildData(t.db, { nodeName: node, verbosity: 1 })).toHaveLength(1);
  });

  it('outlives task retention', async () => {
    const task = await queuedTask(t.db);
    await forceTask(t.db, task.taskId, { status: 'complete' });
    const node = `node-${randomUUID()}`;
    await postBuildData(t.db, [item(node, task.taskId, 'lshw', '2026-05-01T00:00:00Z')]);
    await ageTask(t.db, task.taskId, 100);
    expect(
      (await purgeFinishedTasks(t.db, { olderThanDays: 90, batchSize: 100 })).deletedTasks,
    ).toBeGreaterThanOrEqual(1);
    expect(await queryBuildData(t.db, { taskId: task.taskId, verbosity: 1 })).toHaveLength(1);
  });

  it('refuses empty required fields', async () => {
    await expect(
      postBuildData(t.db, [item('', randomUUID(), 'lshw', '2026-01-01T00:00:00Z')]),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it('finds the newest of each generator past a deep history (more entries than one sweep takes)', async () => {
    const node = `node-${randomUUID()}`;
    const [t1, t2] = [randomUUID(), randomUUID()];
    const day = (i: number) =>
      new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString().replace('Z', '000Z');
    // 300 items of "a" (newest at minute 299, under t2), then one each of "b" and "c".
    for (let start = 0; start < 300; start += 100) {
      await postBuildData(
        t.db,
        Array.from({ length: 100 }, (_, i) =>
          item(node, start + i === 299 ? t2 : t1, 'a', day(start + i)),
        ),
      );
    }
    await postBuildData(t.db, [item(node, t1, 'b', day(5)), item(node, t2, 'c', day(7))]);
    const latest = await queryBuildData(t.db, { nodeName: node, latest: true, verbosity: 1 });
    expect(latest.map((r) => [r.generator, r.collectedDate])).toEqual([
      ['a', day(299)],
      ['c', day(7)],
      ['b', day(5)],
    ]);
    const ofT1 = await queryBuildData(t.db, {
      nodeName: node,
      taskId: t1,
      latest: true,
      verbosity: 1,
    });
    expect(ofT1.map((r) => [r.generator, r.collectedDate])).toEqual([
      ['a', day(298)],
      ['b', day(5)],
    ]);
  });

  it('reads a task, or its tree, and their build data in one statement, as each reads alone', async () => {
    const task = await queuedTask(t.db);
    const child = await createTask(t.db, {
      parentTaskId: task.taskId,
      action: 'prepare_nodes',
      status: 'requested',
    });
    await appendMessages(t.db, task.taskId, [
      { message: 'one', error: false, contextType: 'task', context: 'x' },
      { message: 'two', error: true, contextType: 'node', context: 'n1' },
    ]);
    const node = `node-${randomUUID()}`;
    // A payload of several chunks (12,000 characters each) and one of the child's.
    await postBuildData(t.db, [
      item(node, task.taskId, 'lshw', '2026-01-01T00:00:00Z', 'é'.repeat(30_000)),
      item(node, task.taskId, 'lldp', '2026-01-02T00:00:00Z'),
      item(node, child.task.taskId, 'lshw', '2026-01-03T00:00:00Z'),
    ]);
    const taskQuery = { taskIds: [task.taskId], verbosity: 2 } as const;
    const [together, items] = await runReadsTogether(
      t.db,
      taskRead(task.taskId),
      buildDataRead(taskQuery),
    );
    expect(together).toEqual(await getTask(t.db, task.taskId));
    expect(items).toEqual(await queryBuildData(t.db, taskQuery));
    expect(items.map((i) => i.dataElement?.length)).toEqual(['<lldp/>'.length, 30_000]);
    expect(items.nextCursor).toBeNull();

    const treeQuery = { taskTree: { rootTaskId: task.taskId, layers: -1 }, verbosity: 1 } as const;
    const [tree, treeItems] = await runReadsTogether(
      t.db,
      taskTreeRead(task.taskId, { layers: -1 }),
      buildDataRead(treeQuery),
    );
    expect(tree).toEqual(await getTaskTree(t.db, task.taskId, { layers: -1 }));
    expect(tree.map((n) => n.taskId)).toEqual([task.taskId, child.task.taskId]);
    expect(treeItems.map((i) => i.generator)).toEqual(['lshw', 'lldp', 'lshw']);

    await expect(
      runReadsTogether(t.db, taskRead(randomUUID()), buildDataRead(taskQuery)),
    ).rejects.toThrow(/does not exist/);
  });
});
