import { setTimeout as sleepFor } from 'node:timers/promises';
import { brotliDecompressSync, gunzipSync, inflateSync, zstdDecompressSync } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { type AllowHosts, assertHostPermitted } from './address-guard.ts';
import { redactUrl, withoutUserinfo } from './design-ref.ts';
import { DesignRefError } from './errors.ts';
import type { DesignLogger } from './logger.ts';

/** Redirects followed per request; each hop is re-checked by the SSRF guard. */
export const MAX_REDIRECTS = 3;

/** What the HTTP fetcher needs, built once per container by `createDesignResolver`. */
export type HttpFetchContext = {
  dispatcher: Dispatcher;
  allowHosts: AllowHosts;
  /** Cap on the raw body and, separately, on the decompressed body. */
  maxBytes: number;
  /** Extra attempts after the first one, for transient failures only. */
  retries: number;
  /** First backoff step; doubled per attempt, capped by `retryMaxDelayMs`, fully jittered. */
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** Epoch milliseconds; the deadline is compared with it. */
  now: () => number;
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

// Headers that carry credentials: dropped when a redirect leaves the origin.
const CREDENTIAL_HEADERS = ['authorization', 'x-auth-token', 'cookie'];

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
  for (let attempt = 0; ; attempt++) {
    const remaining = req.deadline - ctx.now();
    if (remaining <= 0) {
      throw new DesignRefError('timeout', `${req.shown}: the deadline passed before a response`);
    }
    const signals = [AbortSignal.timeout(remaining)];
    if (req.signal) signals.push(req.signal);
    let error: DesignRefError;
    let retryAfterMs: number | undefined;
    try {
      return await attemptOnce(ctx, req, AbortSignal.any(signals));
    } catch (caught) {
      const classified = classify(caught, req);
      error = classified.error;
      retryAfterMs = classified.retryAfterMs;
      if (!classified.transient || attempt >= ctx.retries) throw error;
    }
    const step = Math.min(ctx.retryMaxDelayMs, ctx.retryBaseDelayMs * 2 ** attempt);
    const delay = Math.max(Math.round(ctx.random() * step), retryAfterMs ?? 0);
    if (ctx.now() + delay >= req.deadline) {
      // Sleeping would end past the deadline: report the real failure, not a timeout.
      throw error;
    }
    ctx.logger.warn('design reference fetch failed; retrying', {
      designRef: req.shown,
      attempt: attempt + 1,
      reason: error.message,
      delayMs: delay,
    });
    try {
      await sleepFor(delay, undefined, req.signal ? { signal: req.signal } : undefined);
    } catch {
      throw new DesignRefError('timeout', `${req.shown}: cancelled while waiting to retry`, {
        cause: error,
      });
    }
  }
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

async function attemptOnce(
  ctx: HttpFetchContext,
  req: HttpFetchRequest,
  signal: AbortSignal,
): Promise<HttpFetchResponse> {
  let url = req.url;
  let headers: Record<string, string> = { ...req.headers };
  const method = req.method ?? 'GET';
  for (let hop = 0; ; hop++) {
    const shown = hop === 0 ? req.shown : redactUrl(url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new DesignRefError(
        'refused',
        `${req.shown}: refused redirect to a ${url.protocol} URL`,
      );
    }
    assertHostPermitted(url, ctx.allowHosts, shown);
    const res = await ctx.dispatcher.request({
      origin: `${url.protocol}//${url.host}`,
      path: `${url.pathname}${url.search}`,
      method,
      headers: { 'accept-encoding': 'gzip, deflate, br', ...headers },
      body: req.body ?? null,
      signal,
    });
    const status = res.statusCode;
    const location = header(res.headers, 'location');
    if (status >= 300 && status < 400 && status !== 304 && location !== undefined) {
      await discard(res.body);
      if (method !== 'GET') {
        throw new DesignRefError('rejected', `${req.shown}: unexpected redirect (HTTP ${status})`);
      }
      if (hop >= MAX_REDIRECTS) {
        throw new DesignRefError(
          'rejected',
          `${req.shown}: more than ${MAX_REDIRECTS} redirects; giving up`,
        );
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new DesignRefError('rejected', `${req.shown}: redirect to an invalid location`);
      }
      // Credentials in a Location header are never used, and ours never follow to another origin.
      next = withoutUserinfo(next);
      if (next.origin !== url.origin) {
        headers = Object.fromEntries(
          Object.entries(headers).filter(([k]) => !CREDENTIAL_HEADERS.includes(k.toLowerCase())),
        );
      }
      url = next;
      continue;
    }
    if (status < 200 || status >= 300) {
      await discard(res.body);
      throw new HttpStatusError(status, parseRetryAfter(header(res.headers, 'retry-after')));
    }
    const declared = Number(header(res.headers, 'content-length'));
    if (Number.isFinite(declared) && declared > ctx.maxBytes) {
      res.body.destroy();
      throw tooLarge(req.shown, ctx.maxBytes);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      total += buf.length;
      if (total > ctx.maxBytes) {
        res.body.destroy();
        throw tooLarge(req.shown, ctx.maxBytes);
      }
      chunks.push(buf);
    }
    const raw = Buffer.concat(chunks, total);
    const bytes = decode(raw, header(res.headers, 'content-encoding'), ctx.maxBytes, req.shown);
    return { status, headers: res.headers, bytes };
  }
}

/** Undoes `Content-Encoding` with the output capped at `maxBytes` (a gzip bomb stops there). */
function decode(
  raw: Buffer,
  encoding: string | undefined,
  maxBytes: number,
  shown: string,
): Buffer {
  if (encoding === undefined) return raw;
  const codings = encoding
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  let out = raw;
  // Codings are listed in the order they were applied; undo them from the last.
  for (const coding of codings.reverse()) {
    const opts = { maxOutputLength: maxBytes };
    try {
      if (coding === 'gzip' || coding === 'x-gzip') out = gunzipSync(out, opts);
      else if (coding === 'deflate') out = inflateSync(out, opts);
      else if (coding === 'br') out = brotliDecompressSync(out, opts);
      else if (coding === 'zstd') out = zstdDecompressSync(out, opts);
      else throw new DesignRefError('rejected', `${shown}: unsupported content encoding`);
    } catch (error) {
      if (error instanceof DesignRefError) throw error;
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw tooLarge(shown, maxBytes, 'after decompression');
      }
      throw new DesignRefError('rejected', `${shown}: the ${coding} response body is corrupt`);
    }
  }
  return out;
}

