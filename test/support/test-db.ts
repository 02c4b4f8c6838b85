import { randomBytes } from 'node:crypto';
import { createDataApiDb } from '#shared/db/data-api.ts';
import { migrate } from '#shared/db/migrate.ts';
import { migrations } from '#shared/db/migrations.generated.ts';
import { createPgDb } from '#shared/db/pg.ts';
import { createPgliteDb } from '#shared/db/pglite.ts';
import type { TransactionalDb } from '#shared/db/port.ts';
import {
  acquireSharedEmulator,
  type CallCounts,
  releaseSharedEmulator,
  TEST_CREDENTIALS,
  TEST_REGION,
  TEST_SECRET_ARN,
  testClusterArn,
} from './data-api-emulator/index.ts';
import { adminQuery, SKIP_SERVER, urlWithSchema } from './pg-server.ts';

/** The drivers the store's contract suite runs on. */
export type TestDriver = 'pg' | 'pglite' | 'data-api';
export const TEST_DRIVERS: readonly TestDriver[] = SKIP_SERVER
  ? ['pglite']
  : ['pg', 'pglite', 'data-api'];

export interface TestDb {
  readonly db: TransactionalDb;
  readonly driver: TestDriver;
  /** The server schema this database lives in (pg only). */
  readonly schema: string | undefined;
  /** Opens another independent pool on the same schema (pg only): for races across pools. */
  connect(settings?: Readonly<Record<string, string>>, maxConnections?: number): TransactionalDb;
  /**
   * data-api only: Data API calls the emulator received for this database (every `connect`ed
   * adapter included) since it was opened or since `resetDataApiCalls`.
   */
  dataApiCalls?(): CallCounts;
  resetDataApiCalls?(): void;
  close(): Promise<void>;
}

/**
 * A freshly migrated database: a new schema on the server for `pg` (dropped on close), a new
 * in-memory instance for `pglite`.
 */
export async function openTestDb(
  driver: TestDriver,
  options: { migrate?: boolean } = {},
): Promise<TestDb> {
  const shouldMigrate = options.migrate ?? true;
  if (driver === 'pglite') {
    const db = await createPgliteDb();
    if (shouldMigrate) await migrate(db, migrations);
    return {
      db,
      driver,
      schema: undefined,
      connect: () => {
        throw new Error('PGlite has a single connection');
      },
      close: () => db.close(),
    };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create schema ${schema}`);
  if (driver === 'data-api') return openDataApiTestDb(schema, shouldMigrate);
  const pools: TransactionalDb[] = [];
  const connect = (settings: Readonly<Record<string, string>> = {}, maxConnections = 10) => {
    const db = createPgDb({ connectionString: urlWithSchema(schema, settings), maxConnections });
    pools.push(db);
    return db;
  };
  const db = connect();
  if (shouldMigrate) await migrate(db, migrations);
  return {
    db,
    driver,
    schema,
    connect,
    async close() {
      await Promise.all(pools.map((pool) => pool.close()));
      await adminQuery(`drop schema ${schema} cascade`);
    },
  };
}

/**
 * The `data-api` adapter through the local emulator (one per test process), with the real SDK
 * client, backed by a fresh schema on the server. Aurora sessions run in UTC unless the cluster's
 * parameter group says otherwise, so the default cluster does too; `connect(settings)` registers
 * another cluster ARN whose sessions carry those settings (a non-UTC TimeZone, say).
 */
async function openDataApiTestDb(schema: string, shouldMigrate: boolean): Promise<TestDb> {
  const emulator = await acquireSharedEmulator();
  const arns: string[] = [];
  const dbs: TransactionalDb[] = [];
  const connect = (settings: Readonly<Record<string, string>> = {}) => {
    const suffix = Object.keys(settings).length === 0 ? '' : `-${arns.length}`;
    const resourceArn = testClusterArn(`drydock-${schema.replaceAll('_', '-')}${suffix}`);
    if (!arns.includes(resourceArn)) {
      emulator.addCluster(resourceArn, {
        connectionString: urlWithSchema(schema, { TimeZone: 'UTC', ...settings }),
        maxConnections: 24,
      });
      arns.push(resourceArn);
    }
    const db = createDataApiDb({
      resourceArn,
      secretArn: TEST_SECRET_ARN,
      database: new URL(urlWithSchema(schema)).pathname.slice(1),
      endpoint: emulator.endpoint,
      region: TEST_REGION,
      credentials: TEST_CREDENTIALS,
    });
    dbs.push(db);
    return db;
  };
  const db = connect();
  if (shouldMigrate) await migrate(db, migrations);
  const sumCalls = (): CallCounts => {
    const total = emulator.calls('none');
    for (const arn of arns) {
      for (const [op, n] of Object.entries(emulator.calls(arn))) total[op as keyof CallCounts] += n;
    }
    return total;
  };
  return {
    db,
    driver: 'data-api',
    schema,
    connect,
    dataApiCalls: sumCalls,
    resetDataApiCalls: () => {
      for (const arn of arns) emulator.resetCalls(arn);
    },
    async close() {
      await Promise.all(dbs.map((d) => d.close()));
      await Promise.all(arns.map((arn) => emulator.removeCluster(arn)));
      await releaseSharedEmulator();
      await adminQuery(`drop schema ${schema} cascade`);
    },
  };
}
