import { randomBytes } from 'node:crypto';
import { migrate } from '#shared/db/migrate.ts';
import { migrations } from '#shared/db/migrations.generated.ts';
import { createPgDb } from '#shared/db/pg.ts';
import { createPgliteDb } from '#shared/db/pglite.ts';
import type { Db } from '#shared/db/port.ts';
import { adminQuery, SKIP_SERVER, urlWithSchema } from './pg-server.ts';

/** The drivers the store's contract suite runs on. */
export type TestDriver = 'pg' | 'pglite';
export const TEST_DRIVERS: readonly TestDriver[] = SKIP_SERVER ? ['pglite'] : ['pg', 'pglite'];

export interface TestDb {
  readonly db: Db;
  readonly driver: TestDriver;
  /** The server schema this database lives in (pg only). */
  readonly schema: string | undefined;
  /** Opens another independent pool on the same schema (pg only): for races across pools. */
  connect(settings?: Readonly<Record<string, string>>, maxConnections?: number): Db;
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
  const pools: Db[] = [];
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
