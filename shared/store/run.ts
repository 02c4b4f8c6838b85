import {
  type Db,
  DbResultTooLargeError,
  DbUnavailableError,
  SQL_STATE,
  SqlError,
} from '../db/port.ts';
import {
  type ColumnSpec,
  type Row,
  type SqlFragment,
  type Statement,
  sql,
  statement,
} from '../db/sql.ts';
import {
  type AppError,
  ConflictError,
  PayloadTooLargeError,
  UnavailableError,
  ValidationError,
} from '../errors.ts';
import { BOUND_CONSTRAINTS, BUILD_DATA_PAYLOAD_BYTES, TASK_BOUNDS } from './bounds.ts';

/**
 * Runs one store statement and turns driver failures into the taxonomy: an unreachable database
 * is `UnavailableError` (503, never "not found"), a value the server cannot parse or a violated
 * check is `ValidationError` (400), a stored row too large for the driver to carry is
 * `ConflictError` (409). Other SQL errors propagate for the caller to map.
 */
export async function run<C extends ColumnSpec>(
  db: Db,
  statement: Statement<C>,
): Promise<Row<C>[]> {
  try {
    return await db.query(statement);
  } catch (error) {
    throw translate(error);
  }
}

function translate(error: unknown): unknown {
  if (error instanceof DbUnavailableError) {
    return new UnavailableError('the database is unavailable; retry later', { cause: error });
  }
  // Every row written since the bounds (migrations 0004 to 0010) fits a Data API row and every
  // read stops within its result, so this is a row stored before them: the state of what is
  // asked for, not the request, nor a fault a retry would clear.
  if (error instanceof DbResultTooLargeError) {
    return new ConflictError(
      'a stored row is too large to answer through the Data API (64 KB a row, 1 MiB a result): ' +
        'it was written before the service bounded its rows; an operator must shorten or delete it',
      { cause: error },
    );
  }
  if (error instanceof SqlError) {
    switch (error.sqlState) {
      case SQL_STATE.invalidTextRepresentation:
      case '22007': // invalid datetime format
      case '22008': // datetime field overflow
      case '22003': // numeric value out of range
        return new ValidationError('a value has the wrong format', [], { cause: error });
      // Text the database cannot hold (NUL, an untranslatable character): the edge refuses
      // these first; this is the second line for any path that reaches SQL without it.
      case SQL_STATE.characterNotInRepertoire:
      case SQL_STATE.untranslatableCharacter:
        return new ValidationError('a value holds a character the database cannot store', [], {
          cause: error,
        });
      case SQL_STATE.checkViolation:
        return (
          boundViolation(error) ??
          new ValidationError(`a value is not allowed (${error.constraint ?? 'check'})`, [], {
            cause: error,
          })
        );
    }
  }
  return error;
}

/**
 * A write past one of the task bounds (`bounds.ts`): 413 when the request alone is too large,
 * 409 when it is what the task already holds that the request would grow past the bound.
 */
function boundViolation(error: SqlError): AppError | undefined {
  const kind = BOUND_CONSTRAINTS[error.constraint as keyof typeof BOUND_CONSTRAINTS];
  if (kind === 'row') {
    return new ConflictError(
      `the task's row would grow past ${TASK_BOUNDS.rowBytes} bytes (its node filter, result ` +
        `message and reason, entity lists, names and ${TASK_BOUNDS.subtaskIdBytes} bytes a subtask ` +
        'together, as JSON): one Data API row carries 64 KB; the write was refused, nothing was changed',
      { cause: error },
    );
  }
  if (kind === 'accumulated') {
    return new ConflictError(
      `the task's successes, failures and links would grow past ${TASK_BOUNDS.resultListsBytes} bytes; ` +
        'the write was refused (report fewer or shorter entity names)',
      { cause: error },
    );
  }
  if (kind === 'request') {
    const what: Record<string, string> = {
      result_message_bound: `a message (text, context and extra) may hold at most ${TASK_BOUNDS.messageBytes} bytes`,
      tasks_node_filter_bound: `a node filter may hold at most ${TASK_BOUNDS.nodeFilterBytes} bytes of JSON`,
      build_data_payload_bound: `a build-data payload may hold at most ${BUILD_DATA_PAYLOAD_BYTES} bytes as JSON text`,
    };
    return new PayloadTooLargeError(what[error.constraint ?? ''] ?? 'a value is too large', {
      cause: error,
    });
  }
  return undefined;
}

/** Whether `error` is the refusal `run` made of a violated `constraint` (a bound). */
export function violated(error: unknown, constraint: keyof typeof BOUND_CONSTRAINTS): boolean {
  return (
    error instanceof Error &&
    error.cause instanceof SqlError &&
    error.cause.sqlState === SQL_STATE.checkViolation &&
    error.cause.constraint === constraint
  );
}

