import { TaskEventSchema } from '#shared/api/schemas.ts';
import { applyTaskEvent } from '#shared/api/sqs-events.ts';
import { createHttpHandler } from '#shared/http/handler.ts';
import { queueRoutes } from '#shared/http/routes/queue.ts';
import { taskRoutes } from '#shared/http/routes/tasks.ts';
import { createSqsHandler } from '#shared/triggers/sqs.ts';

/** The routes this function serves (read by the local server and the OpenAPI generator). */
export const routes = [...taskRoutes, ...queueRoutes];

/** API Gateway REST API (proxy integration): the task routes under /api/v1.0/tasks, and /queue. */
export const handler = createHttpHandler(routes);

/** SQS consumer of task events (create_task / update_task), with partial batch responses. */
export const sqsHandler = createSqsHandler(TaskEventSchema, applyTaskEvent);
