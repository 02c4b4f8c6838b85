import { DbResultTooLargeError, DbUnavailableError, SqlError } from './port.ts';

/**
 * Data API failures mapped onto the port's error types, plus the few typed errors that only this
 * adapter can raise. Messages are built from the service's error name and text only: requests
 * carry ARNs, never credentials, and neither is echoed here.
 */

/** The statement ran past the Data API's 45 s call limit and was cancelled. */
export class DataApiStatementTimeoutError extends Error {
  override readonly name = 'DataApiStatementTimeoutError';
  /** Same SQLSTATE as a `statement_timeout` cancellation on the `pg` driver. */
  readonly sqlState = '57014';
}

/** The result exceeded the Data API's 1 MiB response or 64 KB row limit: page with `LIMIT`. */
export class DataApiResponseTooLargeError extends DbResultTooLargeError {
  override readonly name = 'DataApiResponseTooLargeError';
}

/** The transaction expired (3 min idle), was already ended, or never existed. Redo it whole. */
export class DataApiTransactionNotFoundError extends Error {
  override readonly name = 'DataApiTransactionNotFoundError';
}

/** Any other refusal by the Data API (configuration, permissions, bad request). Not retryable. */
export class DataApiRequestError extends Error {
  override readonly name = 'DataApiRequestError';
  /** The service's exception name, e.g. `HttpEndpointNotEnabledException`. */
  readonly awsErrorName: string;

  constructor(awsErrorName: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.awsErrorName = awsErrorName;
  }
}

interface ServiceErrorShape {
  readonly name: string;
  readonly message: string;
  readonly status: number | undefined;
  readonly code: string | undefined;
}

function shape(error: unknown): ServiceErrorShape {
  const e = error as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(error),
    status:
      typeof e?.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined,
    code: typeof e?.code === 'string' ? e.code : undefined,
  };
}

/** Answers that are safe to repeat: the service did not run the statement. */
const TRANSIENT_NAMES = new Set([
  'DatabaseResumingException',
  'ServiceUnavailableError',
  'DatabaseUnavailableException',
  'ThrottlingException',
  'TooManyRequestsException',
]);

/** Connection failures before a request was sent (nothing can have run). */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Whether a failed call may be sent again. Deliberately narrow: an internal error (500), a reset
 * connection or a client timeout may come after the statement committed, so they are not retried.
 */
export function isRetryable(error: unknown): boolean {
  const { name, status, code } = shape(error);
  if (TRANSIENT_NAMES.has(name)) return true;
  if (status === 429 || status === 502 || status === 503 || status === 504) return true;
  return code !== undefined && NOT_SENT_CODES.has(code);
}

const SQL_STATE_SUFFIX = /;?\s*SQLState:\s*([0-9A-Z]{5})\s*$/;

/**
 * Parses a `DatabaseErrorException` message, which carries the server error the way pgjdbc
 * prints it: `ERROR: <message>\n  Detail: ...\n  Hint: ...; SQLState: 23505`. Only the first
 * line becomes the SqlError message (the same text the `pg` driver reports); Detail lines may
 * hold row values and stay in the cause only.
 */
export function parseDatabaseError(message: string): {
  message: string;
  sqlState: string | undefined;
  constraint: string | undefined;
} {
  const state = SQL_STATE_SUFFIX.exec(message);
  const body = state ? message.slice(0, state.index) : message;
  const firstLine = (body.split('\n')[0] ?? '').replace(/^(ERROR|FATAL|PANIC):\s*/, '').trim();
  const constraint = /constraint "((?:[^"]|"")+)"/.exec(firstLine)?.[1]?.replaceAll('""', '"');
  return { message: firstLine, sqlState: state?.[1], constraint };
}

const TOO_LARGE = /(response|result).{0,40}(size|large|limit)|row.{0,40}(too large|size limit)/i;

/** Maps anything the Data API client threw onto the port's errors or this adapter's typed errors. */
export function translateDataApiError(error: unknown): Error {
  const { name, message, status, code } = shape(error);
  const options = { cause: error };
  // v1 clusters reported SQL errors as BadRequestException with the same text; accept both.
  if (
    name === 'DatabaseErrorException' ||
    (name === 'BadRequestException' && SQL_STATE_SUFFIX.test(message))
  ) {
    const parsed = parseDatabaseError(message);
    if (parsed.sqlState) {
      return new SqlError(parsed.message, parsed.sqlState, parsed.constraint, options);
    }
    if (TOO_LARGE.test(message)) return new DataApiResponseTooLargeError(message, options);
    return new DataApiRequestError(name, `Data API database error: ${message}`, options);
  }
  if (name === 'StatementTimeoutException') {
    return new DataApiStatementTimeoutError(
      'the statement ran past the Data API call limit (45 s) and was cancelled',
      options,
    );
  }
  if (name === 'TransactionNotFoundException' || /Transaction .* is not found/i.test(message)) {
    return new DataApiTransactionNotFoundError(
      'the Data API transaction is gone (expired after 3 min idle, already ended, or unknown)',
      options,
    );
  }
  if (TOO_LARGE.test(message) && (status === 400 || name === 'UnsupportedResultException')) {
    return new DataApiResponseTooLargeError(
      `the result exceeds the Data API response (1 MiB) or row (64 KB) limit: ${message}`,
      options,
    );
  }
  if (name === 'AbortError') {
    return new DbUnavailableError(
      "the Data API did not answer before the invocation's deadline; the statement may or may not have run",
      options,
    );
  }
  if (name === 'TimeoutError') {
    return new DbUnavailableError(
      'the Data API did not answer within the client timeout; the statement may or may not have run',
      options,
    );
  }
  if (
    TRANSIENT_NAMES.has(name) ||
    name === 'InternalServerErrorException' ||
    name === 'DatabaseNotFoundException' ||
    name === 'InvalidResourceStateException' ||
    (status !== undefined && status >= 500) ||
    (code !== undefined && /^(E[A-Z]+)$/.test(code))
  ) {
    return new DbUnavailableError(`database unavailable: Data API answered ${name}`, options);
  }
  if (status !== undefined) {
    return new DataApiRequestError(
      name,
      `the Data API refused the call: ${name}: ${message}`,
      options,
    );
  }
  return error instanceof Error ? error : new Error(message, options);
}
