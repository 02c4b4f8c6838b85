import type { CredentialSource } from '../aws/signed-json.ts';
import { REAL_RETRY_CLOCK, type RetryClock, retryWithinDeadline } from '../retry.ts';
import {
  createDataApiClient,
  DATA_API_REQUEST_TIMEOUT_MS,
  type DataApiCallOptions,
  type DataApiClient,
} from './data-api-client.ts';
import { isRetryable, translateDataApiError } from './data-api-errors.ts';
import { fieldValue, toDataApiStatement } from './data-api-sql.ts';
import { decodePositionalRow } from './decode.ts';
import { type Db, DbUnavailableError, type TransactionalDb } from './port.ts';
import type { ColumnSpec, Row, Statement } from './sql.ts';

export {
  createDataApiClient,
  DATA_API_REQUEST_TIMEOUT_MS,
  type DataApiClient,
} from './data-api-client.ts';
export {
  DataApiRequestError,
  DataApiResponseTooLargeError,
  DataApiStatementTimeoutError,
  DataApiTransactionNotFoundError,
} from './data-api-errors.ts';

/** How long and how often to retry calls the service did not run (auto-pause resume, 503/504). */
export interface DataApiRetryOptions {
  /** Total time spent waiting between attempts of one call. An Aurora resume takes 15–30 s. */
  readonly budgetMs?: number;
  /** First backoff step; doubles per attempt up to `maxDelayMs`, each step jittered. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Kept free of `remainingTimeMs()` so the caller can still answer after the last attempt. */
  readonly marginMs?: number;
  /** The backoff's time and randomness (tests inject them to see the delays asked for). */
  readonly clock?: RetryClock;
  readonly random?: () => number;
}

export interface DataApiDbOptions {
  /** The Aurora cluster ARN. */
  readonly resourceArn: string;
  /** The Secrets Manager secret ARN. The Data API reads the secret; its value never comes here. */
  readonly secretArn: string;
  /** The database name inside the cluster. */
  readonly database: string;
  /** A prebuilt client (tests); otherwise one is built from the fields below. */
  readonly client?: DataApiClient;
  readonly region?: string;
  /** An endpoint override; `AWS_ENDPOINT_URL_RDS_DATA` works too without touching code. */
  readonly endpoint?: string;
  /** Explicit credentials (tests against the emulator); production uses the environment's. */
  readonly credentials?: CredentialSource;
  readonly retry?: DataApiRetryOptions;
  /** The invocation's remaining time (Lambda `context.getRemainingTimeInMillis`). */
  readonly remainingTimeMs?: () => number;
}

/** Kept free of the invocation's remaining time when a call is cut short by it. */
const CALL_MARGIN_MS = 1_000;
const MIN_CALL_MS = 250;

const DEFAULT_RETRY = {
  budgetMs: 40_000,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  marginMs: 3_000,
};

/**
 * The `data-api` adapter: every `query` is one ExecuteStatement call with named, type-hinted
 * parameters; rows are decoded by position from `records` using the statement's declared
 * columns, so neither result metadata nor `formatRecordsAs` is requested (both make the service
 * run a catalog query per statement).
 */
export function createDataApiDb(options: DataApiDbOptions): TransactionalDb {
  const client = options.client ?? createDataApiClient(options);
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const remainingTimeMs = options.remainingTimeMs ?? (() => Number.POSITIVE_INFINITY);
  const target = {
    resourceArn: options.resourceArn,
    secretArn: options.secretArn,
  };
  const clock = retry.clock ?? REAL_RETRY_CLOCK;
  // One call, retried while the service did not run it, with exponential backoff and "equal"
  // jitter (half fixed, half random), until the budget or the caller's remaining time runs out.
  const send = <T>(call: () => Promise<T>): Promise<T> => {
    const now = clock.now();
    return retryWithinDeadline(call, {
      judge: (error) =>
        isRetryable(error)
          ? { error, retryable: true }
          : { error: translateDataApiError(error), retryable: false },
      baseDelayMs: retry.baseDelayMs,
      maxDelayMs: retry.maxDelayMs,
      jitter: 'equal',
      deadline: Math.min(now + retry.budgetMs, now + remainingTimeMs() - retry.marginMs),
      clock,
      ...(retry.random ? { random: retry.random } : {}),
      exhausted: ({ error }, { attempts, waitedMs }) =>
        new DbUnavailableError(
          `database unavailable: the Data API kept answering ${(error as { name?: string }).name ?? 'error'} for ${waitedMs} ms over ${attempts} attempts (retry budget spent)`,
          { cause: error },
        ),
    });
  };
  // Each call also ends with the invocation: a Data API endpoint that stops answering (a
  // frozen connection, not a refused one) must not hold the request until Lambda kills it; the
  // caller gets a 503 with time left to send it.
  const callOptions = (): DataApiCallOptions => {
    const left = remainingTimeMs() - CALL_MARGIN_MS;
    return Number.isFinite(left) && left < DATA_API_REQUEST_TIMEOUT_MS
      ? { signal: AbortSignal.timeout(Math.max(MIN_CALL_MS, left)) }
      : {};
  };

  async function execute<C extends ColumnSpec>(
    statement: Statement<C>,
    transactionId: string | undefined,
  ): Promise<Row<C>[]> {
    const { sql, parameters } = toDataApiStatement(statement.text, statement.params);
    const output = await send(() =>
      client.executeStatement(
        {
          ...target,
          database: options.database,
          sql,
          ...(parameters.length > 0 ? { parameters } : {}),
          ...(transactionId ? { transactionId } : {}),
        },
        callOptions(),
      ),
    );
    const records = output.records ?? [];
    const width = Object.keys(statement.columns).length;
    return records.map((record) => {
      // Without metadata only the width can be checked; the pg drivers check the names.
      if (width > 0 && record.length !== width) {
        throw new Error(
          `statement returned ${record.length} columns but declares ${width} [${Object.keys(statement.columns).join(', ')}]`,
        );
      }
      return decodePositionalRow(statement.columns, record.map(fieldValue));
    });
  }

  return {
    driver: 'data-api',
    query: (statement) => execute(statement, undefined),
    async transaction(work) {
      const begun = await send(() =>
        client.beginTransaction({ ...target, database: options.database }, callOptions()),
      );
      const transactionId = begun.transactionId;
      if (!transactionId) throw new Error('BeginTransaction returned no transactionId');
      // The Data API refuses a second statement while one runs on the same transaction
      // ("Transaction is still running a query"), so statements are queued here.
      let queue: Promise<unknown> = Promise.resolve();
      const tx: Db = {
        driver: 'data-api',
        query(statement) {
          const result = queue.then(() => execute(statement, transactionId));
          queue = result.catch(() => {});
          return result;
        },
        close: () => Promise.resolve(),
      };
      try {
        const value = await work(tx);
        await queue;
        await send(() => client.commitTransaction({ ...target, transactionId }, callOptions()));
        return value;
      } catch (error) {
        await queue;
        // Best effort: after a failed commit or an expiry the transaction is already gone.
        await send(() =>
          client.rollbackTransaction({ ...target, transactionId }, callOptions()),
        ).catch(() => {});
        throw error;
      }
    },
    // Nothing to release: calls share the runtime's fetch connection pool.
    close: () => Promise.resolve(),
  };
}
