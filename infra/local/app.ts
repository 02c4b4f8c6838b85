import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate } from 'node:timers/promises';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { AnyRoute } from '#shared/http/route.ts';
import { createRouter, type RouteMatch } from '#shared/http/router.ts';
import { parseQueryString } from '#shared/input.ts';
import type { HttpFunction, LazyHttpFunction, RouteKey } from './functions.ts';
import type { RequestGate } from './keystone.ts';
import {
  apiGatewayEvent,
  type Deployment,
  type IamCaller,
  lambdaContext,
} from './lambda-events.ts';
import type { LocalRoutes } from './live-routes.ts';
import { isApiPath, type StaticFiles } from './static-files.ts';

// Not `import { createServer } from 'node:http'`: the first ESM import of a builtin builds its
// module facade, reading every export, and node:http's lazy `WebSocket` getter then loads Node's
// whole internal undici (about 40 ms of CPU at every start, for nothing the server uses).
const { createServer } = process.getBuiltinModule('node:http');

/** Where local functions run, as a deployed stack's account, region and API would say. */
export const LOCAL_DEPLOYMENT: Deployment = {
  accountId: '000000000000',
  region: 'local',
  apiId: 'local',
  stage: 'local',
  resourceId: 'local',
};

/** The identity every local request carries, as API Gateway's IAM authoriser would report it. */
export const LOCAL_IDENTITY: IamCaller = {
  userArn: 'arn:aws:iam::000000000000:user/local-developer',
  caller: 'AIDALOCALDEVELOPER000',
  accessKey: null,
};

/**
 * Bodies beyond this are refused here with 413 before they are buffered: API Gateway's own
 * payload limit. The handlers apply the (smaller) MAX_BODY_BYTES themselves.
 */
const GATEWAY_MAX_BYTES = 10 * 1024 * 1024;

function headerPairs(req: IncomingMessage): [string, string][] {
  const raw = req.rawHeaders;
  const pairs: [string, string][] = new Array(raw.length / 2);
  for (let i = 0; i < raw.length; i += 2) pairs[i / 2] = [raw[i] as string, raw[i + 1] as string];
  return pairs;
}

/**
 * The API Gateway REST API proxy event for an HTTP request, shaped as the Lambdas receive it in
 * AWS (IAM-authorised, stage `local`), so the local server exercises the same handler code.
 */
export function toApiGatewayEvent(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  resource: string,
  pathParameters: Record<string, string> | null,
): APIGatewayProxyEvent {
  return apiGatewayEvent(
    {
      method: req.method ?? 'GET',
      path: url.pathname,
      resource,
      pathParameters,
      headers: headerPairs(req),
      // Decoded here rather than by URLSearchParams, which turns an invalid escape into U+FFFD.
      query: url.search === '' ? [] : parseQueryString(url.search),
      body,
      iam: LOCAL_IDENTITY,
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      protocol: `HTTP/${req.httpVersion}`,
    },
    LOCAL_DEPLOYMENT,
  );
}

