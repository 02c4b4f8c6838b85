import { createHash } from 'node:crypto';
import pg from 'pg';
import { assertColumns, bindValue, decodePositionalRow } from './decode.ts';
import { translatePgError } from './pg-errors.ts';
import { ArrayRowsStatement, type StatementRows } from './pg-statement.ts';
import type { Db, TransactionalDb } from './port.ts';
import type { ColumnSpec, Row, Statement } from './sql.ts';

// Kept importable from here: the mapping lives in its own module so PGlite's adapter does not load `pg`.
export { translatePgError };

export interface PgDbOptions {
  /** `postgres://user:pass@host:port/db`; the password never reaches a log line from here. */
  readonly connectionString: string;
  /** Pool size. Lambda containers serve one request at a time, so small pools suffice there. */
  readonly maxConnections?: number;
  /** Server-side `statement_timeout` in ms (0 = none). */
  readonly statementTimeoutMs?: number;
  /**
   * Client-side deadline of one statement, in ms: a database that stops answering without
   * closing the connection (a frozen host, a dropped route) never delivers the server's own
   * timeout, so the client gives up itself, answers `DbUnavailableError` and drops the
   * connection. Default: the statement timeout plus 2 s (so the server's cancel, a cleaner
   * end, comes first); none when there is no statement timeout.
   */
  readonly queryTimeoutMs?: number;
  /** Extra `-c` settings for every connection, e.g. `{ TimeZone: 'Europe/Berlin' }` in tests. */
  readonly sessionSettings?: Readonly<Record<string, string>>;
}

// Timestamps, int8 and dates are kept as text so the decoder can keep microseconds and big values.
const RAW_TEXT_TYPES = new Set([20, 1082, 1114, 1184]);
const rawText = (value: string) => value;
const types = {
  getTypeParser: (oid: number, format?: string) =>
    RAW_TEXT_TYPES.has(oid) ? rawText : pg.types.getTypeParser(oid, format as 'text'),
};

