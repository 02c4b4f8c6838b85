import { BuildDataEventSchema } from '#shared/api/schemas.ts';
import { createHttpHandler } from '#shared/http/handler.ts';
import { buildDataRoutes } from '#shared/http/routes/build-data.ts';
import { loadOnce } from '#shared/load-once.ts';
import { createSqsHandler } from '#shared/triggers/sqs.ts';

// The events' use cases load with the first batch, not at init.
const sqsEvents = loadOnce(() => import('#shared/api/sqs-events.ts'));

/** The routes this function serves (read by the local server and the OpenAPI generator). */
export const routes = buildDataRoutes;

/** API Gateway REST API: a node's build data, read and posted. */
export const handler = createHttpHandler(routes);

/** SQS consumer of build-data events, with partial batch responses. */
export const sqsHandler = createSqsHandler(BuildDataEventSchema, async (deps, event, record) =>
  (await sqsEvents()).applyBuildDataEvent(deps, event, record),
);
