import { AppError } from '#shared/errors.ts';

/**
 * Why a design reference could not be resolved. The reason decides the HTTP status:
 * - `refused`: the service will not fetch it (blocked address, outside the file roots, scheme
 *   disabled, credentials where they are not allowed) → 400; retrying changes nothing.
 * - `not_found`: the source answered that the design does not exist (HTTP 404/410, missing file,
 *   S3 NoSuchKey) → 400, the reference is wrong.
 * - `rejected`: the source refused us with another 4xx (401, 403, ...) → 502, since it is the
 *   service's credentials or the source's policy that must change, not the caller's request.
 * - `too_large`: the design (raw or decompressed) exceeds `DESIGN_MAX_BYTES` → 413.
 * - `unavailable`: connection failures, 5xx and 429 after the bounded retries, invalid responses
 *   → 502, retryable.
 * - `timeout`: the deadline or a connect/header/body timeout ran out → 504, retryable.
 */
export type DesignRefFailure =
  | 'refused'
  | 'not_found'
  | 'rejected'
  | 'too_large'
  | 'unavailable'
  | 'timeout';

const STATUS_BY_FAILURE: Readonly<Record<DesignRefFailure, number>> = {
  refused: 400,
  not_found: 400,
  rejected: 502,
  too_large: 413,
  unavailable: 502,
  timeout: 504,
};

/**
 * A design reference could not be resolved. Its message names the reference only with its
 * credentials stripped and never quotes a response body, so it is safe to show to callers.
 */
export class DesignRefError extends AppError {
  override readonly name = 'DesignRefError';
  readonly status: number;
  override readonly retry: boolean;
  readonly failure: DesignRefFailure;
  /** The HTTP status the source answered, when the failure is an HTTP answer. */
  readonly upstreamStatus: number | undefined;

  constructor(
    failure: DesignRefFailure,
    message: string,
    options?: ErrorOptions & { upstreamStatus?: number },
  ) {
    super(message, options);
    this.failure = failure;
    this.upstreamStatus = options?.upstreamStatus;
    this.status = STATUS_BY_FAILURE[failure];
    this.retry = failure === 'unavailable' || failure === 'timeout';
  }
}
