import type { Dispatcher } from 'undici';
import { type AttemptFailure, type RetryClock, retryWithinDeadline } from '../retry.ts';
import { DesignRefError } from './errors.ts';
import type { DesignLogger } from './logger.ts';

/** Redirects a GET follows; each hop's connection passes the SSRF guard in the agent's `connect`. */
export const MAX_REDIRECTS = 3;

/** What the HTTP fetcher needs, built once per container by `createDesignResolver`. */
export type HttpFetchContext = {
  /**
   * The guarded agent composed with undici's `redirect` and `decompress` interceptors
   * (`createDesignResolver`): it caps the raw body (`maxResponseSize`) and the decompressed one
   * (`maxSize`), and follows redirects when a request asks for them.
   */
  dispatcher: Dispatcher;
  /** The caps above, for messages. */
  maxBytes: number;
  /** Extra attempts after the first one, for transient failures only. */
  retries: number;
  /** First backoff step; doubled per attempt, capped by `retryMaxDelayMs`, fully jittered. */
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** The deadline is compared with its `now`; the backoff waits with its `sleep`. */
  clock: RetryClock;
  random: () => number;
  logger: DesignLogger;
};

/** One HTTP exchange to perform. */
export type HttpFetchRequest = {
  url: URL;
  /** How the target is named in logs and errors (credentials stripped). */
  shown: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Absolute epoch-ms deadline: no attempt starts, and no backoff sleeps, past it. */
  deadline: number;
  signal?: AbortSignal;
};

/** A successful (2xx) response, fully read and decompressed. */
export type HttpFetchResponse = {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
};

/**
 * GETs (or POSTs) a URL with bounded, jittered retries of transient failures (connection
 * errors, timeouts of one attempt, 5xx, 429) that never run past `deadline`; follows at most
 * three redirects, re-checking each target; accepts only 2xx; caps the body before and after
 * decompression. Every failure is a `DesignRefError` naming the target by `shown` only.
 */
export async function fetchHttp(
  ctx: HttpFetchContext,
  req: HttpFetchRequest,
): Promise<HttpFetchResponse> {
  return retryWithinDeadline(
    async () => {
      const remaining = req.deadline - ctx.clock.now();
      if (remaining <= 0) {
        throw new DesignRefError('timeout', `${req.shown}: the deadline passed before a response`);
      }
      const signals = [AbortSignal.timeout(remaining)];
      if (req.signal) signals.push(req.signal);
      return attemptOnce(ctx, req, AbortSignal.any(signals));
    },
    {
      judge: (caught) => classify(caught, req, ctx),
      retries: ctx.retries,
      baseDelayMs: ctx.retryBaseDelayMs,
      maxDelayMs: ctx.retryMaxDelayMs,
      jitter: 'full',
      deadline: req.deadline,
      clock: ctx.clock,
      random: ctx.random,
      ...(req.signal ? { signal: req.signal } : {}),
      onRetry: ({ error }, { attempt, delayMs }) =>
        ctx.logger.warn('design reference fetch failed; retrying', {
          designRef: req.shown,
          attempt,
          reason: (error as Error).message,
          delayMs,
        }),
      cancelled: ({ error }) =>
        new DesignRefError('timeout', `${req.shown}: cancelled while waiting to retry`, {
          cause: error,
        }),
    },
  );
}

