import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sql, statement } from '#shared/db/sql.ts';
import {
  LeaseLostError,
  NotFoundError,
  PayloadTooLargeError,
  UnprocessableError,
  ValidationError,
} from '#shared/errors.ts';
import { messageAnswerBytes, messageAnswerBytesSql } from '#shared/store/bounds.ts';
import { appendMessages, listMessages } from '#shared/store/messages.ts';
import { getTask } from '#shared/store/tasks.ts';
import {
  becomeLeader,
  controlChars,
  expireLease,
  queuedTask,
} from '#test/support/store-fixtures.ts';
import { TEST_DRIVERS, testDatabase } from '#test/support/test-db.ts';

const msg = (
  message: string,
  extra: Partial<{ error: boolean; idempotencyKey: string; extra: Record<string, unknown> }> = {},
) => ({
  message,
  error: false,
  contextType: 'node',
  context: 'node01',
  ...extra,
});

describe.each(TEST_DRIVERS)('result messages on %s', (driver) => {
  const t = testDatabase(driver);

  it("appends an orchestrator's messages only while its lease epoch is live, one or many", async () => {
    const task = await queuedTask(t.db);
    const epoch = await becomeLeader(t.db, `leader-${randomUUID()}`);
    await appendMessages(t.db, task.taskId, [msg('live')], { epoch });
    for (const batch of [[msg('stale')], [msg('stale a'), msg('stale b', { error: true })]]) {
      await expect(
        appendMessages(t.db, task.taskId, batch, { epoch: epoch + 1 }),
      ).rejects.toBeInstanceOf(LeaseLostError);
    }
    await expireLease(t.db);
    await expect(appendMessages(t.db, task.taskId, [msg('late')], { epoch })).rejects.toThrow(
      /fenced/,
    );
    // A caller that is not the orchestrator (a node's report, an operator) carries no epoch.
    await appendMessages(t.db, task.taskId, [msg('from a node')]);
    const after = await getTask(t.db, task.taskId);
    expect(after.messages.map((m) => [m.sequence, m.message])).toEqual([
      [1, 'live'],
      [2, 'from a node'],
    ]);
    expect(after.errorCount).toBe(0);
  });

  it('appends one and many with contiguous sequences and keeps the error count', async () => {
    const task = await queuedTask(t.db);
    const one = await appendMessages(t.db, task.taskId, [msg('first', { error: true })]);
    expect(one.appended.map((m) => m.sequence)).toEqual([1]);
    const many = await appendMessages(t.db, task.taskId, [
      msg('a'),
      msg('b', { error: true }),
      msg('c'),
    ]);
    expect(many.appended.map((m) => [m.sequence, m.message])).toEqual([
      [2, 'a'],
      [3, 'b'],
      [4, 'c'],
    ]);
    const reloaded = await getTask(t.db, task.taskId);
    expect(reloaded.errorCount).toBe(2);
    expect(reloaded.messageCount).toBe(4);
    expect(reloaded.messages.map((m) => m.message)).toEqual(['first', 'a', 'b', 'c']);
    expect(reloaded.messages[0]?.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('stores extra as a JSON object and never truncates (Drydock double-encoded and cut at 127)', async () => {
    const task = await queuedTask(t.db);
    const long = `${'m'.repeat(5000)}-end`;
    await appendMessages(t.db, task.taskId, [
      msg(long, { extra: { retry: true, attempt: 2, nested: { ok: ['x'] } } }),
      { ...msg('ts given'), ts: '2026-01-02T03:04:05.123456Z', context: `node-${'n'.repeat(300)}` },
    ]);
    const [first, second] = (await getTask(t.db, task.taskId)).messages;
    expect(first?.message).toBe(long);
    expect(first?.extra).toEqual({ retry: true, attempt: 2, nested: { ok: ['x'] } });
    expect(second?.ts).toBe('2026-01-02T03:04:05.123456Z');
    expect(second?.context).toHaveLength(305);
    const stored = await t.db.query(
      statement(
        { kind: 'text' },
        sql`select jsonb_typeof(extra) as kind from result_message where task_id = ${task.taskId}::uuid and sequence = 1`,
      ),
    );
    expect(stored[0]?.kind).toBe('object');
  });

  it('makes a replayed batch insert nothing, and skips duplicates inside a batch', async () => {
    const task = await queuedTask(t.db);
    const batch = [
      msg('x', { idempotencyKey: 'k1', error: true }),
      msg('y', { idempotencyKey: 'k2' }),
    ];
    expect((await appendMessages(t.db, task.taskId, batch)).appended).toHaveLength(2);
    const replay = await appendMessages(t.db, task.taskId, batch);
    expect(replay).toEqual({ appended: [], duplicates: 2 });
    const mixed = await appendMessages(t.db, task.taskId, [
      msg('y', { idempotencyKey: 'k2' }),
      msg('z', { idempotencyKey: 'k3' }),
      msg('z', { idempotencyKey: 'k3' }),
    ]);
    expect(mixed.appended.map((m) => [m.sequence, m.message])).toEqual([[3, 'z']]);
    expect(mixed.duplicates).toBe(2);
    const reloaded = await getTask(t.db, task.taskId);
    expect(reloaded.errorCount).toBe(1);
    expect(reloaded.messages.map((m) => m.sequence)).toEqual([1, 2, 3]);
  });

  it('refuses a key that comes back with another message, appending nothing of the batch', async () => {
    const task = await queuedTask(t.db);
    await appendMessages(t.db, task.taskId, [msg('y', { idempotencyKey: 'k2' })]);
    for (const batch of [
      [msg('fresh'), msg('y again', { idempotencyKey: 'k2' })],
      [msg('y', { idempotencyKey: 'k2', error: true })],
      [msg('z', { idempotencyKey: 'k3' }), msg('z twice', { idempotencyKey: 'k3' })],
    ]) {
      await expect(appendMessages(t.db, task.taskId, batch)).rejects.toBeInstanceOf(
        UnprocessableError,
      );
    }
    expect((await getTask(t.db, task.taskId)).messages.map((m) => m.message)).toEqual(['y']);
  });

  it('pages after a sequence with a limit', async () => {
    const task = await queuedTask(t.db);
    await appendMessages(
      t.db,
      task.taskId,
      Array.from({ length: 7 }, (_, i) => msg(`m${i + 1}`)),
    );
    expect(
      (await listMessages(t.db, task.taskId, { after: 0, limit: 3 })).messages.map(
        (m) => m.sequence,
      ),
    ).toEqual([1, 2, 3]);
    const last = await listMessages(t.db, task.taskId, { after: 5, limit: 3 });
    expect([last.messages.map((m) => m.message), last.more]).toEqual([['m6', 'm7'], false]);
    expect(await listMessages(t.db, task.taskId, { after: 7, limit: 3 })).toEqual({
      messages: [],
      more: false,
    });
  });

  it('answers not found for a missing task and refuses bad input', async () => {
    await expect(appendMessages(t.db, randomUUID(), [msg('x')])).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(listMessages(t.db, randomUUID(), { after: 0, limit: 5 })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    const task = await queuedTask(t.db);
    await expect(appendMessages(t.db, task.taskId, [])).rejects.toBeInstanceOf(ValidationError);
    await expect(listMessages(t.db, task.taskId, { after: -1, limit: 5 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(
      appendMessages(t.db, task.taskId, [{ ...msg('bad ts'), ts: 'yesterday-ish' }]),
    ).rejects.toBeInstanceOf(ValidationError);
    expect((await getTask(t.db, task.taskId)).messageCount).toBe(0);
  });

  // The HTTP and SQS edges refuse NUL first (shared/input.ts); a path that reaches SQL without
  // them still gets a 400, from the SQLSTATE: 22021 in text, 22P05 in jsonb.
  it('refuses NUL that reached the database with a 400, appending nothing', async () => {
    const task = await queuedTask(t.db);
    for (const batch of [[msg('a\u0000b')], [msg('ok'), msg('x', { extra: { k: 'v\u0000' } })]]) {
      await expect(appendMessages(t.db, task.taskId, batch)).rejects.toMatchObject({
        status: 400,
        message: 'a value holds a character the database cannot store',
      });
    }
    expect((await getTask(t.db, task.taskId)).messageCount).toBe(0);
  });

  it('bounds a message as the answer carries it: control characters and quotes count escaped', async () => {
    const task = await queuedTask(t.db);
    // 20,000 bytes stored, 120,002 as JSON text; 40,000 quotes, 80,002; extra of 25,000
    // quotes, 50,000 bytes as jsonb text and 100,000 escaped once more.
    for (const batch of [
      [msg(controlChars(20_000))],
      [msg('"'.repeat(40_000))],
      [msg('fits'), msg('m', { extra: { q: '"'.repeat(25_000) } })],
    ]) {
      await expect(appendMessages(t.db, task.taskId, batch)).rejects.toBeInstanceOf(
        PayloadTooLargeError,
      );
    }
    expect((await getTask(t.db, task.taskId)).messageCount).toBe(0);
    // 10,000 control characters: 60,002 bytes as JSON text, within the bound (63,488).
    await appendMessages(t.db, task.taskId, [msg(controlChars(10_000))]);
    expect((await getTask(t.db, task.taskId)).messages[0]?.message).toBe(controlChars(10_000));
    // The bound's function, the reads' written-out body and the API's count agree.
    const samples = [
      msg('a "quoted" \\ line\nwith\ttabs\u0001 and é ✓ 𝄞'),
      msg('m', { extra: { q: 'x"y', n: [1, 2.5, null, true], deep: { 'k"': '\u001f' } } }),
    ];
    await appendMessages(t.db, task.taskId, samples);
    const rows = await t.db.query(
      statement(
        { fn: 'int', inline: 'int' },
        sql`select message_answer_bytes(r.message, r.context, r.context_type, r.extra) as fn,
  ${messageAnswerBytesSql(sql`r`)} as inline
from result_message r where r.task_id = ${task.taskId}::uuid and r.sequence > 1 order by r.sequence`,
      ),
    );
    expect(rows).toEqual(
      samples.map((m) => ({ fn: messageAnswerBytes(m), inline: messageAnswerBytes(m) })),
    );
  });
});
