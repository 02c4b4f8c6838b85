import * as z from '#shared/zod.ts';
import { checkHealth, checkHealthExtended, VERSIONS } from '../../api/health.ts';
import { API_PREFIX } from '../../api/shapes.ts';
import { type AnyRoute, defineRoute } from '../route.ts';
import { errorResponse as err } from './responses.ts';

/**
 * Health, versions and the OpenAPI document (the `health` function). The document is passed in:
 * it is the committed `functions/openapi.json`, generated from every function's route table.
 */
export function createHealthRoutes(openapi: unknown): readonly AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: `${API_PREFIX}/health`,
      operationId: 'health',
      summary: 'Liveness: 204 when the database answers, 503 otherwise; writes nothing',
      tag: 'health',
      responses: {
        204: { description: 'Healthy' },
        503: err('Database unreachable'),
      },
      async handle({ deps }) {
        await checkHealth(deps);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'GET',
      path: `${API_PREFIX}/health/extended`,
      operationId: 'healthExtended',
      summary: "Drydock's HealthCheck Status body (database, lease)",
      tag: 'health',
      policy: 'physical_provisioner:health_data',
      responses: {
        200: {
          description: 'Healthy',
          schema: z.lazySchema(() => z.record(z.string(), z.unknown())),
        },
        503: {
          description: 'Unhealthy',
          schema: z.lazySchema(() => z.record(z.string(), z.unknown())),
        },
      },
      async handle({ deps }) {
        const status = await checkHealthExtended(deps);
        return { status: status.code, body: status };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/versions',
      operationId: 'versions',
      summary: 'Supported API versions',
      tag: 'health',
      responses: {
        200: {
          description: 'Versions',
          schema: z.lazySchema(() =>
            z.record(z.string(), z.object({ path: z.string(), status: z.string() })),
          ),
        },
      },
      async handle() {
        return { status: 200, body: VERSIONS };
      },
    }),
    defineRoute({
      method: 'GET',
      path: `${API_PREFIX}/openapi.json`,
      operationId: 'openapi',
      summary: 'This OpenAPI 3.1 document',
      tag: 'health',
      policy: 'physical_provisioner:read_api_document',
      responses: { 200: { description: 'OpenAPI 3.1 document' } },
      async handle() {
        return { status: 200, body: openapi };
      },
    }),
  ];
}
