import { ValidationError } from '../errors.ts';
import { principalOf } from './request.ts';
import type { RouteRequest } from './route.ts';

/** A strong ETag carrying the task version. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * The expected version from `If-Match` (`"3"`, `W/"3"` or `3`); undefined when absent. Anything
 * else (a list, `*`, an unbalanced quote, garbage) is a 400: a conditional update must name
 * exactly one version. A repeated header is refused before this (`assertSoundHeaders`).
 */
export function parseIfMatch(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const m = /^\s*(?:W\/"(\d{1,9})"|"(\d{1,9})"|(\d{1,9}))\s*$/.exec(value);
  if (!m) {
    throw new ValidationError('If-Match must be one task version, e.g. If-Match: "3".', [
      { path: 'headers.if-match', message: 'expected one version' },
    ]);
  }
  return Number(m[1] ?? m[2] ?? m[3]);
}

/** The `Idempotency-Key` header, bounded like every other key. */
export function idempotencyKeyOf(
  headers: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const key = headers['idempotency-key'];
  if (key === undefined || key === '') return undefined;
  if (key.length > 256) {
    throw new ValidationError('Idempotency-Key is longer than 256 characters.', [
      { path: 'headers.idempotency-key', message: 'too long' },
    ]);
  }
  return key;
}

/**
 * The stored context of a write: who and which request, never credentials or headers wholesale
 * (Drydock stored the context double-encoded and lost it on the first reload, defect 18).
 */
export function requestContextOf(
  request: RouteRequest<unknown, unknown, unknown>,
): Record<string, unknown> {
  const keystone = request.caller.keystone;
  return {
    source: 'api',
    request_id: request.requestId,
    principal: principalOf(request.caller),
    account_id: request.caller.accountId,
    source_ip: request.caller.sourceIp,
    // Drydock's own context fields for a Keystone caller (its `DrydockRequestContext`).
    ...(keystone
      ? {
          auth: 'keystone',
          user_id: keystone.userId,
          user_domain_id: keystone.userDomainId,
          project_id: keystone.projectId,
          project_domain_id: keystone.projectDomainId,
          roles: keystone.roles,
          is_admin_project: keystone.isAdminProject,
        }
      : {}),
  };
}

/** `created_by`, the stored context and the request's idempotency key, from the request. */
export function originOf(request: RouteRequest<unknown, unknown, unknown>) {
  return {
    createdBy: principalOf(request.caller),
    requestContext: requestContextOf(request),
    requestKey: idempotencyKeyOf(request.headers),
  };
}

/** `Link: <…>; rel="next"` for a page, built from the path and the next page's query. */
export function nextLink(path: string, query: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) search.set(key, String(value));
  }
  return `<${path}?${search.toString()}>; rel="next"`;
}

/**
 * Headers of a list answer that stopped before the end: the cursor of the rest and the link that
 * reads it (the same path and filters, with `cursor`); none when nothing was left out.
 */
export function nextPageHeaders(
  path: string,
  query: Record<string, string | number | boolean | undefined>,
  nextCursor: string | null,
): Record<string, string> {
  if (nextCursor === null) return {};
  const next: Record<string, string | number | undefined> = {};
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== false) next[key] = String(value);
  }
  next.cursor = nextCursor;
  return { 'X-Next-Cursor': nextCursor, Link: nextLink(path, next) };
}
