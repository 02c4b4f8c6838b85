import type * as z from '#shared/zod.ts';
import type { KeystonePrincipal } from '../auth/principal.ts';
import type { RuleName } from '../auth/rules.ts';
import type { Deps } from '../deps.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who called, from API Gateway's authorisation, never the body: IAM's `requestContext.identity`,
 * or the Keystone authoriser's `requestContext.authorizer`.
 */
export interface Caller {
  /** The IAM principal ARN; `created_by` is this (or `caller` when there is no ARN). */
  readonly userArn: string | null;
  readonly caller: string | null;
  readonly accountId: string | null;
  readonly sourceIp: string | null;
  /** The Keystone caller, when the request came with a token; `created_by` is its user name. */
  readonly keystone: KeystonePrincipal | null;
}

/** A validated request, as a route's handler sees it; `D` is what the route needs (all of `Deps`). */
export interface RouteRequest<P, Q, B, D = Deps> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  /** Header names are lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly caller: Caller;
  readonly requestId: string;
  readonly deps: D;
  /** What the route's `authenticate` returned (undefined for routes without one). */
  readonly authenticated?: unknown;
}

/** What a route's `authenticate` sees: the raw path parameters, the headers, the dependencies. */
export interface AuthenticateRequest<D = Deps> {
  readonly params: Readonly<Record<string, string>>;
  /** Header names are lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly deps: D;
}

/**
 * A response body already serialised as JSON: a large answer built where it was computed (a
 * worker thread) is sent as it is instead of being serialised again on the request thread.
 */
export class JsonText {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** What a route returns; the kit adds content type and request id headers. */
export interface RouteResponse {
  readonly status: number;
  /**
   * JSON-serialised (a `JsonText` is sent as is); omitted for 204. Bytes (a `Uint8Array`) are
   * sent as they are (base64 in the Lambda answer), with the route's own `Content-Type` header.
   */
  readonly body?: unknown;
  /** Undefined values are left out. */
  readonly headers?: Readonly<Record<string, string | undefined>>;
}

export interface ResponseDoc {
  readonly description: string;
  /** Built only by the OpenAPI generator. */
  readonly schema?: z.LazySchema;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * One HTTP operation: its method and path template, the zod schemas of its inputs (which both
 * validate requests and generate the OpenAPI document), and its handler. Schemas are declared
 * with `z.lazySchema`, so a function's module load builds none of them: each is built on its
 * route's first request.
 */
export interface Route<P = unknown, Q = unknown, B = unknown, D = Deps> {
  readonly method: HttpMethod;
  /** API Gateway style template, e.g. `/api/v1.0/tasks/{task_id}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  readonly params?: z.LazySchema<z.ZodMiniType<P>>;
  readonly query?: z.LazySchema<z.ZodMiniType<Q>>;
  /** A JSON body; required unless `bodyOptional`. Routes without it refuse a body. */
  readonly body?: z.LazySchema<z.ZodMiniType<B>>;
  readonly bodyOptional?: boolean;
  /**
   * The policy rule a Keystone caller must pass (Drydock's name, e.g.
   * `physical_provisioner:read_task`). Without one the route is public: no token is asked for
   * (API Gateway leaves its method unauthorised, the local server lets it through).
   */
  readonly policy?: RuleName;
  /**
   * A second rule that depends on the validated body, checked after it (Drydock checks
   * `physical_provisioner:<action>` on POST /tasks besides `create_task`). `pattern` documents it.
   */
  readonly bodyPolicy?: { readonly pattern: string; of(body: B): RuleName | undefined };
  /**
   * For routes whose callers authenticate with something of their own instead of IAM or Keystone
   * (a node's boot-action key): runs before the query and body are read, so a caller that fails
   * it learns nothing from them and costs nothing more. It throws to refuse; what it returns
   * reaches `handle` as `authenticated`. Such a route has no `policy`.
   */
  authenticate?(request: AuthenticateRequest<D>): Promise<unknown>;
  /** Documented request headers (e.g. `If-Match`). */
  readonly requestHeaders?: Readonly<Record<string, string>>;
  readonly responses: Readonly<Record<number, ResponseDoc>>;
  handle(request: RouteRequest<P, Q, B, D>): Promise<RouteResponse>;
}

/** A route with its types erased, for tables of mixed routes. */
// biome-ignore lint/suspicious/noExplicitAny: a table holds routes of different input types
export type AnyRoute<D = Deps> = Route<any, any, any, D>;

/** Declares a route with its input types inferred from its schemas. */
export function defineRoute<P = Record<string, never>, Q = Record<string, never>, B = undefined>(
  route: Route<P, Q, B>,
): Route<P, Q, B> {
  return route;
}

/**
 * `defineRoute` for routes that need less than all of `Deps` (a function without a database):
 * its handlers see only `D`.
 * @example const define = routesNeeding<Pick<Deps, 'config' | 'clock'>>();
 */
export function routesNeeding<D>() {
  return <P = Record<string, never>, Q = Record<string, never>, B = undefined>(
    route: Route<P, Q, B, D>,
  ): Route<P, Q, B, D> => route;
}
