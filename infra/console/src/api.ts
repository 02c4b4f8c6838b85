import { createApiClient } from '#shared/client/api-client.ts';

/**
 * The console's client: the page's own origin, which is `npm start` itself or the CLI's
 * `console` proxy (which signs each request with the operator's credentials). The header tells
 * that proxy the request comes from this page (a cross-site page cannot send it).
 */
export const api = createApiClient({
  baseUrl: window.location.origin,
  fetch: (request) => {
    request.headers.set('X-Drydock-Console', '1');
    return window.fetch(request);
  },
});
