import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import * as z from '#shared/zod.ts';
import { enforcePolicy } from '../auth/enforce.ts';
import type { Deps } from '../deps.ts';
import { MethodNotAllowedError, NotFoundError, ValidationError } from '../errors.ts';
import { assertSoundInput } from '../input.ts';
import { addInvocationLogKeys } from '../invocation.ts';
import { beforeDeadline, createLambdaKit, type KitOptions, type LambdaKit } from '../lambda-kit.ts';
import { validate } from '../validate.ts';
import { errorToResponse } from './errors.ts';
import { assertSoundHeaders, callerOf, parseJsonBody, queryParams, rawBody } from './request.ts';
import { type AnyRoute, JsonText, type RouteResponse } from './route.ts';
import { createRouter } from './router.ts';

/** The Lambda handler type of every HTTP function (API Gateway REST API proxy integration). */
export type ApiHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

/** What the HTTP kit itself reads from the dependencies (the body limit); routes say what else. */
export type HttpKitDeps = Pick<Deps, 'config'>;

export type HttpHandlerOptions<D extends HttpKitDeps = Deps> = KitOptions<D>;

const NO_INPUT = z.lazySchema(() => z.strictObject({}));

/**
 * The input of a route that takes none: `{}` when there is none, as `NO_INPUT` would parse it,
 * without running zod on an empty object for every request; anything given is refused by
 * `NO_INPUT` itself, with its usual issues.
 */
function noInput(given: Record<string, string>, where: string): object {
  for (const _ in given) return validate(NO_INPUT(), given, where);
  return {};
}

/** API Gateway's request id (what its access logs show), else the Lambda invocation id. */
function requestIdOf(event: APIGatewayProxyEvent, context: Context): string {
  return event.requestContext?.requestId || context.awsRequestId || 'unknown';
}

/** The headers of a route's answer, leaving out the undefined ones. */
function definedHeaders(
  headers: RouteResponse['headers'],
  into: Record<string, string>,
): Record<string, string> {
  if (headers) {
    for (const name in headers) {
      const value = headers[name];
      if (value !== undefined) into[name] = value;
    }
  }
  return into;
}

function toResult(response: RouteResponse): APIGatewayProxyResult {
  if (response.body instanceof Uint8Array) {
    return {
      statusCode: response.status,
      headers: definedHeaders(response.headers, {}),
      body: Buffer.from(response.body).toString('base64'),
      isBase64Encoded: true,
    };
  }
  const noBody = response.status === 204 || response.body === undefined;
  return {
    statusCode: response.status,
    headers: definedHeaders(response.headers, noBody ? {} : { 'Content-Type': 'application/json' }),
    body: noBody
      ? ''
      : response.body instanceof JsonText
        ? response.body.text
        : JSON.stringify(response.body),
  };
}

/**
 * Header names in lower case, as API Gateway's are not (`Content-Type`, `If-Match`): the kit and
 * the routes read one spelling. Into objects without a prototype, so a header named `__proto__`
 * is a header like any other.
 */
function normalizeHeaderNames(event: APIGatewayProxyEvent): void {
  if (event.headers) {
    const headers: Record<string, string | undefined> = Object.create(null);
    for (const name in event.headers) headers[lowerCase(name)] = event.headers[name];
    event.headers = headers;
  }
  if (event.multiValueHeaders) {
    const multi: Record<string, string[] | undefined> = Object.create(null);
    for (const name in event.multiValueHeaders) {
      multi[lowerCase(name)] = event.multiValueHeaders[name];
    }
    event.multiValueHeaders = multi;
  }
}

// The same few header names come with every request: each is lowered once.
const LOWERED = new Map<string, string>();
const LOWERED_MAX = 1000;

function lowerCase(name: string): string {
  let lowered = LOWERED.get(name);
  if (lowered === undefined) {
    lowered = name.toLowerCase();
    if (LOWERED.size < LOWERED_MAX) LOWERED.set(name, lowered);
  }
  return lowered;
}

const CORRELATION_ID = /^[\w.:-]{1,128}$/;

/** Drydock's X-Context-Marker doubles as a correlation id; bounded so logs stay tidy. */
function correlationIdOf(event: APIGatewayProxyEvent, requestId: string): string {
  const headers = event.headers ?? {};
  const supplied = headers['x-correlation-id'] ?? headers['x-context-marker'];
  return supplied && CORRELATION_ID.test(supplied) ? supplied : requestId;
}

/**
 * The ids every answer carries, then HEAD's body dropped, then the access log line: one place,
 * for answers and mapped errors alike.
 */
