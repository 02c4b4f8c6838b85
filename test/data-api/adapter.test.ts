import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createDataApiClient,
  createDataApiDb,
  type DataApiClient,
  DataApiRequestError,
  DataApiResponseTooLargeError,
  type DataApiRetryOptions,
  DataApiStatementTimeoutError,
  DataApiTransactionNotFoundError,
} from '#shared/db/data-api.ts';
import { parseDatabaseError } from '#shared/db/data-api-errors.ts';
import { toDataApiTimestamp, toNamedPlaceholders } from '#shared/db/data-api-sql.ts';
import { migrate } from '#shared/db/migrate.ts';
import { migrations } from '#shared/db/migrations.generated.ts';
import { createPgDb } from '#shared/db/pg.ts';
import { type Db, DbUnavailableError, SqlError, type TransactionalDb } from '#shared/db/port.ts';
import { p, type Statement, sql, statement } from '#shared/db/sql.ts';
import {
  type DataApiEmulator,
  EMULATOR_SIGNING,
  type EmulatedDatabase,
  emulatedDatabase,
  startDataApiEmulator,
  TEST_SECRET_ARN,
  testClusterArn,
} from '#test/support/data-api-emulator/index.ts';
import { adminQuery, SKIP_SERVER, urlWithSchema } from '#test/support/pg-server.ts';
import { recordingClock } from '#test/support/retry-clock.ts';
import { openTestDb } from '#test/support/test-db.ts';

describe('$n → :pN rewriting', () => {
  it('rewrites placeholders only outside literals, identifiers, comments and dollar quotes', () => {
    const text = `select $1::uuid, '$2', E'\\'$3', "$4", $$ $5 $$, $tag$ $6 $tag$, -- $7
      /* $8 /* $9 */ */ $10::jsonb, x$11, $12`;
    const out = toNamedPlaceholders(text);
    expect(out.text).toBe(`select :p1::uuid, '$2', E'\\'$3', "$4", $$ $5 $$, $tag$ $6 $tag$, -- $7
      /* $8 /* $9 */ */ :p10::jsonb, x$11, :p12`);
    expect([...out.used]).toEqual([1, 10, 12]);
  });
});

describe('DatabaseErrorException messages', () => {
  it('yield the first line, the SQLSTATE and the constraint', () => {
    expect(
      parseDatabaseError(
        'ERROR: duplicate key value violates unique constraint "tasks_request_key_key"\n  Detail: Key (request_key)=(k) already exists.; SQLState: 23505',
      ),
    ).toEqual({
      message: 'duplicate key value violates unique constraint "tasks_request_key_key"',
      sqlState: '23505',
      constraint: 'tasks_request_key_key',
    });
    expect(parseDatabaseError('Transaction is still running a query')).toEqual({
      message: 'Transaction is still running a query',
      sqlState: undefined,
      constraint: undefined,
    });
  });
});

describe('TIMESTAMP hint values', () => {
  it('are UTC, with a space, no offset and microseconds', () => {
    expect(toDataApiTimestamp('2026-11-24T21:30:00.123456+01:00')).toBe(
      '2026-11-24 20:30:00.123456',
    );
    expect(toDataApiTimestamp(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)).toISOString())).toBe(
      '2026-01-02 03:04:05.006000',
    );
    expect(() => toDataApiTimestamp('yesterday')).toThrow(/not a timestamp/);
  });
});

const schema = `t_${randomBytes(6).toString('hex')}`;
const FAST_RETRY: DataApiRetryOptions = {
  baseDelayMs: 5,
  maxDelayMs: 40,
  budgetMs: 2_000,
  marginMs: 0,
};

