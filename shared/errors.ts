/**
 * The service's one error taxonomy. The store and the use cases throw these; one middleware maps
 * them to HTTP (`shared/http/errors.ts`) and the SQS consumers decide retry vs fail by the same
 * classes. Messages of 4xx errors are shown to callers, so they never carry secrets.
 */
export abstract class AppError extends Error {
  /** HTTP status this error maps to. */
  abstract readonly status: number;
  /** Whether the caller may retry the same request unchanged (Drydock's `retry` field). */
  readonly retry: boolean = false;
}

/**
 * The base of each error class: its name and its status. The name is written out, not read from
 * the class, because the Lambda bundles are minified (class names do not survive).
 */
function withStatus<S extends number>(name: string, status: S) {
  return class extends AppError {
    override readonly name: string = name;
    readonly status = status;
  };
}

/** 400: the request is malformed or violates the schema. */
export class ValidationError extends withStatus('ValidationError', 400) {
  /** Problems by JSON path, e.g. `[{ path: 'action', message: 'Invalid option' }]`. */
  readonly issues: readonly { path: string; message: string }[];

  constructor(
    message: string,
    issues: readonly { path: string; message: string }[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.issues = issues;
  }
}

/** 401: the caller did not authenticate (no token, or one that is not valid). */
export class UnauthorizedError extends withStatus('UnauthorizedError', 401) {}

/** 403: the caller is authenticated but not allowed to do this. */
export class ForbiddenError extends withStatus('ForbiddenError', 403) {}

/** 404: the task (or other resource) does not exist. */
export class NotFoundError extends withStatus('NotFoundError', 404) {}

/** 405: the path exists, not with this method; `allow` lists the methods it takes. */
export class MethodNotAllowedError extends withStatus('MethodNotAllowedError', 405) {
  readonly allow: readonly string[];

  constructor(allow: readonly string[], message: string) {
    super(message);
    this.allow = allow;
  }
}

/** 409: the change conflicts with the current state (stale version, refused transition, duplicate). */
export class ConflictError extends withStatus('ConflictError', 409) {}

/** 409: a retry past its `max_attempts` (Drydock's `MaxRetriesReached`); the task says so too. */
export class MaxRetriesReachedError extends ConflictError {
  override readonly name = 'MaxRetriesReachedError';
}

/** 422: the request is well formed but cannot be applied (an idempotency key replayed with another body). */
export class UnprocessableError extends withStatus('UnprocessableError', 422) {}

/** 428: a write that must be conditional came without its precondition (If-Match or a lease epoch). */
export class PreconditionRequiredError extends withStatus('PreconditionRequiredError', 428) {}

/** 412: a precondition of the write does not hold (the caller is not the current lease holder). */
export class PreconditionFailedError extends withStatus('PreconditionFailedError', 412) {}

/** 412: the write carried a lease epoch that is no longer current (fenced). */
export class LeaseLostError extends PreconditionFailedError {
  override readonly name = 'LeaseLostError';
}

/** 413: the request body or one of its values is larger than the service accepts. */
export class PayloadTooLargeError extends withStatus('PayloadTooLargeError', 413) {}

/** 415: the request body is in an encoding or media type the service does not take. */
export class UnsupportedMediaTypeError extends withStatus('UnsupportedMediaTypeError', 415) {}

/** 503: the database (or another dependency) is unreachable; retrying later may succeed. */
export class UnavailableError extends withStatus('UnavailableError', 503) {
  override readonly retry = true;
}

/** What callers are told when Keystone cannot answer (the local server and API Gateway alike). */
export const IDENTITY_UNAVAILABLE_MESSAGE =
  'The identity service (Keystone) is unavailable; retry later.';

/**
 * 503: Keystone cannot answer whether a token is valid (down, slow, refusing the service's own
 * credentials). Callers see one generic message; `reason` (status codes and setting names, never
 * a token or credential) is for the log.
 */
export class IdentityUnavailableError extends UnavailableError {
  override readonly name = 'IdentityUnavailableError';
  readonly reason: string;

  constructor(reason: string, options?: ErrorOptions) {
    super(IDENTITY_UNAVAILABLE_MESSAGE, options);
    this.reason = reason;
  }
}

/**
 * What a client of the service (the CLI, the console) throws for an answer that is not a
 * success: the status and Drydock's error body as the service sent them. Not mapped by the
 * service; it is the other side of the mapping above.
 */
export class ApiAnswerError extends Error {
  override readonly name = 'ApiAnswerError';
  readonly status: number;
  /** The parsed body (Drydock's `{type, message, retry}` or a Status), or the raw text. */
  readonly body: unknown;
  readonly retry: boolean;

  constructor(status: number, body: unknown, what: string) {
    const detail =
      typeof body === 'object' && body !== null && 'message' in body
        ? String((body as { message: unknown }).message)
        : typeof body === 'string' && body !== ''
          ? body.slice(0, 200)
          : 'no details';
    super(`${what}: ${status} ${detail}`);
    this.status = status;
    this.body = body;
    this.retry =
      typeof body === 'object' && body !== null && 'retry' in body
        ? (body as { retry: unknown }).retry === true
        : status >= 500;
  }
}

/** A command line the CLI cannot run: the message says what to change. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
