import { applyBuildDataEvent } from '#shared/api/events.ts';
import { buildDataRoutes } from '#shared/api/routes/build-data.ts';
import { BuildDataEventSchema } from '#shared/api/schemas.ts';
import { createSqsHandler } from '#shared/events/sqs.ts';
import { createHttpHandler } from '#shared/http/handler.ts';

/** The routes this function serves (read by the local server and the OpenAPI generator). */
export const routes = buildDataRoutes;

/** API Gateway REST API: a node's build data, read and posted. */
export const handler = createHttpHandler(routes);

/** SQS consumer of build-data events, with partial batch responses. */
export const sqsHandler = createSqsHandler(BuildDataEventSchema, applyBuildDataEvent);
