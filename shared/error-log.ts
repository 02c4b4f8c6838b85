// How an error may appear in a log line, for every transport and use case alike.
import { SqlError } from './db/port.ts';

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
