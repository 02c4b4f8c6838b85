import { randomBytes } from 'node:crypto';
import {
  BatchExecuteStatementCommand,
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteSqlCommand,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
  RDSDataClient,
  RollbackTransactionCommand,
} from '@aws-sdk/client-rds-data';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type DataApiEmulator,
  EMULATOR_SIGNING,
  type ManualClock,
  manualClock,
  startDataApiEmulator,
  TEST_SECRET_ARN,
  testClusterArn,
} from '#test/support/data-api-emulator/index.ts';
import {
  adminQuery,
  SKIP_SERVER,
  TEST_DATABASE_URL,
  urlWithSchema,
} from '#test/support/pg-server.ts';

/**
 * The emulator's quirks, each checked through the real RDSDataClient: these are the behaviours
 * that make code pass against plain Postgres and fail on Aurora, so they must fail here too.
 */

const schema = `t_${randomBytes(6).toString('hex')}`;
const ARN = testClusterArn(`emu-${schema}`);
const ARN_KOLKATA = testClusterArn(`emu-kolkata-${schema}`);
const ARN_OFF = testClusterArn(`emu-off-${schema}`);

let emulator: DataApiEmulator;
let client: RDSDataClient;
/** The emulator's time: idle limits, call timeouts and fault windows pass when a test moves it. */
const clock: ManualClock = manualClock();

/** Resolves once the emulator is running `n` statements (one a test just sent has arrived). */
const statementsRunning = (n: number) =>
  vi.waitFor(() => expect(emulator.runningStatements()).toBe(n));

/**
 * An advisory lock held by a session of the test's own: a statement that takes it (`waitSql`)
 * runs until the test releases it, however slow the machine.
 */
async function holdLock() {
  const key = Math.floor(Math.random() * 2 ** 31);
  const holder = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await holder.connect();
  await holder.query('select pg_advisory_lock($1)', [key]);
  return {
    waitSql: `pg_advisory_xact_lock(${key})`,
    async release() {
      await holder.end();
    },
  };
}

function newClient(endpoint?: string): RDSDataClient {
  return new RDSDataClient({
    ...EMULATOR_SIGNING,
    maxAttempts: 1,
    ...(endpoint ? { endpoint } : {}),
  });
}

const execute = (
  input: Omit<ExecuteStatementCommandInput, 'resourceArn' | 'secretArn'>,
  arn = ARN,
) =>
  client.send(
    new ExecuteStatementCommand({
      resourceArn: arn,
      secretArn: TEST_SECRET_ARN,
      database: 'test',
      ...input,
    }),
  );

/** The rejection of a promise, for asserting on name, status and message together. */
async function failure(
  promise: Promise<unknown>,
): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('expected the call to fail');
}