/** Whether `error` is a unique violation of `constraint`. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  return (
    error instanceof SqlError &&
    error.sqlState === SQL_STATE.uniqueViolation &&
    error.constraint === constraint
  );
}

/**
 * Runs a statement whose duplicate check reads the statement's snapshot: when a concurrent writer
 * commits the same idempotency key first, the insert hits the unique index and the whole
 * statement rolls back. Running it once more, on a fresh snapshot, sees the winner's rows and
 * skips them, so replays stay harmless without a second statement on the common path.
 */
export async function runRetryingOnConflict<C extends ColumnSpec>(
  db: Db,
  statement: Statement<C>,
  constraint: string,
): Promise<Row<C>[]> {
  try {
    return await run(db, statement);
  } catch (error) {
    if (!isUniqueViolation(error, constraint)) throw error;
    return run(db, statement);
  }
}

/**
 * A read as its statement and what makes the answer from the rows, so that two reads can share
 * one round trip (`runReadsTogether`) where an operation needs both.
 */
export interface Read<C extends ColumnSpec, T> {
  readonly columns: C;
  /** The statement's text and parameters, as the `sql` tag built them (to be spliced whole). */
  readonly fragment: SqlFragment;
  /**
   * The statement's own ORDER BY, over its output column names (quoted as in its select list): a
   * combined statement numbers the rows by it, since a subquery's ORDER BY does not carry over.
   */
  readonly order: string;
  readonly decode: (rows: Row<C>[]) => T;
}

/** Runs one read. */
export async function runRead<C extends ColumnSpec, T>(db: Db, read: Read<C, T>): Promise<T> {
  return read.decode(await run(db, statement(read.columns, read.fragment)));
}

/** Prefix of the second read's columns in the combined statement. */
const SECOND = 'b:';

// One column list per pair of reads' lists, as each read's own is a module constant: the adapters
// keep what they derive from a list (its row builders, the pg adapter's check of the select list)
// by the list's identity, so a new object on every call would redo that work on every call.
const combinedColumns = new WeakMap<ColumnSpec, WeakMap<ColumnSpec, ColumnSpec>>();

function combinedColumnsOf(a: ColumnSpec, b: ColumnSpec): ColumnSpec {
  let byB = combinedColumns.get(a);
  if (byB === undefined) {
    byB = new WeakMap();
    combinedColumns.set(a, byB);
  }
  let columns = byB.get(b);
  if (columns === undefined) {
    const nullable = (kind: string) => (kind.endsWith('?') ? kind : `${kind}?`);
    const combined: Record<string, string> = { __part: 'int' };
    for (const name of Object.keys(a)) combined[name] = nullable(a[name] as string);
    for (const name of Object.keys(b)) combined[`${SECOND}${name}`] = nullable(b[name] as string);
    columns = combined as ColumnSpec;
    byB.set(b, columns);
  }
  return columns;
}

/**
 * Runs two independent reads as one statement (one round trip, one Data API call): each becomes
 * a CTE numbering its rows in their own order (`Read.order`, explicitly: a subquery's ORDER BY
 * does not order the numbering), and a `full join … on false` returns the first
 * read's rows and then the second's side by side, every column keeping its own type. Each read
 * then decodes exactly the rows it would have had alone.
 */
export async function runReadsTogether<CA extends ColumnSpec, A, CB extends ColumnSpec, B>(
  db: Db,
  a: Read<CA, A>,
  b: Read<CB, B>,
): Promise<[A, B]> {
  const aNames = Object.keys(a.columns);
  const bNames = Object.keys(b.columns);
  const columns = combinedColumnsOf(a.columns, b.columns);
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
  const select = [
    `case when ra."__ord" is not null then 1 else 2 end as "__part"`,
    ...aNames.map((n) => `ra.${quote(n)}`),
    ...bNames.map((n) => `rb.${quote(n)} as ${quote(`${SECOND}${n}`)}`),
  ].join(', ');
  const text = (t: string): SqlFragment => ({ text: t, params: [] });
  const combined = sql.join(
    [
      text(`with ra as (select row_number() over (order by ${a.order}) as "__ord", s.* from (`),
      a.fragment,
      text(`) s), rb as (select row_number() over (order by ${b.order}) as "__ord", s.* from (`),
      b.fragment,
      text(
        `) s)\nselect ${select}\nfrom ra full join rb on false order by ra."__ord" nulls last, rb."__ord"`,
      ),
    ],
    '',
  );
  const rows = (await run(db, statement(columns, combined))) as Record<string, unknown>[];
  const aRows: Record<string, unknown>[] = [];
  const bRows: Record<string, unknown>[] = [];
  for (const row of rows) {
    if (row.__part === 1) {
      aRows.push(Object.fromEntries(aNames.map((n) => [n, row[n]])));
    } else {
      bRows.push(Object.fromEntries(bNames.map((n) => [n, row[`${SECOND}${n}`]])));
    }
  }
  return [a.decode(aRows as Row<CA>[]), b.decode(bRows as Row<CB>[])];
}
