import { DbResultTooLargeError, DbUnavailableError } from '../db/port.ts';
import { errorForLog } from '../error-log.ts';
import {
  AppError,
  IdentityUnavailableError,
  MethodNotAllowedError,
  ValidationError,
} from '../errors.ts';

/** Drydock's error body (`return_error`), plus the validation issues when there are some. */
export interface ErrorBody {
  type: 'error';
  message: string;
  retry: boolean;
  issues?: readonly { path: string; message: string }[];
  request_id?: string;
}

/** Where the mapping logs: one line per error, a message and its fields. */
export interface RequestLog {
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}

/**
 * The one mapping from an error to an HTTP status and body; every transport's failure path goes
 * through here. 4xx messages come from our own taxonomy and are shown; anything else is a
 * generic 500 naming the request id, with the cause in the log only.
 */
export function errorToResponse(
  error: unknown,
  requestId: string,
  logger: RequestLog,
): { status: number; body: ErrorBody; headers?: Record<string, string> } {
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
    // A refusal is the caller's business (info), except a 5xx and a stored row too large for the
    // Data API, which only an operator can mend (warn): both should reach whoever watches warnings.
    const forOperators = error.status >= 500 || error.cause instanceof DbResultTooLargeError;
    const log = forOperators ? logger.warn.bind(logger) : logger.info.bind(logger);
    log('request refused', {
      status: error.status,
      errorName: error.name,
      // Keystone outages say why for the log only; the caller sees the generic message.
      reason: error instanceof IdentityUnavailableError ? error.reason : error.message,
    });
    return {
      status: error.status,
      body: { type: 'error', message: error.message, retry: error.retry },
      ...(error instanceof MethodNotAllowedError
        ? { headers: { Allow: error.allow.join(', ') } }
        : {}),
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
