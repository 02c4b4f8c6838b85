import { assertColumns, bindValue, decodeNamedRow } from './decode.ts';
import { translatePgError } from './pg-errors.ts';
import type { TransactionalDb } from './port.ts';
import type { ColumnSpec, Row, Statement } from './sql.ts';

export interface PgliteDbOptions {
  /** A folder for the data files; omitted → in memory (tests). */
  readonly dataDir?: string;
}

/**
 * Postgres's 128 MB default buffer pool is resident memory in a WebAssembly heap that never
 * shrinks; one local developer's data fits in far less. 16 MB holds the resident set of an idle
 * `npm start` near 200 MB instead of 500 MB. Given on the command line, not in postgresql.conf
 * (PGlite's `postgresqlconf` option would replace the whole file initdb wrote).
 */
export const PGLITE_SHARED_BUFFERS = '16MB';

interface Queryable {
  query<T>(text: string, params?: unknown[]): Promise<{ rows: T[]; fields: { name: string }[] }>;
}

const rawText = (value: string) => value;

async function run<C extends ColumnSpec>(
  client: Queryable,
  statement: Statement<C>,
): Promise<Row<C>[]> {
  let result: Awaited<ReturnType<Queryable['query']>>;
  try {
    result = await client.query<Record<string, unknown>>(
      statement.text,
      statement.params.map(bindValue),
    );
  } catch (error) {
    throw translatePgError(error);
  }
  assertColumns(
    statement.columns,
    result.fields.map((f) => f.name),
  );
  return (result.rows as Record<string, unknown>[]).map((raw) =>
    decodeNamedRow(statement.columns, raw),
  );
}

/**
 * The `pglite` adapter: Postgres compiled to WebAssembly, in-process. One connection, so its
 * statements run one at a time; the default for `npm start` on a fresh machine.
 */
export async function createPgliteDb(options: PgliteDbOptions = {}): Promise<TransactionalDb> {
  // Imported on demand: the Lambda bundles leave PGlite out (it is only for local use).
  const { PGlite, types } = await import('@electric-sql/pglite');
  // Same as the pg adapter: keep timestamps and int8 as text for the shared decoder.
  const parsers = {
    [types.INT8]: rawText,
    [types.DATE]: rawText,
    [types.TIMESTAMP]: rawText,
    [types.TIMESTAMPTZ]: rawText,
  };
  const instance = await PGlite.create(options.dataDir ?? 'memory://', {
    parsers,
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
  });
  return {
    driver: 'pglite',
    query: (statement) => run(instance, statement),
    async transaction(work) {
      try {
        return await instance.transaction((tx) =>
          work({
            driver: 'pglite',
            query: (statement) => run(tx, statement),
            close: () => Promise.resolve(),
          }),
        );
      } catch (error) {
        throw translatePgError(error);
      }
    },
    close: () => instance.close(),
  };
}
