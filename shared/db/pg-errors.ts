import { DbUnavailableError, SqlError } from './port.ts';

// The mapping shared by the pg and PGlite adapters, in a module of its own so that neither
// PGlite's adapter nor a Data API bundle loads the `pg` driver to reach it.

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** Maps a node-postgres (or PGlite) failure onto the port's error types. */
export function translatePgError(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (
      UNAVAILABLE_CODES.has(code) ||
      code.startsWith('08') ||
      code === '57P01' ||
      code === '57P03' ||
      code === '53300'
    ) {
      return new DbUnavailableError(`database unavailable (${code})`, { cause: error });
    }
    if (/^[0-9A-Z]{5}$/.test(code)) {
      const constraint = (error as { constraint?: unknown }).constraint;
      return new SqlError(
        error.message,
        code,
        typeof constraint === 'string' ? constraint : undefined,
        {
          cause: error,
        },
      );
    }
  }
  if (
    /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/.test(
      error.message,
    )
  ) {
    return new DbUnavailableError('database unavailable', { cause: error });
  }
  if (error.message === 'Query read timeout') {
    return new DbUnavailableError(
      'the database did not answer within the statement deadline; the statement may or may not have run',
      { cause: error },
    );
  }
  return error;
}
