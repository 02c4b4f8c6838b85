import { BuildDataEventSchema } from '#shared/api/schemas.ts';
import { applyBuildDataEvent } from '#shared/api/sqs-events.ts';
import { createHttpHandler } from '#shared/http/handler.ts';
import { buildDataRoutes } from '#shared/http/routes/build-data.ts';
import { createSqsHandler } from '#shared/triggers/sqs.ts';

/** The routes this function serves (read by the local server and the OpenAPI generator). */
export const routes = buildDataRoutes;

/** API Gateway REST API: a node's build data, read and posted. */
export const handler = createHttpHandler(routes);

/** SQS consumer of build-data events, with partial batch responses. */
export const sqsHandler = createSqsHandler(BuildDataEventSchema, applyBuildDataEvent);
