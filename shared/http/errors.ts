import type { Logger } from '@aws-lambda-powertools/logger';
import { DbUnavailableError, SqlError } from '../db/port.ts';
import { AppError, IdentityUnavailableError, ValidationError } from '../errors.ts';

/** Drydock's error body (`return_error`), plus the validation issues when there are some. */
export interface ErrorBody {
  type: 'error';
  message: string;
  retry: boolean;
  issues?: readonly { path: string; message: string }[];
  request_id?: string;
}

/**
 * The one mapping from an error to an HTTP status and body; every transport's failure path goes
 * through here. 4xx messages come from our own taxonomy and are shown; anything else is a
 * generic 500 naming the request id, with the cause in the log only.
 */
export function errorToResponse(
  error: unknown,
  requestId: string,
  logger: Pick<Logger, 'error' | 'warn' | 'info'>,
): { status: number; body: ErrorBody } {
  if (error instanceof ValidationError) {
    logger.info('request refused', { status: 400, reason: error.message, issues: error.issues });
    return {
      status: 400,
      body: {
        type: 'error',
        message: error.message,
        retry: false,
        ...(error.issues.length > 0 ? { issues: error.issues } : {}),
      },
    };
  }
  if (error instanceof AppError) {
    const log = error.status >= 500 ? logger.warn.bind(logger) : logger.info.bind(logger);
    log('request refused', {
      status: error.status,
      errorName: error.name,
      // Keystone outages say why for the log only; the caller sees the generic message.
      reason: error instanceof IdentityUnavailableError ? error.reason : error.message,
    });
    return {
      status: error.status,
      body: { type: 'error', message: error.message, retry: error.retry },
    };
  }
  if (error instanceof DbUnavailableError) {
    logger.error('database unavailable', { error: errorForLog(error) });
    return {
      status: 503,
      body: {
        type: 'error',
        message: 'The database is unavailable; retry later.',
        retry: true,
        request_id: requestId,
      },
    };
  }
  logger.error('unexpected error', { error: errorForLog(error) });
  return {
    status: 500,
    body: {
      type: 'error',
      message: `Internal error (request id ${requestId}).`,
      retry: false,
      request_id: requestId,
    },
  };
}

/**
 * Whether an error comes from a database driver. Their messages and fields (`detail`, `where`,
 * `hint`, `internalQuery`, a Data API message's `Detail:` lines) quote rows and request values:
 * a failing statement's `where` once carried a secret from a message's `extra` into the log.
 */
function isDriverError(error: Error): boolean {
  const e = error as unknown as Record<string, unknown>;
  return (
    error instanceof SqlError ||
    error.name.startsWith('DataApi') ||
    '$metadata' in e ||
    ('severity' in e && 'routine' in e) ||
    error.name === 'DatabaseError'
  );
}

/**
 * An error as the logs may show it: names, codes, SQLSTATE and constraint through the whole
 * cause chain; message and stack only for errors that are not a driver's (ours, programming
 * errors). Every log line that carries an error goes through this, never the error itself.
 * @example logger.error('unexpected error', { error: errorForLog(error) })
 */
export function errorForLog(error: unknown, depth = 0): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const e = error as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { name: error.name };
  const code = error instanceof SqlError ? error.sqlState : e.code;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  const constraint = error instanceof SqlError ? error.constraint : e.constraint;
  if (typeof constraint === 'string') out.constraint = constraint;
  if (!isDriverError(error)) {
    out.message = error.message;
    out.stack = error.stack;
  }
  if (error.cause !== undefined && depth < 5) out.cause = errorForLog(error.cause, depth + 1);
  return out;
}
