import { MessageEventSchema } from '#shared/api/schemas.ts';
import { createHttpHandler } from '#shared/http/handler.ts';
import { messageRoutes } from '#shared/http/routes/messages.ts';
import { loadOnce } from '#shared/load-once.ts';
import { createSqsHandler } from '#shared/triggers/sqs.ts';

// The events' use cases load with the first batch, not at init.
const sqsEvents = loadOnce(() => import('#shared/api/sqs-events.ts'));

/** The routes this function serves (read by the local server and the OpenAPI generator). */
export const routes = messageRoutes;

/** API Gateway REST API: append and page a task's result messages. */
export const handler = createHttpHandler(routes);

/** SQS consumer of message events, with partial batch responses. */
export const sqsHandler = createSqsHandler(MessageEventSchema, async (deps, event, record) =>
  (await sqsEvents()).applyMessageEvent(deps, event, record),
);
