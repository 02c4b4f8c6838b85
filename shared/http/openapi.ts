import * as z from '#shared/zod.ts';
import { ErrorBodySchema } from '../api/schemas.ts';
import type { AnyRoute } from './route.ts';

type Json = Record<string, unknown>;

/**
 * Converts a zod schema to JSON Schema 2020-12 (OpenAPI 3.1's dialect), the request side for
 * inputs (a query `limit` is the string the caller sends). Named schemas (`.meta({id})`) are
 * moved into `components` and referenced, so each is written once.
 */
function toSchema(schema: z.ZodMiniType, components: Json, io: 'input' | 'output'): Json {
  const converted = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as Json;
  const { $schema: _ignored, $defs, ...rest } = converted;
  const rewrite = (value: unknown): Json =>
    JSON.parse(JSON.stringify(value).replaceAll('"#/$defs/', '"#/components/schemas/'));
  for (const [id, def] of Object.entries(($defs ?? {}) as Json)) components[id] = rewrite(def);
  // A schema that is itself named comes back as a $ref to its own $def only when nested; at the
  // top level zod inlines it, which is what an operation wants.
  return rewrite(rest);
}

/** The query/path parameters of an operation, one per property of its strict object schema. */
function parameters(
  schema: z.LazySchema | undefined,
  where: 'path' | 'query',
  components: Json,
): Json[] {
  if (!schema) return [];
  const object = toSchema(schema(), components, 'input');
  const properties = (object.properties ?? {}) as Record<string, Json>;
  const required = new Set((object.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

/**
 * One route as an OpenAPI operation: its responses (a 500 added when it names none), parameters
 * from its path, query and header schemas, and its request body. Paths keep the route's
 * `{task_id}` templates, already OpenAPI's syntax; `buildOpenApiDocument` sorts the result.
 */
function operationOf(route: AnyRoute, components: Json): Json {
  const responses: Json = {};
  for (const [status, doc] of Object.entries(route.responses)) {
    responses[status] = {
      description: doc.description,
      ...(doc.headers
        ? {
            headers: Object.fromEntries(
              Object.entries(doc.headers).map(([name, description]) => [
                name,
                { description, schema: { type: 'string' } },
              ]),
            ),
          }
        : {}),
      ...(doc.schema
        ? {
            content: {
              'application/json': { schema: toSchema(doc.schema(), components, 'output') },
            },
          }
        : {}),
    };
  }
  responses['500'] ??= {
    description: 'Unexpected error (the body names the request id)',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
  const headerParams = Object.entries(route.requestHeaders ?? {}).map(([name, description]) => ({
    name,
    in: 'header',
    required: false,
    description,
    schema: { type: 'string' },
  }));
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    parameters: [
      ...parameters(route.params, 'path', components),
      ...parameters(route.query, 'query', components),
      ...headerParams,
    ],
    ...(route.body
      ? {
          requestBody: {
            required: !route.bodyOptional,
            content: {
              'application/json': { schema: toSchema(route.body(), components, 'input') },
            },
          },
        }
      : {}),
    responses,
    // A route without a policy rule is public; the others take SigV4 or a Keystone token,
    // depending on the stage's API (see shared/auth/README.md).
    security: route.policy ? [{ sigv4: [] }, { keystone: [] }] : [],
    ...(route.policy ? { 'x-drydock-policy': route.policy } : {}),
    ...(route.bodyPolicy ? { 'x-drydock-body-policy': route.bodyPolicy.pattern } : {}),
  };
}

/**
 * The OpenAPI 3.1 document of the given routes, generated from the same zod schemas that
 * validate requests (built here with their documentation, which only the generator registers).
 * Deterministic (paths and components sorted), so the committed copy can be compared with a
 * fresh generation in a test.
 */
export function buildOpenApiDocument(routes: readonly AnyRoute[], version: string): Json {
  return z.documented(() => documentOf(routes, version));
}

function documentOf(routes: readonly AnyRoute[], version: string): Json {
  const components: Json = {};
  toSchema(z.object({ error: ErrorBodySchema() }), components, 'output');
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    paths[route.path] = {
      ...paths[route.path],
      [route.method.toLowerCase()]: operationOf(route, components),
    };
  }
  const sortKeys = (object: Json) =>
    Object.fromEntries(Object.entries(object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    openapi: '3.1.0',
    info: {
      title: 'drydock-statemgmt',
      version,
      description:
        "Airship Drydock's persisted state (tasks, result messages, build data, the orchestrator lease) as a serverless service. " +
        'Compatible with Drydock v1.0 routes and JSON shapes; errors are {"type":"error","message":…,"retry":…}.',
    },
    servers: [{ url: '/' }],
    paths: sortKeys(
      Object.fromEntries(Object.entries(paths).map(([p, item]) => [p, sortKeys(item)])),
    ),
    components: {
      schemas: sortKeys(components),
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description: 'API Gateway IAM authorisation (AWS Signature Version 4)',
        },
        keystone: {
          type: 'apiKey',
          name: 'X-Auth-Token',
          in: 'header',
          description:
            "A Keystone token, held to Drydock's policy rules (x-drydock-policy on each operation)",
        },
      },
    },
  };
}
