import type { ColumnSpec, Row, Statement } from './sql.ts';

/**
 * The one database port. `shared/` depends on this interface only; the composition root picks
 * an adapter (`pg`, `pglite` or `data-api`) once per container. Store operations are single
 * statements, so this port has no transactions.
 */
export interface Db {
  /** Runs one statement (one round trip) and returns its decoded rows. */
  query<C extends ColumnSpec>(statement: Statement<C>): Promise<Row<C>[]>;
  /** Releases connections. The adapter must not be used afterwards (a no-op inside a transaction). */
  close(): Promise<void>;
  /** Which adapter this is, for logs and health output. */
  readonly driver: DbDriver;
  /**
   * `LISTEN` on a channel over a connection of its own (the `pg` adapter only): `onNotify` runs
   * for each notification. Resolves with the function that stops listening.
   */
  readonly listen?: (channel: string, onNotify: () => void) => Promise<() => Promise<void>>;
  /**
   * Whether a statement that writes outbox events should also return them (`outboxEvents`,
   * `shared/store/outbox.ts`). Only the inline publisher's hand-off (`shared/notify/hand-off.ts`)
   * takes them off the rows, so only its Db asks; on any other Db the column is null and the
   * statement does not build it (a JSON aggregate of the new rows, a timestamp formatted each).
   */
  readonly returnsEvents?: boolean;
}

/**
 * The migration runner's port: the adapters also run several statements as one transaction,
 * committed when `work` resolves, rolled back when it throws. Only the runner (and tests) use it.
 */
export interface TransactionalDb extends Db {
  transaction<T>(work: (tx: Db) => Promise<T>): Promise<T>;
}

export type DbDriver = 'pg' | 'pglite' | 'data-api';

/**
 * A statement the server refused (an SQL error), normalised across drivers so the store can map
 * constraint violations to domain errors the same way on every adapter.
 */
export class SqlError extends Error {
  override readonly name = 'SqlError';
  /** SQLSTATE, e.g. `23505` for a unique violation. */
  readonly sqlState: string;
  /** The violated constraint or index, when the server names one. */
  readonly constraint: string | undefined;

  constructor(message: string, sqlState: string, constraint?: string, options?: ErrorOptions) {
    super(message, options);
    this.sqlState = sqlState;
    this.constraint = constraint;
  }
}

/** SQLSTATEs the store reacts to. */
export const SQL_STATE = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  notNullViolation: '23502',
  invalidTextRepresentation: '22P02',
  /** e.g. NUL in `text` ("invalid byte sequence for encoding UTF8: 0x00"). */
  characterNotInRepertoire: '22021',
  /** e.g. `\u0000` in `jsonb` ("unsupported Unicode escape sequence"). */
  untranslatableCharacter: '22P05',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  queryCanceled: '57014',
} as const;

/** The database could not be reached or did not answer: never "not found", always retryable. */
export class DbUnavailableError extends Error {
  override readonly name = 'DbUnavailableError';
}

/**
 * The statement ran, but its result holds a row or a whole larger than the driver carries (the
 * Data API: 64 KB a row, 1 MiB a result). Not transient: the same read fails again.
 */
export class DbResultTooLargeError extends Error {
  override readonly name: string = 'DbResultTooLargeError';
}