class HttpStatusError extends Error {
  readonly statusCode: number;
  readonly retryAfterMs: number | undefined;
  constructor(statusCode: number, retryAfterMs: number | undefined) {
    super(`HTTP ${statusCode}`);
    this.statusCode = statusCode;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Per-request options of undici's redirect interceptor (not in `Dispatcher.RequestOptions`). */
type RedirectOptions = {
  maxRedirections?: number;
  throwOnMaxRedirect?: boolean;
  stripHeadersOnCrossOriginRedirect?: string[];
};

async function attemptOnce(
  ctx: HttpFetchContext,
  req: HttpFetchRequest,
  signal: AbortSignal,
): Promise<HttpFetchResponse> {
  const method = req.method ?? 'GET';
  // Only a GET follows redirects (a POST is Keystone's token request, which never redirects).
  // Credentials in a Location header are never used (undici requests the origin and path), and
  // ours never follow to another origin: undici drops authorization and cookie, and we name
  // Keystone's token header.
  const redirects: RedirectOptions =
    method === 'GET'
      ? {
          maxRedirections: MAX_REDIRECTS,
          throwOnMaxRedirect: true,
          stripHeadersOnCrossOriginRedirect: ['x-auth-token'],
        }
      : {};
  const options: Dispatcher.RequestOptions & RedirectOptions = {
    origin: req.url.origin,
    path: `${req.url.pathname}${req.url.search}`,
    method,
    headers: { 'accept-encoding': 'gzip, deflate, br', ...req.headers },
    body: req.body ?? null,
    signal,
    ...redirects,
  };
  const res = await ctx.dispatcher.request(options);
  const status = res.statusCode;
  if (status < 200 || status >= 300) {
    await discard(res.body);
    throw new HttpStatusError(status, parseRetryAfter(header(res.headers, 'retry-after')));
  }
  // The decompress interceptor removes the header of a coding it undid; one left is one it
  // does not know, and undecoded bytes are never taken for a design.
  const coding = header(res.headers, 'content-encoding')?.trim().toLowerCase();
  if (coding !== undefined && coding !== '' && coding !== 'identity') {
    await discard(res.body);
    throw new DesignRefError('rejected', `${req.shown}: unsupported content encoding`);
  }
  const bytes = Buffer.from(await res.body.arrayBuffer());
  return { status, headers: res.headers, bytes };
}

function tooLarge(shown: string, maxBytes: number, when = ''): DesignRefError {
  return new DesignRefError(
    'too_large',
    `${shown}: the design is larger than ${maxBytes} bytes${when ? ` ${when}` : ''} (DESIGN_MAX_BYTES)`,
  );
}

type Classified = AttemptFailure & { error: DesignRefError };

// Error codes of failures that may pass if tried again (node net/dns and undici).
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function classify(caught: unknown, req: HttpFetchRequest, ctx: HttpFetchContext): Classified {
  const shown = req.shown;
  const guard = findDesignRefError(caught);
  if (guard) return { error: guard, retryable: false };
  if (caught instanceof HttpStatusError) {
    const s = caught.statusCode;
    if (s === 404 || s === 410) {
      return {
        error: new DesignRefError('not_found', `${shown}: not found (HTTP ${s})`, {
          upstreamStatus: s,
        }),
        retryable: false,
      };
    }
    if (s === 429 || s >= 500) {
      return {
        error: new DesignRefError('unavailable', `${shown}: the source answered HTTP ${s}`, {
          upstreamStatus: s,
        }),
        retryable: true,
        ...(caught.retryAfterMs !== undefined ? { retryAfterMs: caught.retryAfterMs } : {}),
      };
    }
    return {
      error: new DesignRefError('rejected', `${shown}: the source answered HTTP ${s}`, {
        upstreamStatus: s,
      }),
      retryable: false,
    };
  }
  const err = caught as { name?: string; code?: string };
  if (req.signal?.aborted) {
    // The resolver's own budget and a caller's timeout abort with a TimeoutError reason.
    const deadline = (req.signal.reason as { name?: string } | undefined)?.name === 'TimeoutError';
    return {
      error: new DesignRefError(
        'timeout',
        deadline
          ? `${shown}: no complete response before the deadline`
          : `${shown}: cancelled by the caller`,
        { cause: caught },
      ),
      retryable: false,
    };
  }
  if (err?.name === 'AbortError' || err?.name === 'TimeoutError') {
    // Our per-attempt signal is the remaining time: the deadline passed mid-request.
    return {
      error: new DesignRefError('timeout', `${shown}: no complete response before the deadline`, {
        cause: caught,
      }),
      retryable: false,
    };
  }
  const code = errorCode(caught);
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
    // The agent's raw cap and the decompress interceptor's cap raise the same error; the
    // interceptor's message names the decompressed size (a gzip bomb stops there).
    const decompressed = /decompress/i.test(errorMessage(caught));
    return {
      error: tooLarge(shown, ctx.maxBytes, decompressed ? 'after decompression' : ''),
      retryable: false,
    };
  }
  const redirect = redirectFailure(code, caught, shown);
  if (redirect) return { error: redirect, retryable: false };
  if (code !== undefined && ZLIB_CODE.test(code)) {
    return {
      error: new DesignRefError('rejected', `${shown}: the compressed response body is corrupt`),
      retryable: false,
    };
  }
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return {
      error: new DesignRefError('timeout', `${shown}: timed out (${code})`, { cause: caught }),
      retryable: true,
    };
  }
  if (code !== undefined && TRANSIENT_CODES.has(code)) {
    return {
      error: new DesignRefError('unavailable', `${shown}: connection failed (${code})`, {
        cause: caught,
      }),
      retryable: true,
    };
  }
  return {
    error: new DesignRefError(
      'unavailable',
      `${shown}: request failed (${code ?? err?.name ?? 'unknown error'})`,
      { cause: caught },
    ),
    retryable: false,
  };
}

