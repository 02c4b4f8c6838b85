import { QueueHealthDictSchema, QueueQuerySchema } from '../../api/schemas.ts';
import { API_PREFIX } from '../../api/shapes.ts';
import { loadOnce } from '../../load-once.ts';
import { type AnyRoute, defineRoute } from '../route.ts';
import { errorResponse as err } from './responses.ts';

const queueApi = loadOnce(() => import('../../api/queue.ts'));

/** Queue health for operators (served by the `tasks` function): read-only, one statement. */
export const queueRoutes: readonly AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: `${API_PREFIX}/queue`,
    operationId: 'getQueueHealth',
    summary:
      'Queue depth, the oldest queued task, and running tasks that are stale or stranded by a dead lease epoch',
    tag: 'tasks',
    policy: 'physical_provisioner:read_task',
    query: QueueQuerySchema,
    responses: {
      200: { description: 'Queue health', schema: QueueHealthDictSchema },
      400: err('Bad stale_after'),
    },
    async handle({ deps, query }) {
      const { queueHealth } = await queueApi();
      return {
        status: 200,
        body: await queueHealth(deps, { staleAfterSeconds: query.stale_after }),
      };
    },
  }),
];
