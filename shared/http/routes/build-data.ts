import * as z from '#shared/zod.ts';
import {
  BuildDataDictSchema,
  NodeBuildDataQuerySchema,
  NodeParamsSchema,
  PostBuildDataBodySchema,
} from '../../api/schemas.ts';
import { API_PREFIX } from '../../api/shapes.ts';
import { NotFoundError } from '../../errors.ts';
import { loadOnce } from '../../load-once.ts';
import { idempotencyKeyOf, nextPageHeaders } from '../conventions.ts';
import { type AnyRoute, defineRoute } from '../route.ts';
import { errorResponse as err } from './responses.ts';

// The use cases (and the store) load with the first request that needs them, not at init.
const buildDataApi = loadOnce(() => import('../../api/build-data.ts'));

const NODE_BUILD_DATA = `${API_PREFIX}/nodes/{node_name}/builddata`;

/** The build-data operations by node (the `build-data` function). */
export const buildDataRoutes: readonly AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: NODE_BUILD_DATA,
    operationId: 'getNodeBuildData',
    summary:
      "A node's build data: newest per generator (latest, default) or all, newest first (next page: X-Next-Cursor / Link)",
    tag: 'build-data',
    policy: 'physical_provisioner:read_build_data',
    params: NodeParamsSchema,
    query: NodeBuildDataQuerySchema,
    responses: {
      200: {
        description: 'Build data',
        schema: z.lazySchema(() => z.array(BuildDataDictSchema())),
        headers: { 'X-Next-Cursor': 'cursor of the rest, when the answer stopped at its bound' },
      },
      400: err('Bad query'),
      404: err('No build data found'),
    },
    async handle({ deps, params, query }) {
      const { readNodeBuildData } = await buildDataApi();
      const items = await readNodeBuildData(deps, params.node_name, query);
      // Drydock's client expects 404 for a node without build data.
      if (items.length === 0) throw new NotFoundError('No build data found');
      const path = `${API_PREFIX}/nodes/${encodeURIComponent(params.node_name)}/builddata`;
      return {
        status: 200,
        body: items,
        headers: nextPageHeaders(
          path,
          {
            latest: query.latest === undefined ? undefined : String(query.latest),
            task_id: query.task_id,
            verbosity: query.verbosity,
            limit: query.limit,
          },
          items.nextCursor,
        ),
      };
    },
  }),
  defineRoute({
    method: 'POST',
    path: NODE_BUILD_DATA,
    operationId: 'postNodeBuildData',
    summary: 'Record build data for a node: one item or an array of up to 100',
    tag: 'build-data',
    policy: 'physical_provisioner:create_build_data',
    params: NodeParamsSchema,
    body: PostBuildDataBodySchema,
    requestHeaders: { 'Idempotency-Key': 'optional; a replayed batch stores nothing' },
    responses: {
      201: {
        description: 'Stored (without payloads; duplicates: replays skipped)',
        schema: z.lazySchema(() =>
          z.object({ inserted: z.array(BuildDataDictSchema()), duplicates: z.int() }),
        ),
      },
      400: err('Bad body'),
      412: err('Stale lease epoch'),
      413: err('Body too large'),
    },
    async handle({ deps, params, body, headers }) {
      const { recordBuildData } = await buildDataApi();
      // One item, an array, or an orchestrator's {epoch, items} (fenced).
      const envelope = !Array.isArray(body) && 'epoch' in body ? body : undefined;
      const items =
        envelope?.items ??
        (Array.isArray(body) ? body : [body as Exclude<typeof body, { epoch: number }>]);
      const result = await recordBuildData(
        deps,
        params.node_name,
        items,
        idempotencyKeyOf(headers),
        envelope?.epoch,
      );
      return { status: 201, body: result };
    },
  }),
];
