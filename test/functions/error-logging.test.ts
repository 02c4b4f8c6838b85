import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { p, sql, statement } from '#shared/db/sql.ts';
import { errorForLog } from '#shared/error-log.ts';
import { errorToResponse } from '#shared/http/errors.ts';
import { openTestDb, TEST_DRIVERS, type TestDb } from '#test/support/test-db.ts';

const SECRET = 'hunter2-in-a-request';

/** Every string reachable from an error (own fields, cause chain), as a driver produced it. */
function everything(value: unknown, seen = new Set<unknown>()): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object' || seen.has(value)) return '';
  seen.add(value);
  return Object.getOwnPropertyNames(value)
    .map((name) => everything((value as Record<string, unknown>)[name], seen))
    .join(' ');
}

/** What a real Powertools logger writes (to stdout or stderr) while `work` runs. */
function captureOutput<T>(work: (logger: Logger) => T): { value: T; text: string } {
  const logger = new Logger({ serviceName: 'test', logLevel: 'INFO' });
  const chunks: string[] = [];
  const out = process.stdout.write;
  const err = process.stderr.write;
  const grab = ((chunk: unknown) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = grab;
  process.stderr.write = grab;
  try {
    return { value: work(logger), text: chunks.join('') };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

describe.each(TEST_DRIVERS)('driver errors in logs on %s', (driver) => {
  let testDb: TestDb;
  beforeAll(async () => {
    testDb = await openTestDb(driver);
  });
  afterAll(async () => {
    await testDb?.close();
  });

  const failing = async (fragment: ReturnType<typeof sql>): Promise<unknown> => {
    try {
      await testDb.db.query(statement({ x: 'text?' }, fragment));
    } catch (error) {
      return error;
    }
    throw new Error('the statement was expected to fail');
  };

  it('log the SQLSTATE and constraint, never the detail, where or message that quote values', async () => {
    const errors = [
      // The message quotes the value it could not cast.
      await failing(sql`select ((${p.json({ a: SECRET })}::jsonb)->>'a')::int::text as x`),
      // `where` quotes the JSON text, `detail` explains the escape.
      await failing(sql`select (${`{"token":"${SECRET}","x":"\\u0000"}`}::text::jsonb)::text as x`),
      // A unique violation: `detail` names the duplicate key's value.
      await failing(
        sql`insert into applied_event (event_key) values (${SECRET}::text), (${SECRET}::text) returning event_key as x`,
      ),
    ];
    for (const error of errors) {
      // The driver's error does carry the value somewhere: the test would see a leak.
      expect(everything(error)).toContain(SECRET);
      const { value: answer, text } = captureOutput((logger) =>
        errorToResponse(error, 'req-1', logger),
      );
      expect(answer.status).toBe(500);
      expect(JSON.stringify(answer.body)).not.toContain(SECRET);
      expect(text).toContain('unexpected error');
      expect(text).not.toContain(SECRET);
      expect(text).toMatch(/"code":"(22P02|22P05|23505)"/);
    }
    const unique = errorForLog(errors[2]);
    expect(unique).toMatchObject({ code: '23505', constraint: 'applied_event_pkey' });
  });
});
