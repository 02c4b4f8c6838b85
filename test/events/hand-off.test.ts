import { beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '#shared/db/port.ts';
import { sql, statement } from '#shared/db/sql.ts';
import { createOutboxHandOff } from '#shared/notify/hand-off.ts';
import { createPublisher } from '#shared/notify/publisher.ts';
import { readEventsAfter } from '#shared/store/outbox.ts';
import { createTask, getTask } from '#shared/store/tasks.ts';
import { countingDb } from '#test/support/counting-db.ts';
import { recordingSink } from '#test/support/recording-sink.ts';
import { resetTables } from '#test/support/store-fixtures.ts';
import { TEST_DRIVERS, testDatabase } from '#test/support/test-db.ts';

const DESIGN = 'https://designs.example.com/site.yaml';

/**
 * Inline publishing at no statement of its own (a Lambda's, `shared/notify/hand-off.ts`): the
 * write's statement returns its events, the publisher delivers them, and their mark rides on the
 * container's next statement; what is not delivered or not marked stays for the schedule's sweep.
 */
describe.each(TEST_DRIVERS)('the outbox hand-off on %s', (driver) => {
  const t = testDatabase(driver);
  beforeEach(async () => resetTables(t.db));

  const setUp = () => {
    const counting = countingDb(t.db);
    const handOff = createOutboxHandOff({ ...counting, transaction: t.db.transaction });
    const sink = recordingSink();
    const publisher = createPublisher({ db: counting, sink, mode: 'inline', handOff });
    return { counting, handOff, sink, publisher };
  };

  const published = async (eventId: number) => {
    const [row] = await t.db.query(
      statement(
        { published: 'bool' },
        sql`select published_at is not null as "published" from event_outbox where event_id = ${eventId}::bigint`,
      ),
    );
    return row?.published;
  };

  it('delivers a write’s events with no statement of its own, and marks them with the next', async () => {
    const { counting, handOff, sink, publisher } = setUp();
    const { task } = await createTask(handOff.db, {
      action: 'verify_site',
      status: 'queued',
      designRef: DESIGN,
    });
    await publisher.afterWrite();
    expect(counting.statements).toBe(1);
    // What was delivered is the outbox row, exactly as a claim would have read it.
    const stored = await readEventsAfter(t.db, 0, 10);
    expect(stored).toHaveLength(1);
    expect(sink.got).toEqual(stored);
    expect(sink.got[0]?.detail).toMatchObject({ task_id: task.taskId, new_status: 'queued' });
    const eventId = stored[0]?.eventId as number;
    expect(handOff.unmarked).toEqual([eventId]);
    expect(await published(eventId)).toBe(false);
    // The sweep leaves a row its writer has yet to mark.
    expect(await publisher.drain()).toBe(0);

    // A statement that fails rolls its mark back with it; the next one carries it again.
    await expect(
      handOff.db.query(statement({ n: 'int' }, sql`select (1 / 0)::int as n`)),
    ).rejects.toThrow();
    expect(handOff.unmarked).toEqual([eventId]);
    expect(await published(eventId)).toBe(false);

    const before = counting.statements;
    expect((await getTask(handOff.db, task.taskId)).taskId).toBe(task.taskId);
    expect(counting.statements - before).toBe(1);
    expect(handOff.unmarked).toEqual([]);
    expect(await published(eventId)).toBe(true);
    expect(sink.got).toHaveLength(1);
  });

  it('leaves events it could not deliver to the sweep, once they are older than a writer’s time to mark', async () => {
    const { handOff, sink, publisher } = setUp();
    sink.down = true;
    await createTask(handOff.db, { action: 'verify_site', status: 'queued', designRef: DESIGN });
    await publisher.afterWrite();
    expect(handOff.unmarked).toEqual([]);
    sink.down = false;
    expect(await publisher.drain()).toBe(0);
    // As the schedule finds them minutes later.
    await t.db.query(
      statement({}, sql`update event_outbox set created = created - interval '10 minutes'`),
    );
    expect(await publisher.drain()).toBe(1);
    expect(sink.got.map((e) => e.detail.new_status)).toEqual(['queued']);
  });

  it('builds the returned events only for the hand-off’s Db', async () => {
    const texts: string[] = [];
    const recording = (inner: Db): Db => ({
      driver: inner.driver,
      close: () => inner.close(),
      query: (s) => {
        texts.push(s.text);
        return inner.query(s);
      },
    });
    const handOff = createOutboxHandOff({ ...recording(t.db), transaction: t.db.transaction });
    const input = { action: 'verify_site', status: 'queued', designRef: DESIGN } as const;
    await createTask(handOff.db, input);
    expect(handOff.take().events).toHaveLength(1);
    await createTask(recording(t.db), input);
    expect(texts.map((text) => text.includes('json_agg'))).toEqual([true, false]);
    // The event row is written either way: the schedule publishes it.
    expect(await readEventsAfter(t.db, 0, 10)).toHaveLength(2);
  });

  it('claims back what a statement does not return', async () => {
    const { counting, handOff, sink, publisher } = setUp();
    // A write that is not the store's (the hand-off sees no returned events): read back as before.
    await createTask(t.db, { action: 'verify_site', status: 'queued', designRef: DESIGN });
    await handOff.db.query(statement({ n: 'int' }, sql`select 1 as n`));
    counting.reset();
    await publisher.afterWrite();
    expect(sink.got.map((e) => e.detail.new_status)).toEqual(['queued']);
    expect(counting.statements).toBe(2); // claim, mark
  });
});