// node-postgres prepares a statement only when it is given a name. Naming every statement by a
// hash of its text makes the server plan each one once per connection (peers.md: unprepared
// statements spend as long planning as executing).
const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `dd_${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;
    if (statementNames.size < 2_000) statementNames.set(text, name);
  }
  return name;
}

// The select list of a statement text is the same on every call: checked against the declared
// columns once per text (and per column list), not on every call.
const checkedColumns = new Map<string, ColumnSpec>();

const textParser = (oid: number) => types.getTypeParser(oid, 'text') as (text: string) => unknown;

async function run<C extends ColumnSpec>(
  client: pg.ClientBase,
  statement: Statement<C>,
): Promise<Row<C>[]> {
  // A query object of the adapter's own (pg-statement.ts): node-postgres's does work on every
  // statement that the adapter never reads, 40–60 µs of client CPU a read of a task with 10
  // messages.
  const query = new ArrayRowsStatement(
    {
      name: statementName(statement.text),
      text: statement.text,
      params: statement.params.map(bindValue),
    },
    textParser,
  );
  let result: StatementRows;
  try {
    result = await new Promise<StatementRows>((resolve, reject) => {
      // Set before the client takes the query, so that its read timeout (`query_timeout`) wraps it.
      query.callback = (error, value) => (error ? reject(error) : resolve(value as StatementRows));
      client.query(query);
    });
  } catch (error) {
    throw translatePgError(error);
  }
  const columns = statement.columns;
  if (checkedColumns.get(statement.text) !== columns) {
    assertColumns(columns, result.fieldNames);
    if (checkedColumns.size < 2_000) checkedColumns.set(statement.text, columns);
  }
  // Decoded once the answer is complete, in one pass: decoding each row as its message arrived
  // (between the socket's reads) cost the decoder four times the CPU at 100 rows (a profile).
  const rows = result.rows;
  const decoded: Row<C>[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i += 1) {
    decoded[i] = decodePositionalRow(columns, rows[i] as unknown[]);
  }
  return decoded;
}

/**
 * The connections the adapter holds between statements. node-postgres's pool arms a timer on
 * every checkout (the wait for a free connection) and another on every release (the idle
 * timeout), and goes through its queue and events each time: about 10–20 µs of client CPU per
 * statement, as much as the rest of the adapter. So a connection a statement used stays checked
 * out, on a stack of its own, and the next statement takes it straight back; the pool is asked
 * only when the stack is empty (a new connection, or one more than were in use at once), and it
 * still bounds the connections, opens them and times out the wait for one. A connection goes
 * back to the pool when someone is waiting there, after a failed statement (the pool closes it,
 * as before) and when it has been idle for the idle timeout (closed, checked every few seconds by
 * one timer that does not keep the process alive).
 */
function heldConnections(pool: pg.Pool, idleTimeoutMs: number) {
  const held: pg.PoolClient[] = [];
  // When each held connection was last given back (in step with `held`).
  const heldSince: number[] = [];
  const watched = new WeakSet<pg.PoolClient>();
  let sweep: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  const forget = (client: pg.PoolClient) => {
    const i = held.indexOf(client);
    if (i < 0) return false;
    held.splice(i, 1);
    heldSince.splice(i, 1);
    return true;
  };
  const sweepIdle = () => {
    const cutoff = Date.now() - idleTimeoutMs;
    // The stack's bottom has been idle longest.
    while (held.length > 0 && (heldSince[0] as number) <= cutoff) {
      heldSince.shift();
      (held.shift() as pg.PoolClient).release(true);
    }
    if (held.length === 0 && sweep !== undefined) {
      clearInterval(sweep);
      sweep = undefined;
    }
  };

  return {
    /** The connection given back last, if one is held (no promise: the common case). */
    takeHeld(): pg.PoolClient | undefined {
      heldSince.pop();
      return held.pop();
    },
    /** A connection from the pool (new, or one given back to it), when none is held. */
    async connect(): Promise<pg.PoolClient> {
      let fresh: pg.PoolClient;
      try {
        fresh = await pool.connect();
      } catch (error) {
        throw translatePgError(error);
      }
      if (!watched.has(fresh)) {
        watched.add(fresh);
        // A held connection that breaks (the server restarts, the network drops it) must not
        // crash the process: it is dropped, and the next statement takes another.
        fresh.on('error', (error) => {
          if (forget(fresh)) fresh.release(error);
        });
      }
      return fresh;
    },
    give(client: pg.PoolClient, failed: boolean): void {
      const broken = (client as unknown as { _queryable?: boolean })._queryable === false;
      if (failed || broken) {
        client.release(true);
        return;
      }
      if (closed || pool.waitingCount > 0) {
        client.release();
        return;
      }
      heldSince.push(Date.now());
      held.push(client);
      if (sweep === undefined) {
        sweep = setInterval(sweepIdle, Math.max(1_000, Math.floor(idleTimeoutMs / 3)));
        sweep.unref();
      }
    },
    close(): void {
      closed = true;
      if (sweep !== undefined) clearInterval(sweep);
      sweep = undefined;
      heldSince.length = 0;
      for (const client of held.splice(0)) client.release();
    },
  };
}

function clientDb(client: pg.PoolClient): Db {
  return {
    driver: 'pg',
    query: (statement) => run(client, statement),
    close: () => Promise.resolve(),
  };
}

/**
 * Takes the `options` parameter out of a connection URL: node-postgres lets it replace the
 * settings given beside the URL, so both are passed together instead.
 */
function withoutUrlOptions(connectionString: string): {
  connectionString: string;
  urlSettings: string;
} {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return { connectionString, urlSettings: '' };
  }
  const urlSettings = url.searchParams.get('options') ?? '';
  if (urlSettings === '') return { connectionString, urlSettings };
  url.searchParams.delete('options');
  return { connectionString: url.toString(), urlSettings };
}

/** How long a connection may stay unused before it is closed. */
const IDLE_TIMEOUT_MS = 30_000;

/** The `pg` adapter: a node-postgres pool against a Postgres server (`DATABASE_URL`). */
export function createPgDb(options: PgDbOptions): TransactionalDb {
  const defaults = {
    // Every statement is named (prepared), and every store statement's text fixes its shape
    // (batch sizes included), so a plan made without the parameters' values serves them all:
    // planning once per connection instead of on each call (the claim and completion CTEs took
    // longer to plan than to run).
    plan_cache_mode: 'force_generic_plan',
    // Timestamps then arrive in UTC, which the decoder only rearranges (any zone decodes the same).
    TimeZone: 'UTC',
  };
  const settings = {
    ...(options.statementTimeoutMs
      ? { statement_timeout: String(options.statementTimeoutMs) }
      : {}),
    ...options.sessionSettings,
  };
  const asOptions = (values: Readonly<Record<string, string>>) =>
    Object.entries(values).map(([key, value]) => `-c ${key}=${value}`);
  const queryTimeoutMs =
    options.queryTimeoutMs ??
    (options.statementTimeoutMs ? options.statementTimeoutMs + 2_000 : undefined);
  const { connectionString, urlSettings } = withoutUrlOptions(options.connectionString);
  const pool = new pg.Pool({
    connectionString,
    max: options.maxConnections ?? 10,
    // Also how long a request waits for a pool slot: with every connection stuck on a silent
    // database, the next request answers 503 after this instead of queueing without end.
    connectionTimeoutMillis: 5_000,
    ...(queryTimeoutMs ? { query_timeout: queryTimeoutMs } : {}),
    idleTimeoutMillis: IDLE_TIMEOUT_MS,
    types,
    // Later settings win: the adapter's defaults, then the URL's, then the caller's own.
    options: [...asOptions(defaults), urlSettings, ...asOptions(settings)]
      .filter((part) => part !== '')
      .join(' '),
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const connections = heldConnections(pool, IDLE_TIMEOUT_MS);
  // A connection whose work failed is closed (as `pool.query` did), unless `clean` says the
  // failure left it usable: a transaction rolled back.
  const withClient = async <T>(
    work: (client: pg.PoolClient) => Promise<T>,
    clean: () => boolean = () => false,
  ): Promise<T> => {
    const client = connections.takeHeld() ?? (await connections.connect());
    let failed = true;
    try {
      const value = await work(client);
      failed = false;
      return value;
    } finally {
      connections.give(client, failed && !clean());
    }
  };

  return {
    driver: 'pg',
    query: (statement) => withClient((client) => run(client, statement)),
    transaction: (work) => {
      let rolledBack = false;
      return withClient(
        async (client) => {
          try {
            await client.query('begin');
            const value = await work(clientDb(client));
            await client.query('commit');
            return value;
          } catch (error) {
            rolledBack = await client.query('rollback').then(
              () => true,
              () => false,
            );
            throw translatePgError(error);
          }
        },
        () => rolledBack,
      );
    },
    async listen(channel, onNotify) {
      // A connection of its own, outside the pool: LISTEN holds it for as long as it listens.
      const client = new pg.Client({ connectionString: options.connectionString, types });
      client.on('error', () => {});
      client.on('notification', (message) => {
        if (message.channel === channel) onNotify();
      });
      try {
        await client.connect();
        await client.query(`listen "${channel.replaceAll('"', '""')}"`);
      } catch (error) {
        await client.end().catch(() => {});
        throw translatePgError(error);
      }
      return () => client.end();
    },
    close: () => {
      connections.close();
      return pool.end();
    },
  };
}
