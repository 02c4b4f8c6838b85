import { createHash } from 'node:crypto';

/** JSON with object keys in sorted order and `undefined` members left out, so equal requests read the same. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * The fingerprint an idempotency key is stored with: a replay under the same key must carry the
 * same request (the IETF Idempotency-Key draft's rule), else it is refused with 422 instead of
 * silently answered with what the first request created.
 * @example requestFingerprint({ action: 'deploy_nodes', design_ref: ref, node_filter: null })
 */
export function requestFingerprint(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request)).digest('base64url');
}
