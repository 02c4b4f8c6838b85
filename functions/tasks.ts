import { TaskEventSchema } from '#shared/api/schemas.ts';
import { createHttpHandler } from '#shared/http/handler.ts';
import { queueRoutes } from '#shared/http/routes/queue.ts';
import { taskRoutes } from '#shared/http/routes/tasks.ts';
import { loadOnce } from '#shared/load-once.ts';
import { createSqsHandler } from '#shared/triggers/sqs.ts';

// The events' use cases load with the first batch, not at init.
const sqsEvents = loadOnce(() => import('#shared/api/sqs-events.ts'));

/** The routes this function serves (read by the local server and the OpenAPI generator). */
export const routes = [...taskRoutes, ...queueRoutes];

/** API Gateway REST API (proxy integration): the task routes under /api/v1.0/tasks, and /queue. */
export const handler = createHttpHandler(routes);

/** SQS consumer of task events (create_task / update_task), with partial batch responses. */
export const sqsHandler = createSqsHandler(TaskEventSchema, async (deps, event, record) =>
  (await sqsEvents()).applyTaskEvent(deps, event, record),
);