/** A Lambda context for a local invocation (30 s, like the deployed API functions). */
export function localContext(functionName: string, timeoutMs = 30_000): Context {
  return lambdaContext(functionName, LOCAL_DEPLOYMENT, { timeoutMs });
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// Encoding a string answer to bytes is synchronous: a resolved design can be megabytes (tens of
// milliseconds to encode), so large answers are written a slice at a time, giving the event loop
// back between slices, and one response never holds up the others.
const WRITE_SLICE_CHARS = 256 * 1024;

/**
 * Resolves once the response can take more bytes or has closed, and takes both listeners off
 * either way: a race of `once(res, 'drain')` and `once(res, 'close')` left the loser (and its
 * `error` listener) behind at every slice, until Node warned of a listener leak.
 */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Writes a Lambda answer to the HTTP response (exported for its tests). */
export async function send(res: ServerResponse, result: APIGatewayProxyResult): Promise<void> {
  const body = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
  const headers = (result.headers ?? {}) as Record<string, string>;
  if (typeof body !== 'string' || body.length <= WRITE_SLICE_CHARS) {
    res.writeHead(result.statusCode, {
      ...headers,
      // A HEAD answer has no body but says how long the GET body is.
      'Content-Length':
        body.length === 0 ? (headers['Content-Length'] ?? 0) : Buffer.byteLength(body),
    });
    res.end(body);
    return;
  }
  // Sent chunked: its byte length would be one more pass over megabytes on the event loop.
  res.writeHead(result.statusCode, headers);
  for (let start = 0; start < body.length; ) {
    let end = Math.min(start + WRITE_SLICE_CHARS, body.length);
    // Never split a surrogate pair: each slice is encoded on its own.
    const last = body.charCodeAt(end - 1);
    if (end < body.length && last >= 0xd800 && last <= 0xdbff) end--;
    const flushed = res.write(body.slice(start, end));
    start = end;
    await (flushed ? setImmediate() : drainedOrClosed(res));
    // The caller went away: nothing more to send.
    if (res.destroyed) return;
  }
  res.end();
}

interface Dispatch {
  fn: LazyHttpFunction;
  match: RouteMatch<RouteKey>;
}

/**
 * An HTTP server that hands each request to the function owning its path, as API Gateway's
 * route table would, importing that function's module on the first request it owns. A path no
 * function owns still goes to a handler (the first one), so the 404 has the same body and
 * headers as a deployed API's.
 */
export function createLocalServer(
  functions: readonly LazyHttpFunction[],
  gate?: RequestGate,
  options: { staticFiles?: StaticFiles | undefined; liveRoutes?: LocalRoutes | undefined } = {},
): Server {
  if (functions.length === 0) throw new Error('no HTTP functions found under functions/');
  const routers = functions.map((fn) => ({ fn, route: createRouter(fn.routes) }));
  // Each loaded function: its handler, its routes and, for each of its manifest's routes, the
  // function's own route with the same method and path, so a request the manifest's router already
  // matched takes the route itself (the gate reads its policy) without a second pass over the
  // table, nor a `METHOD path` string built and hashed for every request.
  interface Loaded {
    readonly handler: HttpFunction['handler'];
    readonly byManifestRoute: ReadonlyMap<RouteKey, AnyRoute>;
    /** The function's own router, built at load: for a manifest older than the function. */
    readonly ownRouter: (method: string, path: string) => RouteMatch;
  }
  const loaded = new Map<LazyHttpFunction, Loaded>();
  const load = async (fn: LazyHttpFunction): Promise<Loaded> => {
    const module: HttpFunction = await fn.load();
    let entry = loaded.get(fn);
    if (!entry) {
      const byKey = new Map(module.routes.map((route) => [`${route.method} ${route.path}`, route]));
      const byManifestRoute = new Map<RouteKey, AnyRoute>();
      for (const key of fn.routes) {
        const route = byKey.get(`${key.method} ${key.path}`);
        if (route) byManifestRoute.set(key, route);
      }
      entry = { handler: module.handler, byManifestRoute, ownRouter: createRouter(module.routes) };
      loaded.set(fn, entry);
    }
    return entry;
  };
  /** The loaded function's match for a request the manifest's router matched as `owner`. */
  const matchOf = (
    entry: Loaded,
    owner: RouteMatch<RouteKey>,
    method: string,
    path: string,
  ): RouteMatch => {
    // A 404, a 405 or OPTIONS carries no route: the manifest's answer is the function's own (the
    // OpenAPI test keeps the manifest the functions' routes).
    if (owner.kind !== 'found') return owner;
    const route = entry.byManifestRoute.get(owner.route);
    if (route) return { kind: 'found', route, params: owner.params };
    // A manifest older than the function (until `npm run openapi`): its own table decides.
    return entry.ownRouter(method, path);
  };
  const dispatch = (method: string, path: string): Dispatch => {
    let fallback: Dispatch | undefined;
    for (const { fn, route } of routers) {
      const match = route(method, path);
      if (match.kind === 'found') return { fn, match };
      // A path some function owns with other methods (or OPTIONS): that function answers.
      if (match.kind === 'method-not-allowed' || match.kind === 'options')
        fallback ??= { fn, match };
    }
    return fallback ?? { fn: functions[0] as LazyHttpFunction, match: { kind: 'not-found' } };
  };

  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // Everything outside the API is the console's (a static single-page app), when it is served.
    if (options.staticFiles && !isApiPath(url.pathname)) {
      options.staticFiles.serve(req, res).catch((error: unknown) => {
        console.error('local server: static file error', error);
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end('Local server error.\n');
      });
      return;
    }
    // The local-only routes (event stream, metrics) are not Lambdas: they answer here.
    if (options.liveRoutes?.(req, res, url)) return;
    const { fn, match: owner } = dispatch(req.method ?? 'GET', url.pathname);
    readBody(req, GATEWAY_MAX_BYTES)
      .then(async (body) => {
        if (body === null) {
          await send(res, {
            statusCode: 413,
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({
              type: 'error',
              message: 'Request body too large.',
              retry: false,
            }),
          });
          return;
        }
        // A function already loaded is used as it is: no promise turn per request for its import.
        const entry = loaded.get(fn) ?? (await load(fn));
        const { handler } = entry;
        const match = matchOf(entry, owner, req.method ?? 'GET', url.pathname);
        const resource = match.kind === 'found' ? match.route.path : url.pathname;
        const params = match.kind === 'found' ? match.params : null;
        const event = toApiGatewayEvent(req, url, body, resource, params);
        const refused = gate ? await gate(event, match) : undefined;
        await send(res, refused ?? (await handler(event, localContext(`drydock-${fn.name}`))));
      })
      .catch((error: unknown) => {
        // The handlers map every error themselves; reaching here is a bug in this host.
        console.error('local server: unhandled error', error);
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', message: 'Local server error.', retry: false }));
      });
  });
}

/** Starts listening; resolves with the bound address (port 0 picks a free one). */
export function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
