import { MessageEventSchema } from '#shared/api/schemas.ts';
import { applyMessageEvent } from '#shared/api/sqs-events.ts';
import { createHttpHandler } from '#shared/http/handler.ts';
import { messageRoutes } from '#shared/http/routes/messages.ts';
import { createSqsHandler } from '#shared/triggers/sqs.ts';

/** The routes this function serves (read by the local server and the OpenAPI generator). */
export const routes = messageRoutes;

/** API Gateway REST API: append and page a task's result messages. */
export const handler = createHttpHandler(routes);

/** SQS consumer of message events, with partial batch responses. */
export const sqsHandler = createSqsHandler(MessageEventSchema, applyMessageEvent);