// Errors of node:zlib's gzip, deflate, brotli and zstd streams (`Z_DATA_ERROR`,
// `ERR__ERROR_FORMAT_PADDING_1`, `ZSTD_error_…`).
const ZLIB_CODE = /^(Z_|ERR__|ERR_ZSTD|ZSTD_|ERR_BROTLI)/;

/** What undici's redirect interceptor raises, as the fetcher reports it. */
function redirectFailure(
  code: string | undefined,
  caught: unknown,
  shown: string,
): DesignRefError | undefined {
  if (code === 'UND_ERR_REDIRECT_MAX') {
    return new DesignRefError(
      'rejected',
      `${shown}: more than ${MAX_REDIRECTS} redirects; giving up`,
    );
  }
  if (code === 'ERR_INVALID_URL') {
    return new DesignRefError('rejected', `${shown}: redirect to an invalid location`);
  }
  if (code === 'UND_ERR_INVALID_ARG') {
    const message = errorMessage(caught);
    // Our requests are always http(s): an other protocol came from a Location header.
    if (/protocol/i.test(message)) {
      return new DesignRefError('refused', `${shown}: refused redirect to a non-HTTP URL`);
    }
    if (/redirect loop/i.test(message)) {
      return new DesignRefError('rejected', `${shown}: redirect loop; giving up`);
    }
  }
  return undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : '';
}

/** The guard's refusal may arrive wrapped (socket error, AggregateError of several addresses). */
function findDesignRefError(error: unknown, depth = 0): DesignRefError | undefined {
  if (depth > 5 || error === null || typeof error !== 'object') return undefined;
  if (error instanceof DesignRefError) return error;
  const nested = (error as { errors?: unknown[] }).errors;
  if (Array.isArray(nested)) {
    for (const e of nested) {
      const found = findDesignRefError(e, depth + 1);
      if (found) return found;
    }
  }
  return findDesignRefError((error as { cause?: unknown }).cause, depth + 1);
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string') return code;
  const nested = (error as { errors?: unknown[] })?.errors;
  if (Array.isArray(nested)) return errorCode(nested[0]);
  const cause = (error as { cause?: unknown })?.cause;
  return cause ? errorCode(cause) : undefined;
}

function header(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

async function discard(body: Dispatcher.ResponseData['body']): Promise<void> {
  // Error pages are never read into memory, let alone ingested; a small drain keeps the
  // keep-alive connection reusable.
  try {
    await body.dump({ limit: 64 * 1024 });
  } catch {
    // A broken error body changes nothing about the outcome.
  }
}
