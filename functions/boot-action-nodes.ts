import { getConfig } from '#shared/config.ts';
import { designDeadline, getDesignAnalyzer, getDesignResolver } from '#shared/design-deps.ts';
import { type ApiHandler, createHttpHandler } from '#shared/http/handler.ts';
import { createBootActionNodeRoutes } from '#shared/http/routes/boot-actions.ts';

/** The node-facing routes: POST /bootactions/{action_id}, GET /bootactions/nodes/{hostname}/units|files. */
export const routes = createBootActionNodeRoutes({
  designs: getDesignResolver,
  analyzer: getDesignAnalyzer,
  platform: () => getConfig().design.platform,
  // Each invocation's deadline bounds the design and asset fetches.
  deadline: designDeadline,
  reportUrl: () => getConfig().bootActions.reportUrl,
});

/**
 * API Gateway REST API without IAM or Keystone: nodes authenticate with their boot-action key
 * (`X-Bootaction-Key`), checked before anything else is read.
 */
export const handler: ApiHandler = createHttpHandler(routes);
