import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { migrate } from '#shared/db/migrate.ts';
import { migrations } from '#shared/db/migrations.generated.ts';
import { createPgDb } from '#shared/db/pg.ts';
import type { Db } from '#shared/db/port.ts';
import { adminQuery, TEST_DATABASE_URL, urlWithSchema } from '#test/support/pg-server.ts';

/**
 * A schema of its own on the local server for one bench run, migrated with the service's
 * migrations, dropped at the end (also on Ctrl-C), so runs never see each other's rows.
 */
export interface BenchSchema {
  readonly name: string;
  /** A connection string whose sessions live in the schema. */
  readonly url: string;
  /**
   * `workers` dedicated node-postgres clients: the raw floor's connections. Every connection
   * carries `application_name`, so its server processes can be found for CPU accounting.
   */
  rawClients(workers: number, applicationName?: string): Promise<pg.Client[]>;
  /** The store's `pg` adapter with a pool as large as the raw floor's client count. */
  storeDb(maxConnections: number, applicationName?: string): Db;
  /** One admin statement inside the schema (seeding, VACUUM, EXPLAIN). */
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  drop(): Promise<void>;
}

// In the URL: node-postgres lets connection-string fields override the config object's.
function withApplicationName(url: string, name: string): string {
  const named = new URL(url);
  named.searchParams.set('application_name', name);
  return named.toString();
}

export async function createBenchSchema(): Promise<BenchSchema> {
  const name = `bench_${randomBytes(5).toString('hex')}`;
  await adminQuery(`create schema ${name}`);
  const url = urlWithSchema(name);
  const owned: { clients: pg.Client[]; dbs: Db[] } = { clients: [], dbs: [] };
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await Promise.allSettled(owned.clients.map((c) => c.end()));
    await Promise.allSettled(owned.dbs.map((d) => d.close()));
    await admin.end().catch(() => {});
    await adminQuery(`drop schema if exists ${name} cascade`);
  };
  try {
    const db = createPgDb({ connectionString: url, maxConnections: 1 });
    try {
      await migrate(db, migrations);
    } finally {
      await db.close();
    }
  } catch (error) {
    await drop();
    throw error;
  }
  return {
    name,
    url,
    async rawClients(workers, applicationName = 'bench_raw') {
      const clients = Array.from(
        { length: workers },
        () => new pg.Client({ connectionString: withApplicationName(url, applicationName) }),
      );
      await Promise.all(clients.map((c) => c.connect()));
      owned.clients.push(...clients);
      return clients;
    },
    storeDb(maxConnections, applicationName = 'bench_store') {
      const db = createPgDb({
        connectionString: withApplicationName(url, applicationName),
        maxConnections,
      });
      owned.dbs.push(db);
      return db;
    },
    query: (text, values) => admin.query(text, values),
    drop,
  };
}

/** Closes raw clients early (each phase opens fresh ones so no phase inherits another's caches). */
export async function endClients(clients: readonly pg.Client[]): Promise<void> {
  await Promise.allSettled(clients.map((c) => c.end()));
}

/** Server version and the settings that shape the numbers. */
export async function serverInfo(): Promise<Record<string, string>> {
  const result = await adminQuery(
    `select current_setting('server_version') as version,
      current_setting('shared_buffers') as shared_buffers,
      current_setting('synchronous_commit') as synchronous_commit,
      current_setting('fsync') as fsync,
      current_setting('max_connections') as max_connections`,
  );
  return { ...(result.rows[0] as Record<string, string>), host: new URL(TEST_DATABASE_URL).host };
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU (user + system, µs) spent so far by the server processes of the connections named
 * `applicationName`, read from /proc (the server runs on this machine). Other sessions on the
 * same server (test suites running alongside) are not counted.
 */
export async function backendCpu(
  schema: BenchSchema,
  applicationName: string,
): Promise<Map<number, number>> {
  const result = await schema.query(
    'select pid from pg_stat_activity where application_name = $1 and datname = current_database()',
    [applicationName],
  );
  const cpu = new Map<number, number>();
  for (const { pid } of result.rows as { pid: number }[]) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name.
      const ticks = Number(fields[11]) + Number(fields[12]);
      cpu.set(pid, (ticks / CLOCK_TICKS_PER_SECOND) * 1e6);
    } catch {
      // The server is elsewhere or the process just ended: no figure for it.
    }
  }
  return cpu;
}

/** CPU the named backends spent between two snapshots (new backends count from their start). */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, used] of after) total += used - (before.get(pid) ?? 0);
  return total;
}
