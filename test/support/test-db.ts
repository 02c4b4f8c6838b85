import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { migrate } from '#shared/db/migrate.ts';
import { migrations } from '#shared/db/migrations.generated.ts';
import { createPgDb } from '#shared/db/pg.ts';
import { createPgliteDb } from '#shared/db/pglite.ts';
import type { TransactionalDb } from '#shared/db/port.ts';
import {
  type CallCounts,
  type EmulatedDatabase,
  emulatedDatabase,
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
  /** The server schema this database lives in (pg and data-api). */
  readonly schema: string | undefined;
  /** data-api only: its cluster on the emulator (adapter options, environment, call counts). */
  readonly dataApi?: EmulatedDatabase;
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
 * The calling `describe` block's database (as {@link openTestDb} opens it): opened before its
 * first test, closed after its last. The object reads through to it, so it may be used only
 * inside tests and hooks.
 */
export function testDatabase(driver: TestDriver, options: { migrate?: boolean } = {}): TestDb {
  let opened: TestDb | undefined;
  beforeAll(async () => {
    opened = await openTestDb(driver, options);
  });
  afterAll(async () => opened?.close());
  return new Proxy({} as TestDb, {
    get(_, property) {
      if (!opened) throw new Error(`the ${driver} test database is read before it is open`);
      const value = Reflect.get(opened, property);
      return typeof value === 'function' ? value.bind(opened) : value;
    },
  });
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
 * The `data-api` adapter through the local emulator (one per test process), backed by a fresh
 * schema on the server. Aurora sessions run in UTC unless the cluster's parameter group says
 * otherwise, so the default cluster does too; `connect(settings)` registers another cluster ARN
 * whose sessions carry those settings (a non-UTC TimeZone, say).
 */
async function openDataApiTestDb(schema: string, shouldMigrate: boolean): Promise<TestDb> {
  const dataApi = await emulatedDatabase(schema, { maxConnections: 24 });
  const connect = (settings: Readonly<Record<string, string>> = {}) =>
    Object.keys(settings).length === 0 ? dataApi.open() : dataApi.withSettings(settings).open();
  const db = connect();
  if (shouldMigrate) await migrate(db, migrations);
  return {
    db,
    driver: 'data-api',
    schema,
    dataApi,
    connect,
    dataApiCalls: () => dataApi.calls(),
    resetDataApiCalls: () => dataApi.resetCalls(),
    async close() {
      await dataApi.close();
      await adminQuery(`drop schema ${schema} cascade`);
    },
  };
}
