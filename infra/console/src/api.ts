import { createApiClient } from '#shared/client/api-client.ts';

/**
 * How long a read may take before the page gives up on it and reads again at its own pace: a
 * read that never answers would otherwise hold the page's refreshes for good. Actions (writes)
 * have no such bound: the operator sees them pending and the service answers them in its time.
 */
const READ_TIMEOUT_MS = 15_000;

/**
 * The console's client: the page's own origin, which is `npm start` itself or the CLI's
 * `console` proxy (which signs each request with the operator's credentials). The header tells
 * that proxy the request comes from this page (a cross-site page cannot send it).
 */
export const api = createApiClient({
  baseUrl: window.location.origin,
  fetch: (request) => {
    request.headers.set('X-Drydock-Console', '1');
    return request.method === 'GET'
      ? window.fetch(request, { signal: AbortSignal.timeout(READ_TIMEOUT_MS) })
      : window.fetch(request);
  },
});