function finish(
  event: APIGatewayProxyEvent,
  response: APIGatewayProxyResult,
  ids: RequestIds,
  logger: Logger,
): APIGatewayProxyResult {
  const headers = response.headers ?? {};
  response.headers = headers;
  headers['X-Request-Id'] = ids.requestId;
  headers['X-Drydock-Req'] = ids.requestId;
  headers['X-Correlation-Id'] = ids.correlationId;
  // HEAD is the GET answer without its body, errors included: same status and headers, and
  // the length the body would have had.
  if (event.httpMethod?.toUpperCase() === 'HEAD' && response.body !== '') {
    headers['Content-Length'] = String(
      response.isBase64Encoded
        ? Buffer.from(response.body, 'base64').length
        : Buffer.byteLength(response.body),
    );
    response.body = '';
    response.isBase64Encoded = false;
  }
  // The request's ids come with every line it writes (`addInvocationLogKeys` below).
  logger.info('request served', {
    method: event.httpMethod,
    path: event.path,
    status: response.statusCode,
    durationMs: Date.now() - ids.startedAt,
  });
  return response;
}

interface RequestIds {
  readonly requestId: string;
  readonly correlationId: string;
  readonly startedAt: number;
}

/**
 * Builds the Lambda handler serving a route table: header normalisation, Powertools logger
 * context, ids, routing (404/405; OPTIONS answered with `Allow` and HEAD served by the GET route
 * on every path, here once for all routes), body and input validation, then the route's handler.
 *
 * @example export const handler = createHttpHandler(taskRoutes)
 */
export function createHttpHandler(
  routes: readonly AnyRoute[],
  options?: HttpHandlerOptions,
): ApiHandler;
/** A route table needing less than `Deps` (no database, say), with where its `D` comes from. */
export function createHttpHandler<D extends HttpKitDeps>(
  routes: readonly AnyRoute<D>[],
  options: HttpHandlerOptions<D> & { readonly deps: () => Promise<D> },
): ApiHandler;
export function createHttpHandler(
  routes: readonly AnyRoute<HttpKitDeps>[],
  options: HttpHandlerOptions<HttpKitDeps> = {},
): ApiHandler {
  const route = createRouter(routes);
  const kit: LambdaKit<HttpKitDeps> = options.deps
    ? createLambdaKit({ ...options, deps: options.deps })
    : createLambdaKit({ logger: options.logger });
  const { loadDeps, logger } = kit;

  const handle = async (
    event: APIGatewayProxyEvent,
    requestId: string,
  ): Promise<APIGatewayProxyResult> => {
    const match = route(event.httpMethod, event.path);
    if (match.kind === 'not-found') {
      throw new NotFoundError(`No route for ${event.httpMethod} ${event.path}.`);
    }
    if (match.kind === 'options') {
      return { statusCode: 200, headers: { Allow: match.allow.join(', ') }, body: '' };
    }
    if (match.kind === 'method-not-allowed') {
      throw new MethodNotAllowedError(
        match.allow,
        `Method ${event.httpMethod} is not allowed here; use ${match.allow.join(' or ')}.`,
      );
    }
    // Drydock enforces a route's rule before it reads the body; the action's rule needs the body.
    const spec = match.route;
    const caller = callerOf(event);
    enforcePolicy(caller.keystone, spec.policy);
    const deps = await loadDeps();
    assertSoundHeaders(event);
    // A route with its own authentication refuses a caller before anything else is read.
    const authenticated = spec.authenticate
      ? await spec.authenticate({ params: match.params, headers: event.headers ?? {}, deps })
      : undefined;
    const text = rawBody(event, deps.config.http.maxBodyBytes);
    assertSoundInput(match.params, 'path');
    const params = spec.params
      ? validate(spec.params(), match.params, 'path')
      : noInput(match.params, 'path');
    const query = spec.query
      ? validate(spec.query(), queryParams(event), 'query')
      : noInput(queryParams(event), 'query');
    let body: unknown;
    if (spec.body) {
      const json = parseJsonBody(text, event.headers?.['content-type'], !spec.bodyOptional);
      body = json === undefined ? undefined : validate(spec.body(), json, 'body');
    } else if (text !== null && text.trim() !== '') {
      throw new ValidationError(`${spec.method} ${spec.path} takes no request body.`);
    }
    if (spec.bodyPolicy) enforcePolicy(caller.keystone, spec.bodyPolicy.of(body));
    const response = await spec.handle({
      params,
      query,
      body,
      headers: event.headers ?? {},
      caller,
      requestId,
      deps,
      authenticated,
    });
    return toResult(response);
  };

  return kit.handler(async (event: APIGatewayProxyEvent, context: Context) => {
    normalizeHeaderNames(event);
    const requestId = requestIdOf(event, context);
    const ids = {
      requestId,
      correlationId: correlationIdOf(event, requestId),
      startedAt: Date.now(),
    };
    // Every line this request writes carries its ids, whoever writes it (shared/logger.ts).
    addInvocationLogKeys({ requestId, correlationId: ids.correlationId });
    let response: APIGatewayProxyResult;
    try {
      // The error becomes Drydock's error body first; then every answer gets the ids. The
      // deadline is answered here too (a 500 with the ids), not left to Lambda's timeout.
      response = await beforeDeadline(handle(event, requestId), context);
    } catch (error) {
      response = toResult(errorToResponse(error, requestId, logger));
    }
    return finish(event, response, ids, logger);
  });
}