describe.skipIf(SKIP_SERVER)('the data-api adapter through the emulator', () => {
  let dataApi: EmulatedDatabase;
  let emulator: DataApiEmulator;
  let ARN: string;
  let db: TransactionalDb;
  let pgDb: TransactionalDb;
  const open = (
    options: {
      retry?: DataApiRetryOptions;
      remainingTimeMs?: () => number;
      endpoint?: string;
      resourceArn?: string;
    } = {},
  ) =>
    createDataApiDb(
      dataApi.adapterOptions({
        retry: options.retry ?? FAST_RETRY,
        ...(options.resourceArn ? { resourceArn: options.resourceArn } : {}),
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.remainingTimeMs ? { remainingTimeMs: options.remainingTimeMs } : {}),
      }),
    );

  beforeAll(async () => {
    await adminQuery(`create schema ${schema}`);
    dataApi = await emulatedDatabase(schema, {
      limits: { transactionIdleMs: 300, statementTimeoutMs: 500, maxResponseBytes: 32 * 1024 },
    });
    emulator = dataApi.emulator;
    ARN = dataApi.resourceArn;
    db = open();
    // Same schema through node-postgres, in a non-UTC zone: the results must not differ.
    pgDb = createPgDb({
      connectionString: urlWithSchema(schema, { TimeZone: 'America/St_Johns' }),
    });
    await migrate(db, migrations);
    await adminQuery(`create table ${schema}.kv (k text primary key, v jsonb not null, n int check (n >= 0),
      parent text references ${schema}.kv (k))`);
  });

  afterAll(async () => {
    await db?.close();
    await pgDb?.close();
    await dataApi?.close();
    await adminQuery(`drop schema if exists ${schema} cascade`);
  });

  beforeEach(() => {
    emulator.clearFaults();
    emulator.resetCalls();
  });

  it('ran the migrations through BeginTransaction / ExecuteStatement / CommitTransaction', async () => {
    const [row] = await db.query(
      statement({ n: 'int' }, sql`select count(*) as n from schema_migrations`),
    );
    expect(row?.n).toBe(migrations.length);
    expect(emulator.openTransactions()).toBe(0);
  });

  it('decodes every parameter and column kind exactly as the pg adapter does', async () => {
    const id = randomUUID();
    const probe = statement(
      {
        u: 'uuid',
        t: 'text',
        i: 'int',
        big: 'int',
        f: 'float',
        b: 'bool',
        j: 'json',
        ts: 'timestamptz',
        now: 'timestamptz',
        nothing: 'uuid?',
        arr: 'json',
        num: 'float',
      },
      sql`select ${p.uuid(id)}::uuid as u, ${"it's $1 ':x'"}::text as t, ${42}::int as i,
        ${2 ** 40}::bigint as big, ${1.25}::float8 as f, ${true}::bool as b,
        ${p.json({ a: [1, 'two', null], b: { c: true } })}::jsonb as j,
        ${p.timestamptz('2026-11-24T21:30:00.123456+01:00')}::timestamptz as ts,
        '2026-01-01 00:00:00.5+00'::timestamptz as now, ${p.uuid(null)}::uuid as nothing,
        to_jsonb(array[1, 2]) as arr, 19.99::numeric as num`,
    );
    const [viaDataApi] = await db.query(probe);
    const [viaPg] = await pgDb.query(probe);
    expect(viaDataApi).toEqual(viaPg);
    expect(viaDataApi).toEqual({
      u: id,
      t: "it's $1 ':x'",
      i: 42,
      big: 2 ** 40,
      f: 1.25,
      b: true,
      j: { a: [1, 'two', null], b: { c: true } },
      ts: '2026-11-24T20:30:00.123456Z',
      now: '2026-01-01T00:00:00.500000Z',
      nothing: null,
      arr: [1, 2],
      num: 19.99,
    });
  });

  it('sends named, type-hinted parameters and asks for neither metadata nor JSON records', async () => {
    const inputs: Record<string, unknown>[] = [];
    const real = createDataApiClient({
      endpoint: emulator.endpoint,
      ...EMULATOR_SIGNING,
    });
    const client: DataApiClient = {
      ...real,
      executeStatement(input, callOptions) {
        inputs.push({ ...input });
        return real.executeStatement(input, callOptions);
      },
    };
    const spied = createDataApiDb(dataApi.adapterOptions({ client }));
    await spied.query(
      statement(
        { ok: 'bool' },
        sql`select ${p.uuid(randomUUID())}::uuid is not null and ${p.json([1, 2])}::jsonb is not null
          and ${p.timestamptz(new Date(0))}::timestamptz is not null and ${'x'} = 'x' and ${3} = 3
          and ${0.5} = 0.5 and ${false} = false and ${p.text(null)}::text is null as ok`,
      ),
    );
    await spied.close();
    const [input] = inputs;
    expect(input).not.toHaveProperty('includeResultMetadata');
    expect(input).not.toHaveProperty('formatRecordsAs');
    expect(input?.sql).toMatch(/^select :p1::uuid is not null and :p2::jsonb/);
    expect(input?.parameters).toEqual([
      { name: 'p1', value: { stringValue: expect.any(String) }, typeHint: 'UUID' },
      { name: 'p2', value: { stringValue: '[1,2]' }, typeHint: 'JSON' },
      { name: 'p3', value: { stringValue: '1970-01-01 00:00:00.000000' }, typeHint: 'TIMESTAMP' },
      { name: 'p4', value: { stringValue: 'x' } },
      { name: 'p5', value: { longValue: 3 } },
      { name: 'p6', value: { doubleValue: 0.5 } },
      { name: 'p7', value: { booleanValue: false } },
      { name: 'p8', value: { isNull: true } },
    ]);
  });

  it('maps SQL errors to SqlError exactly as the pg adapter does', async () => {
    await db.query(statement({}, sql`insert into kv (k, v) values ('a', '{}')`));
    const failures: Statement[] = [
      statement({}, sql`insert into kv (k, v) values (${'a'}, ${p.json({})}::jsonb)`),
      statement({}, sql`insert into kv (k, v, n) values (${'b'}, '{}', ${-1})`),
      statement({}, sql`insert into kv (k, v, parent) values (${'c'}, '{}', ${'nope'})`),
      statement({}, sql`insert into kv (k, v) values (${'d'}, ${p.json(null)}::jsonb)`),
      statement({}, sql`select ${'not-a-uuid'}::uuid`),
      statement({}, sql`select 1 / ${0}::int`),
    ];
    const describeError = async (target: Db, s: Statement) => {
      try {
        await target.query(s);
      } catch (error) {
        const e = error as SqlError;
        return {
          cls: e instanceof SqlError,
          sqlState: e.sqlState,
          constraint: e.constraint,
          message: e.message,
        };
      }
      return undefined;
    };
    for (const s of failures) {
      const viaDataApi = await describeError(db, s);
      expect(viaDataApi?.cls).toBe(true);
      expect(viaDataApi).toEqual(await describeError(pgDb, s));
    }
    expect((await describeError(db, failures[0] as Statement))?.constraint).toBe('kv_pkey');
    expect((await describeError(db, failures[1] as Statement))?.constraint).toBe('kv_n_check');
  });

  describe('transactions', () => {
    const countKeys = async (prefix: string) =>
      (
        await db.query(
          statement({ n: 'int' }, sql`select count(*) as n from kv where k like ${`${prefix}%`}`),
        )
      )[0]?.n;

    it('commit once the work resolves, with concurrent queries of the work serialised', async () => {
      const value = await db.transaction(async (tx) => {
        await Promise.all(
          Array.from({ length: 5 }, (_, i) =>
            tx.query(statement({}, sql`insert into kv (k, v) values (${`tx-ok-${i}`}, '{}')`)),
          ),
        );
        return 'done';
      });
      expect(value).toBe('done');
      expect(await countKeys('tx-ok-')).toBe(5);
      expect(emulator.calls(ARN)).toMatchObject({
        BeginTransaction: 1,
        ExecuteStatement: 6,
        CommitTransaction: 1,
        RollbackTransaction: 0,
      });
    });

    it('a failing statement rolls the transaction back and leaves none open', async () => {
      const attempt = db.transaction(async (tx) => {
        await tx.query(statement({}, sql`insert into kv (k, v) values ('tx-bad-1', '{}')`));
        await tx.query(statement({}, sql`insert into kv (k, v, n) values ('tx-bad-2', '{}', -5)`));
      });
      await expect(attempt).rejects.toMatchObject({ name: 'SqlError', sqlState: '23514' });
      expect(emulator.openTransactions()).toBe(0);
      expect(await countKeys('tx-bad-')).toBe(0);
      expect(emulator.calls(ARN)).toMatchObject({
        BeginTransaction: 1,
        CommitTransaction: 0,
        RollbackTransaction: 1,
      });
    });

    it('work that throws rolls back too', async () => {
      await expect(
        db.transaction(async (tx) => {
          await tx.query(statement({}, sql`insert into kv (k, v) values ('tx-throw', '{}')`));
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      expect(emulator.openTransactions()).toBe(0);
      expect(await countKeys('tx-throw')).toBe(0);
    });

    it('an expired transaction surfaces as DataApiTransactionNotFoundError', async () => {
      const attempt = db.transaction(async (tx) => {
        await tx.query(statement({}, sql`insert into kv (k, v) values ('tx-idle', '{}')`));
        await new Promise((resolve) => setTimeout(resolve, 600));
        await tx.query(statement({}, sql`select 1`));
      });
      await expect(attempt).rejects.toBeInstanceOf(DataApiTransactionNotFoundError);
      expect(emulator.openTransactions()).toBe(0);
      expect(await countKeys('tx-idle')).toBe(0);
    });
  });

  describe('retries', () => {
    const one = statement({ n: 'int' }, sql`select 1 as n`);

    it('waits out a resuming cluster within the budget', async () => {
      emulator.injectFaults({ resumingCalls: 3 });
      expect(await db.query(one)).toEqual([{ n: 1 }]);
      expect(emulator.calls(ARN).ExecuteStatement).toBe(4);
    });

    it('waits out 503 and 504 answers within the budget, transactions included', async () => {
      emulator.injectFaults({ unavailableCalls: 2, unavailableStatus: 503 });
      expect(await db.query(one)).toEqual([{ n: 1 }]);
      emulator.injectFaults({ unavailableCalls: 2, unavailableStatus: 504 });
      expect(await db.transaction((tx) => tx.query(one))).toEqual([{ n: 1 }]);
      expect(emulator.calls(ARN)).toMatchObject({
        ExecuteStatement: 4,
        BeginTransaction: 3,
        CommitTransaction: 1,
      });
    });

    it('gives up with DbUnavailableError once the budget is spent, never waiting past it', async () => {
      emulator.injectFaults({ resumingForMs: 10_000 });
      const clock = recordingClock();
      const bounded = open({
        retry: {
          budgetMs: 2_000,
          baseDelayMs: 100,
          maxDelayMs: 400,
          marginMs: 0,
          clock,
          random: () => 0.5,
        },
      });
      const error = await bounded.query(one).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DbUnavailableError);
      // Equal jitter at its midpoint: three quarters of 100, 200, 400, 400 … ms; the eighth wait
      // (300 ms after 1,725) would pass the 2 s budget, so the call ends after eight attempts.
      expect(clock.sleeps).toEqual([75, 150, 300, 300, 300, 300, 300]);
      expect(emulator.calls(ARN).ExecuteStatement).toBe(8);
      expect((error as Error).message).toMatch(
        /DatabaseResumingException for 1725 ms over 8 attempts \(retry budget spent\)/,
      );
      await bounded.close();
    });

    it('never waits past the caller’s remaining time less the margin', async () => {
      emulator.injectFaults({ resumingForMs: 10_000 });
      const clock = recordingClock();
      const bounded = open({
        retry: {
          budgetMs: 40_000,
          baseDelayMs: 20,
          maxDelayMs: 100,
          marginMs: 29_800,
          clock,
          random: () => 1,
        },
        remainingTimeMs: () => 30_000 - clock.now(),
      });
      const error = await bounded.query(one).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DbUnavailableError);
      // 200 ms to wait in (30 s left, 29.8 s kept): 20 + 40 + 80, and the next 100 would pass it.
      // (Each call's own timeout is the remaining time less 1 s, in real time: ample here.)
      expect(clock.sleeps).toEqual([20, 40, 80]);
      expect(emulator.calls(ARN).ExecuteStatement).toBe(4);
      await bounded.close();
    });

    it('does not repeat a statement the database refused', async () => {
      await expect(db.query(statement({}, sql`select 1/0`))).rejects.toBeInstanceOf(SqlError);
      expect(emulator.calls(ARN).ExecuteStatement).toBe(1);
    });

    it('gives up at the client timeout without resending a statement that may have run', async () => {
      const client = createDataApiClient({
        endpoint: emulator.endpoint,
        ...EMULATOR_SIGNING,
        requestTimeoutMs: 150,
      });
      const impatient = createDataApiDb(dataApi.adapterOptions({ client, retry: FAST_RETRY }));
      const error = await impatient
        .query(
          statement({}, sql`insert into kv (k, v) select 'slow-insert', '{}' from pg_sleep(0.4)`),
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DbUnavailableError);
      expect((error as Error).message).toMatch(/may or may not have run/);
      expect(emulator.calls(ARN).ExecuteStatement).toBe(1);
      // It did run: exactly why it must not be sent again blindly.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const [row] = await db.query(
        statement({ n: 'int' }, sql`select count(*) as n from kv where k = 'slow-insert'`),
      );
      expect(row?.n).toBe(1);
    });

    it('reports an unreachable endpoint as DbUnavailableError', async () => {
      const gone = await startDataApiEmulator();
      const endpoint = gone.endpoint;
      await gone.close();
      const unreachable = open({ endpoint, retry: { ...FAST_RETRY, budgetMs: 200 } });
      await expect(unreachable.query(one)).rejects.toBeInstanceOf(DbUnavailableError);
      await unreachable.close();
    });
  });

  it('types the statement timeout, the size limits and refusals, without echoing the secret', async () => {
    await expect(db.query(statement({}, sql`select pg_sleep(3)`))).rejects.toBeInstanceOf(
      DataApiStatementTimeoutError,
    );
    await expect(
      db.query(
        statement({ x: 'text' }, sql`select repeat('x', 1000) as x from generate_series(1, 100)`),
      ),
    ).rejects.toBeInstanceOf(DataApiResponseTooLargeError);
    const unknown = open({ resourceArn: testClusterArn('no-such-cluster') });
    const refused = await unknown.query(one()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DataApiRequestError);
    expect((refused as DataApiRequestError).awsErrorName).toBe('BadRequestException');
    expect((refused as Error).message).not.toContain(TEST_SECRET_ARN);
    await unknown.close();

    function one() {
      return statement({ n: 'int' }, sql`select 1 as n`);
    }
  });
});

describe.skipIf(SKIP_SERVER)('migrations through the Data API', () => {
  it('four runners starting at once apply each migration exactly once, leaving no transaction open', async () => {
    const t = await openTestDb('data-api', { migrate: false });
    try {
      const runners = Array.from({ length: 4 }, () => t.connect());
      const results = await Promise.all(runners.map((runner) => migrate(runner, migrations)));
      expect(results.reduce((n, r) => n + r.applied.length, 0)).toBe(migrations.length);
      const calls = t.dataApiCalls?.();
      // Every transaction that began was committed (the runners lost no race by erroring).
      expect(calls?.BeginTransaction).toBe(calls?.CommitTransaction);
      expect(calls?.RollbackTransaction).toBe(0);
      const [row] = await t.db.query(
        statement({ n: 'int' }, sql`select count(*) as n from schema_migrations`),
      );
      expect(row?.n).toBe(migrations.length);
    } finally {
      await t.close();
    }
  });
});
