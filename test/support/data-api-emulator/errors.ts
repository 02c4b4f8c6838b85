/*
 * The Data API's modelled exceptions with their HTTP statuses (reference/aws.md §1.9), and the
 * pgjdbc-style text the service puts in a DatabaseErrorException.
 */

/** Exception name → the HTTP status the service model gives it. */
export const STATUS = {
  BadRequestException: 400,
  DatabaseErrorException: 400,
  StatementTimeoutException: 400,
  DatabaseResumingException: 400,
  HttpEndpointNotEnabledException: 400,
  InvalidSecretException: 400,
  SecretsErrorException: 400,
  UnsupportedResultException: 400,
  AccessDeniedException: 403,
  ForbiddenException: 403,
  NotFoundException: 404,
  TransactionNotFoundException: 404,
  DatabaseNotFoundException: 404,
  InternalServerErrorException: 500,
  ServiceUnavailableError: 503,
  DatabaseUnavailableException: 504,
} as const;

/** The exception names the emulator can answer with. */
export type ExceptionName = keyof typeof STATUS;

/** An answer the emulator sends as an error: `x-amzn-ErrorType` header + JSON body. */
export class EmulatedError extends Error {
  override readonly name = 'EmulatedError';
  readonly type: ExceptionName;
  /** Extra modelled body members (StatementTimeoutException's `dbConnectionId`). */
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(type: ExceptionName, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.type = type;
    this.extra = extra;
  }

  get status(): number {
    return STATUS[this.type];
  }
}

interface PgErrorFields {
  severity?: string;
  message: string;
  code?: string;
  detail?: string;
  hint?: string;
  position?: string;
  where?: string;
}

/**
 * A server error as the JDBC driver prints it (severity, message, then indented Detail / Hint /
 * Position / Where lines), followed by `; SQLState: xxxxx` as the Data API appends it.
 */
export function pgjdbcMessage(error: PgErrorFields): string {
  let text = `${error.severity ?? 'ERROR'}: ${error.message}`;
  if (error.detail) text += `\n  Detail: ${error.detail}`;
  if (error.hint) text += `\n  Hint: ${error.hint}`;
  if (error.position) text += `\n  Position: ${error.position}`;
  if (error.where) text += `\n  Where: ${error.where}`;
  return `${text}; SQLState: ${error.code ?? 'XX000'}`;
}

/** A Postgres error (from `pg`) as the Data API reports it. */
export function databaseError(error: unknown): EmulatedError {
  const e = error as PgErrorFields & { code?: unknown };
  if (typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
    return new EmulatedError('DatabaseErrorException', pgjdbcMessage(e));
  }
  return new EmulatedError(
    'DatabaseErrorException',
    `Database error: ${(error as Error)?.message ?? String(error)}`,
  );
}
