import { assertColumns, bindValue, decodeNamedRow } from './decode.ts';
import { translatePgError } from './pg.ts';
import type { TransactionalDb } from './port.ts';
import type { ColumnSpec, Row, Statement } from './sql.ts';

export interface PgliteDbOptions {
  /** A folder for the data files; omitted → in memory (tests). */
  readonly dataDir?: string;
}

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
  const instance = await PGlite.create(options.dataDir ?? 'memory://', { parsers });
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
