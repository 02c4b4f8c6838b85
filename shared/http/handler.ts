import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import * as z from 'zod';
import { enforcePolicy } from '../auth/enforce.ts';
import { getConfig } from '../config.ts';
import { type Deps, getDeps, getLogger } from '../deps.ts';
import { MethodNotAllowedError, NotFoundError, ValidationError } from '../errors.ts';
import { assertSoundInput } from '../input.ts';
import { runInvocation } from '../invocation.ts';
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

export interface HttpHandlerOptions<D extends HttpKitDeps = Deps> {
  /** Where the dependencies come from; the container's memoised set by default. */
  readonly deps?: () => Promise<D>;
  readonly logger?: Logger;
}

const NO_INPUT = z.strictObject({});

/** API Gateway's request id (what its access logs show), else the Lambda invocation id. */
function requestIdOf(event: APIGatewayProxyEvent, context: Context): string {
  return event.requestContext?.requestId || context.awsRequestId || 'unknown';
}

interface Internal extends Record<string, unknown> {
  requestId: string;
  correlationId: string;
  startedAt: number;
}

function toResult(response: RouteResponse): APIGatewayProxyResult {
  if (response.body instanceof Uint8Array) {
    return {
      statusCode: response.status,
      headers: Object.fromEntries(
        Object.entries(response.headers ?? {}).filter(
          (entry): entry is [string, string] => entry[1] !== undefined,
        ),
      ),
      body: Buffer.from(response.body).toString('base64'),
      isBase64Encoded: true,
    };
  }
  const noBody = response.status === 204 || response.body === undefined;
  return {
    statusCode: response.status,
    headers: {
      ...(noBody ? {} : { 'Content-Type': 'application/json' }),
      ...Object.fromEntries(
        Object.entries(response.headers ?? {}).filter(
          (entry): entry is [string, string] => entry[1] !== undefined,
        ),
      ),
    },
    body: noBody
      ? ''
      : response.body instanceof JsonText
        ? response.body.text
        : JSON.stringify(response.body),
  };
}

/**
 * Request ids, access log and the error mapping, as one middleware so their order is fixed: the
 * error becomes Drydock's error body first, then every response (success or not) gets the ids.
 */
function envelope(
  logger: Logger,
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context, Internal> {
  const finish = (request: {
    event: APIGatewayProxyEvent;
    response: APIGatewayProxyResult | null | undefined;
    internal: Internal;
  }) => {
    const { requestId, correlationId, startedAt } = request.internal;
    const response = request.response;
    if (!response) return;
    response.headers = {
      ...response.headers,
      'X-Request-Id': requestId,
      'X-Drydock-Req': requestId,
      'X-Correlation-Id': correlationId,
    };
    // HEAD is the GET answer without its body, errors included: same status and headers, and
    // the length the body would have had.
    if (request.event.httpMethod?.toUpperCase() === 'HEAD' && response.body !== '') {
      response.headers['Content-Length'] = String(
        response.isBase64Encoded
          ? Buffer.from(response.body, 'base64').length
          : Buffer.byteLength(response.body),
      );
      response.body = '';
      response.isBase64Encoded = false;
    }
    logger.info('request served', {
      method: request.event.httpMethod,
      path: request.event.path,
      status: response.statusCode,
      durationMs: Date.now() - startedAt,
    });
  };
  return {
    before: (request) => {
      const { event, context } = request;
      const requestId = requestIdOf(event, context);
      const headers = event.headers ?? {};
      // Drydock's X-Context-Marker doubles as a correlation id; bounded so logs stay tidy.
      const supplied = headers['x-correlation-id'] ?? headers['x-context-marker'];
      const correlationId = supplied && /^[\w.:-]{1,128}$/.test(supplied) ? supplied : requestId;
      request.internal.requestId = requestId;
      request.internal.correlationId = correlationId;
      request.internal.startedAt = Date.now();
      logger.appendKeys({ requestId, correlationId });
    },
    after: finish,
    onError: (request) => {
      const requestId = request.internal.requestId ?? request.context.awsRequestId ?? 'unknown';
      const mapped = errorToResponse(request.error, requestId, logger);
      request.response = toResult(mapped);
      finish(request);
    },
  };
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
  // Read the configuration now, at module load: a bad environment fails the Lambda's init
  // phase (visible at deploy time) rather than its first request.
  if (!options.deps) getConfig();
  const loadDeps = options.deps ?? getDeps;
  const logger = options.logger ?? getLogger();

  const handle = async (
    event: APIGatewayProxyEvent,
    context: Context,
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
    const params = validate(spec.params ?? NO_INPUT, match.params, 'path');
    const query = validate(spec.query ?? NO_INPUT, queryParams(event), 'query');
    let body: unknown;
    if (spec.body) {
      const json = parseJsonBody(text, event.headers?.['content-type'], !spec.bodyOptional);
      body = json === undefined ? undefined : validate(spec.body, json, 'body');
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
      requestId: requestIdOf(event, context),
      deps,
      authenticated,
    });
    return toResult(response);
  };

  const chain = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context, Internal>()
    .use(httpHeaderNormalizer())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(envelope(logger))
    .handler(handle);
  return (event, context) => runInvocation(context, () => chain(event, context));
}
