import { createHttpHandler } from '#shared/http/handler.ts';
import { bootActionRoutes } from '#shared/http/routes/boot-actions.ts';

/** The routes this function serves (read by the local server and the OpenAPI generator). */
export const routes = bootActionRoutes;

/**
 * API Gateway REST API (IAM or Keystone): the orchestrator creates a node's boot-action context
 * and polls its actions' statuses. Not on SQS: creating a context answers with the node's key,
 * which a queue could never hand back.
 */
export const handler = createHttpHandler(routes);