function tooLarge(shown: string, maxBytes: number, when = ''): DesignRefError {
  return new DesignRefError(
    'too_large',
    `${shown}: the design is larger than ${maxBytes} bytes${when ? ` ${when}` : ''} (DESIGN_MAX_BYTES)`,
  );
}

type Classified = { error: DesignRefError; transient: boolean; retryAfterMs?: number };

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

function classify(caught: unknown, req: HttpFetchRequest): Classified {
  const shown = req.shown;
  const guard = findDesignRefError(caught);
  if (guard) return { error: guard, transient: false };
  if (caught instanceof HttpStatusError) {
    const s = caught.statusCode;
    if (s === 404 || s === 410) {
      return {
        error: new DesignRefError('not_found', `${shown}: not found (HTTP ${s})`, {
          upstreamStatus: s,
        }),
        transient: false,
      };
    }
    if (s === 429 || s >= 500) {
      return {
        error: new DesignRefError('unavailable', `${shown}: the source answered HTTP ${s}`, {
          upstreamStatus: s,
        }),
        transient: true,
        ...(caught.retryAfterMs !== undefined ? { retryAfterMs: caught.retryAfterMs } : {}),
      };
    }
    return {
      error: new DesignRefError('rejected', `${shown}: the source answered HTTP ${s}`, {
        upstreamStatus: s,
      }),
      transient: false,
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
      transient: false,
    };
  }
  if (err?.name === 'AbortError' || err?.name === 'TimeoutError') {
    // Our per-attempt signal is the remaining time: the deadline passed mid-request.
    return {
      error: new DesignRefError('timeout', `${shown}: no complete response before the deadline`, {
        cause: caught,
      }),
      transient: false,
    };
  }
  const code = errorCode(caught);
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
    return {
      error: new DesignRefError('too_large', `${shown}: the design is larger than the cap`),
      transient: false,
    };
  }
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return {
      error: new DesignRefError('timeout', `${shown}: timed out (${code})`, { cause: caught }),
      transient: true,
    };
  }
  if (code !== undefined && TRANSIENT_CODES.has(code)) {
    return {
      error: new DesignRefError('unavailable', `${shown}: connection failed (${code})`, {
        cause: caught,
      }),
      transient: true,
    };
  }
  return {
    error: new DesignRefError(
      'unavailable',
      `${shown}: request failed (${code ?? err?.name ?? 'unknown error'})`,
      { cause: caught },
    ),
    transient: false,
  };
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