describe.skipIf(SKIP_SERVER)('Data API emulator, through the real SDK client', () => {
  beforeAll(async () => {
    await adminQuery(`create schema ${schema}`);
    await adminQuery(`create table ${schema}.things (
      id uuid primary key, name text not null, doc jsonb, price numeric(10,2), n bigint,
      at timestamptz, blob bytea, tags text[], ok boolean, ratio float8)`);
    emulator = await startDataApiEmulator({
      clusters: {
        [ARN]: { connectionString: urlWithSchema(schema) },
        [ARN_KOLKATA]: { connectionString: urlWithSchema(schema, { TimeZone: 'Asia/Kolkata' }) },
        [ARN_OFF]: { connectionString: urlWithSchema(schema), httpEndpointEnabled: false },
      },
      secrets: { [TEST_SECRET_ARN]: { username: 'postgres' } },
      transactionIdleMs: 300,
      statementTimeoutMs: 400,
      clock,
      maxResponseBytes: 64 * 1024,
      maxRowBytes: 8 * 1024,
    });
    client = newClient(emulator.endpoint);
  });

  afterAll(async () => {
    client?.destroy();
    await emulator?.close();
    await adminQuery(`drop schema if exists ${schema} cascade`);
  });

  it('answers through AWS_ENDPOINT_URL_RDS_DATA with dummy credentials', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_RDS_DATA', emulator.endpoint);
    const viaEnv = newClient();
    try {
      const out = await viaEnv.send(
        new ExecuteStatementCommand({
          resourceArn: ARN,
          secretArn: TEST_SECRET_ARN,
          sql: 'select 1 as one',
        }),
      );
      expect(out.records).toEqual([[{ longValue: 1 }]]);
    } finally {
      viaEnv.destroy();
      vi.unstubAllEnvs();
    }
  });

  it('binds an untyped stringValue as varchar, so uuid and jsonb need a hint or a cast', async () => {
    const id = '6f1c1e0e-6a0e-4c55-9a53-0d6f6f7b2c11';
    const insertUntyped = await failure(
      execute({
        sql: 'insert into things (id, name) values (:id, :name)',
        parameters: [
          { name: 'id', value: { stringValue: id } },
          { name: 'name', value: { stringValue: 'a' } },
        ],
      }),
    );
    expect(insertUntyped.name).toBe('DatabaseErrorException');
    expect(insertUntyped.status).toBe(400);
    expect(insertUntyped.message).toMatch(
      /column "id" is of type uuid but expression is of type character varying[\s\S]*; SQLState: 42804$/,
    );

    await execute({
      sql: 'insert into things (id, name, doc) values (:id, :name, :doc)',
      parameters: [
        { name: 'id', value: { stringValue: id }, typeHint: 'UUID' },
        { name: 'name', value: { stringValue: 'a' } },
        { name: 'doc', value: { stringValue: '{"k":[1,2]}' }, typeHint: 'JSON' },
      ],
    });

    const compare = await failure(
      execute({
        sql: 'select name from things where id = :id',
        parameters: [{ name: 'id', value: { stringValue: id } }],
      }),
    );
    expect(compare.message).toMatch(
      /operator does not exist: uuid = character varying[\s\S]*SQLState: 42883$/,
    );

    const hinted = await execute({
      sql: 'select name from things where id = :id',
      parameters: [{ name: 'id', value: { stringValue: id }, typeHint: 'UUID' }],
    });
    const cast = await execute({
      sql: 'select name from things where id = :id::uuid',
      parameters: [{ name: 'id', value: { stringValue: id } }],
    });
    expect(hinted.records).toEqual([[{ stringValue: 'a' }]]);
    expect(cast.records).toEqual(hinted.records);

    const jsonCompare = await failure(
      execute({
        sql: 'select name from things where doc = :doc',
        parameters: [{ name: 'doc', value: { stringValue: '{"k":[1,2]}' } }],
      }),
    );
    expect(jsonCompare.message).toMatch(/jsonb = character varying/);
  });

  it('refuses array parameters, malformed hinted values and missing parameters', async () => {
    const array = await failure(
      execute({
        sql: 'select :a',
        parameters: [{ name: 'a', value: { arrayValue: { longValues: [1, 2] } } }],
      }),
    );
    expect(array).toMatchObject({ name: 'BadRequestException', status: 400 });
    expect(array.message).toMatch(/Array parameters are not supported/);

    const isoWithT = await failure(
      execute({
        sql: 'select :t::timestamptz',
        parameters: [
          { name: 't', value: { stringValue: '2026-01-01T10:00:00Z' }, typeHint: 'TIMESTAMP' },
        ],
      }),
    );
    expect(isoWithT.name).toBe('BadRequestException');

    const missing = await failure(
      execute({
        sql: 'select :a::text, :b::text',
        parameters: [{ name: 'a', value: { stringValue: 'x' } }],
      }),
    );
    expect(missing).toMatchObject({ name: 'BadRequestException', status: 400 });
    expect(missing.message).toMatch(/\bb\b/);
  });

  it('rejects several statements in one call', async () => {
    // Twice: a statement the server refused to parse must not be remembered as prepared.
    for (let i = 0; i < 2; i += 1) {
      const multi = await failure(execute({ sql: 'select 1; select 2' }));
      expect(multi.name).toBe('DatabaseErrorException');
      expect(multi.message).toMatch(
        /cannot insert multiple commands into a prepared statement[\s\S]*SQLState: 42601$/,
      );
    }
  });

  it('reads :names outside literals, identifiers, comments, dollar quotes and casts only', async () => {
    const out = await execute({
      sql: `select ':x' as a, 'lit' as ":y", $$ :z $$ as c, :v::text as d, /* :w */ :v || 'x' as e -- :q
            `,
      parameters: [{ name: 'v', value: { stringValue: 'V' } }],
    });
    expect(out.records).toEqual([
      [
        { stringValue: ':x' },
        { stringValue: 'lit' },
        { stringValue: ' :z ' },
        { stringValue: 'V' },
        { stringValue: 'Vx' },
      ],
    ]);
  });

  it('encodes results as Aurora does: UTC timestamps, numeric as text, bytea base64, arrays', async () => {
    const sql = `select '2026-11-24 21:30:00.123456+01'::timestamptz as at,
        '2026-11-24 21:30:00'::timestamp as local, '2026-11-24'::date as day,
        19.99::numeric(10,2) as price, 9007199254740993::int8 as big, 42::int4 as small,
        true as yes, 1.5::float8 as ratio, '\\x0102ff'::bytea as blob, null::text as nothing,
        array[1,2,null]::int[] as ints, array['a','b c']::text[] as texts,
        array[[1,2],[3,4]]::int[] as grid, '6f1c1e0e-6a0e-4c55-9a53-0d6f6f7b2c11'::uuid as id,
        '{"a": 1}'::jsonb as doc`;
    for (const arn of [ARN, ARN_KOLKATA]) {
      const out = await execute({ sql }, arn);
      expect(out.records?.[0]).toEqual([
        { stringValue: '2026-11-24 20:30:00.123456' },
        { stringValue: '2026-11-24 21:30:00' },
        { stringValue: '2026-11-24' },
        { stringValue: '19.99' },
        { longValue: 9007199254740992 },
        { longValue: 42 },
        { booleanValue: true },
        { doubleValue: 1.5 },
        { blobValue: Uint8Array.from([1, 2, 255]) },
        { isNull: true },
        { arrayValue: { longValues: [1, 2, null] } },
        { arrayValue: { stringValues: ['a', 'b c'] } },
        { arrayValue: { arrayValues: [{ longValues: [1, 2] }, { longValues: [3, 4] }] } },
        { stringValue: '6f1c1e0e-6a0e-4c55-9a53-0d6f6f7b2c11' },
        { stringValue: '{"a": 1}' },
      ]);
      expect(out.columnMetadata).toBeUndefined();
      expect(out.numberOfRecordsUpdated).toBe(0);
    }
    const options = await execute({
      sql: 'select 9007199254740993::int8 as big, 19.99::numeric as price, 7::numeric as whole',
      resultSetOptions: { longReturnType: 'STRING', decimalReturnType: 'DOUBLE_OR_LONG' },
    });
    expect(options.records?.[0]).toEqual([
      { stringValue: '9007199254740993' },
      { doubleValue: 19.99 },
      { longValue: 7 },
    ]);
  });

  it('returns column metadata only when asked, and JSON records when asked', async () => {
    const plain = await execute({ sql: 'select id, name, price from things limit 1' });
    expect(plain.columnMetadata).toBeUndefined();
    const meta = await execute({
      sql: 'select id, name, price, 1::int2 as n from things limit 1',
      includeResultMetadata: true,
    });
    expect(
      meta.columnMetadata?.map((c) => [
        c.name,
        c.label,
        c.type,
        c.typeName,
        c.tableName,
        c.nullable,
      ]),
    ).toEqual([
      ['id', 'id', 1111, 'uuid', 'things', 0],
      ['name', 'name', 12, 'text', 'things', 0],
      ['price', 'price', 2, 'numeric', 'things', 1],
      ['n', 'n', 5, 'int2', '', 2],
    ]);
    expect(meta.columnMetadata?.[2]).toMatchObject({ precision: 10, scale: 2, isSigned: true });

    const json = await execute({
      sql: `select 1 as n, 2.50::numeric as d, true as b, null::text as z, array[1,2] as a,
            '2026-01-01 00:00:00+00'::timestamptz as t, '{"x":1}'::jsonb as j`,
      formatRecordsAs: 'JSON',
    });
    expect(json.records).toBeUndefined();
    expect(JSON.parse(json.formattedRecords ?? '')).toEqual([
      { n: 1, d: '2.50', b: true, z: null, a: [1, 2], t: '2026-01-01 00:00:00', j: '{"x": 1}' },
    ]);
    const duplicate = await failure(
      execute({ sql: 'select 1 as a, 2 as a', formatRecordsAs: 'JSON' }),
    );
    expect(duplicate.name).toBe('BadRequestException');
  });

  it('counts updated rows for DML and returns RETURNING rows as records', async () => {
    const insert = await execute({
      sql: `insert into things (id, name) select gen_random_uuid(), 'bulk' || g from generate_series(1, 3) g`,
    });
    expect(insert.numberOfRecordsUpdated).toBe(3);
    expect(insert.records).toBeUndefined();
    const returning = await execute({
      sql: `update things set ok = true where name like 'bulk%' returning name`,
    });
    expect(returning.records?.map((r) => r[0]?.stringValue).sort()).toEqual([
      'bulk1',
      'bulk2',
      'bulk3',
    ]);
  });

  /**
   * A Data API operation on the test cluster posted as raw JSON, past the SDK's own checks:
   * the status, the error type header and the body it answered.
   */
  const postRaw = async (operation: string, fields: object) => {
    const response = await fetch(`${emulator.endpoint}/${operation}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceArn: ARN, secretArn: TEST_SECRET_ARN, ...fields }),
    });
    return {
      status: response.status,
      errorType: response.headers.get('x-amzn-errortype'),
      body: await response.json(),
    };
  };

  it('answers errors with the modelled status, x-amzn-ErrorType and a JSON message', async () => {
    expect(await postRaw('Execute', { sql: 'select 1/0' })).toEqual({
      status: 400,
      errorType: 'DatabaseErrorException',
      body: { message: 'ERROR: division by zero; SQLState: 22012' },
    });
    expect(await postRaw('CommitTransaction', { transactionId: 'nope' })).toEqual({
      status: 404,
      errorType: 'TransactionNotFoundException',
      body: { message: 'Transaction nope is not found' },
    });
  });

  it('refuses a request body over 4 MiB', async () => {
    const big = { name: 'big', value: { stringValue: 'x'.repeat(4 * 1024 * 1024) } };
    expect(await postRaw('Execute', { sql: 'select :big::text', parameters: [big] })).toEqual({
      status: 400,
      errorType: 'BadRequestException',
      body: { message: expect.stringMatching(/Request size/) },
    });
  });

  it('refuses unknown clusters and secrets, and clusters without the HTTP endpoint', async () => {
    const cluster = await failure(execute({ sql: 'select 1' }, testClusterArn('nope')));
    expect(cluster).toMatchObject({ name: 'BadRequestException', status: 400 });
    const secret = await failure(
      client.send(
        new ExecuteStatementCommand({
          resourceArn: ARN,
          secretArn: `${TEST_SECRET_ARN}x`,
          sql: 'select 1',
        }),
      ),
    );
    expect(secret).toMatchObject({ name: 'SecretsErrorException', status: 400 });
    const off = await failure(execute({ sql: 'select 1' }, ARN_OFF));
    expect(off).toMatchObject({ name: 'HttpEndpointNotEnabledException', status: 400 });
    const v1 = await failure(
      client.send(
        new ExecuteSqlCommand({
          dbClusterOrInstanceArn: ARN,
          awsSecretStoreArn: TEST_SECRET_ARN,
          sqlStatements: 'select 1',
        }),
      ),
    );
    expect(v1.name).toBe('BadRequestException');
  });

  describe('transactions', () => {
    const begin = async () =>
      (
        await client.send(
          new BeginTransactionCommand({
            resourceArn: ARN,
            secretArn: TEST_SECRET_ARN,
            database: 'test',
          }),
        )
      ).transactionId as string;
    const commit = (transactionId: string) =>
      client.send(
        new CommitTransactionCommand({
          resourceArn: ARN,
          secretArn: TEST_SECRET_ARN,
          transactionId,
        }),
      );
    const rollback = (transactionId: string) =>
      client.send(
        new RollbackTransactionCommand({
          resourceArn: ARN,
          secretArn: TEST_SECRET_ARN,
          transactionId,
        }),
      );
    const countNamed = async (name: string) =>
      (
        await execute({
          sql: 'select count(*) from things where name = :n',
          parameters: [{ name: 'n', value: { stringValue: name } }],
        })
      ).records?.[0]?.[0]?.longValue;

    it('commit makes writes visible, rollback discards them, and the id is gone afterwards', async () => {
      const tx = await begin();
      await execute({
        sql: `insert into things (id, name) values (gen_random_uuid(), 'in-tx')`,
        transactionId: tx,
      });
      expect(await countNamed('in-tx')).toBe(0);
      const committed = await commit(tx);
      expect(committed.transactionStatus).toBe('Transaction Committed');
      expect(await countNamed('in-tx')).toBe(1);
      const again = await failure(execute({ sql: 'select 1', transactionId: tx }));
      expect(again).toMatchObject({ name: 'TransactionNotFoundException', status: 404 });

      const tx2 = await begin();
      await execute({
        sql: `insert into things (id, name) values (gen_random_uuid(), 'rolled')`,
        transactionId: tx2,
      });
      const rolled = await rollback(tx2);
      expect(rolled.transactionStatus).toBe('Rollback Complete');
      expect(await countNamed('rolled')).toBe(0);
      expect(emulator.openTransactions(ARN)).toBe(0);
    });

    it('refuses a second statement while one runs on the same transaction', async () => {
      const lock = await holdLock();
      const tx = await begin();
      const blocked = execute({ sql: `select ${lock.waitSql}`, transactionId: tx });
      await statementsRunning(1);
      const second = await failure(execute({ sql: 'select 1', transactionId: tx }));
      expect(second).toMatchObject({
        name: 'DatabaseErrorException',
        message: 'Transaction is still running a query',
      });
      await lock.release();
      await blocked;
      await rollback(tx);
    });

    it('rolls an idle transaction back after the idle limit; later use is TransactionNotFound', async () => {
      const tx = await begin();
      await execute({
        sql: `insert into things (id, name) values (gen_random_uuid(), 'idle')`,
        transactionId: tx,
      });
      clock.advance(299);
      expect(emulator.openTransactions(ARN)).toBe(1);
      clock.advance(1);
      expect(emulator.openTransactions(ARN)).toBe(0);
      const late = await failure(commit(tx));
      expect(late).toMatchObject({ name: 'TransactionNotFoundException', status: 404 });
      expect(await countNamed('idle')).toBe(0);
    });

    it('keeps Postgres semantics after an error: the transaction is aborted until rolled back', async () => {
      const tx = await begin();
      await failure(execute({ sql: 'select 1/0', transactionId: tx }));
      const next = await failure(execute({ sql: 'select 1', transactionId: tx }));
      expect(next.message).toMatch(/SQLState: 25P02$/);
      await rollback(tx);
    });
  });

  it('cancels a statement at the call limit with StatementTimeoutException', async () => {
    const answer = failure(execute({ sql: 'select pg_sleep(5)' }));
    await statementsRunning(1);
    clock.advance(400);
    const timedOut = await answer;
    expect(timedOut).toMatchObject({ name: 'StatementTimeoutException', status: 400 });
    // Cancelled, not left running: once the server has ended it, no backend is still sleeping.
    await emulator.settled();
    const running = await adminQuery(
      `select count(*)::int as n from pg_stat_activity where query = 'select pg_sleep(5)' and state = 'active'`,
    );
    expect(running.rows[0].n).toBe(0);
  });

  it('lets a statement finish after the timeout answer with continueAfterTimeout', async () => {
    const lock = await holdLock();
    const answer = failure(
      execute({
        sql: `insert into things (id, name) select gen_random_uuid(), 'late' from ${lock.waitSql}`,
        continueAfterTimeout: true,
      }),
    );
    await statementsRunning(1);
    clock.advance(400);
    const timedOut = await answer;
    expect(timedOut.name).toBe('StatementTimeoutException');
    await lock.release();
    await emulator.settled();
    const n = await execute({ sql: `select count(*) from things where name = 'late'` });
    expect(n.records?.[0]?.[0]?.longValue).toBe(1);
  });

  it('enforces the response and row size limits, and a too-large result ends its transaction', async () => {
    const response = await failure(
      execute({ sql: `select repeat('x', 1000) from generate_series(1, 100)` }),
    );
    expect(response).toMatchObject({ name: 'BadRequestException', status: 400 });
    expect(response.message).toMatch(/response size limit/);
    const row = await failure(execute({ sql: `select repeat('x', 9000)` }));
    expect(row.message).toMatch(/row size limit/);
    const formatted = await failure(
      execute({ sql: `select repeat('x', 9000) as "x"`, formatRecordsAs: 'JSON' }),
    );
    expect(formatted.message).toMatch(/row size limit/);
    const tx = (
      await client.send(
        new BeginTransactionCommand({ resourceArn: ARN, secretArn: TEST_SECRET_ARN }),
      )
    ).transactionId as string;
    await failure(execute({ sql: `select repeat('x', 9000)`, transactionId: tx }));
    const after = await failure(execute({ sql: 'select 1', transactionId: tx }));
    expect(after.name).toBe('TransactionNotFoundException');
  });

  it('runs a batch once per parameter set, all or nothing, with RETURNING in generatedFields', async () => {
    const out = await client.send(
      new BatchExecuteStatementCommand({
        resourceArn: ARN,
        secretArn: TEST_SECRET_ARN,
        sql: `insert into things (id, name) values (gen_random_uuid(), :name) returning name`,
        parameterSets: [
          [{ name: 'name', value: { stringValue: 'b1' } }],
          [{ name: 'name', value: { stringValue: 'b2' } }],
        ],
      }),
    );
    expect(out.updateResults?.map((r) => r.generatedFields)).toEqual([
      [{ stringValue: 'b1' }],
      [{ stringValue: 'b2' }],
    ]);
    const failing = await failure(
      client.send(
        new BatchExecuteStatementCommand({
          resourceArn: ARN,
          secretArn: TEST_SECRET_ARN,
          sql: `insert into things (id, name) values (gen_random_uuid(), :name)`,
          parameterSets: [
            [{ name: 'name', value: { stringValue: 'b3' } }],
            [{ name: 'name', value: { isNull: true } }],
          ],
        }),
      ),
    );
    expect(failing.message).toMatch(/SQLState: 23502$/);
    const n = await execute({ sql: `select count(*) from things where name = 'b3'` });
    expect(n.records?.[0]?.[0]?.longValue).toBe(0);
  });

  it('injects DatabaseResumingException and 503/504 answers, and counts every call', async () => {
    emulator.resetCalls(ARN);
    emulator.injectFaults({ resumingCalls: 2 });
    for (let i = 0; i < 2; i += 1) {
      const resuming = await failure(execute({ sql: 'select 1' }));
      expect(resuming).toMatchObject({ name: 'DatabaseResumingException', status: 400 });
      expect(resuming.message).toMatch(/is resuming after being auto-paused/);
    }
    await execute({ sql: 'select 1' });
    emulator.injectFaults({ unavailableCalls: 1, unavailableStatus: 503 });
    expect(await failure(execute({ sql: 'select 1' }))).toMatchObject({
      name: 'ServiceUnavailableError',
      status: 503,
    });
    emulator.injectFaults({ unavailableCalls: 1, unavailableStatus: 504 });
    expect(await failure(execute({ sql: 'select 1' }))).toMatchObject({
      name: 'DatabaseUnavailableException',
      status: 504,
    });
    emulator.injectFaults({ resumingForMs: 150 });
    expect((await failure(execute({ sql: 'select 1' }))).name).toBe('DatabaseResumingException');
    clock.advance(149);
    expect((await failure(execute({ sql: 'select 1' }))).name).toBe('DatabaseResumingException');
    clock.advance(1);
    await execute({ sql: 'select 1' });
    expect(emulator.calls(ARN)).toMatchObject({
      total: 8,
      ExecuteStatement: 8,
      BeginTransaction: 0,
    });
  });
});
