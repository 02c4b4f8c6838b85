import { getConfig } from '#shared/config.ts';
import { designDeadline, getDesignAnalyzer, getDesignResolver } from '#shared/design-deps.ts';
import { type ApiHandler, createHttpHandler } from '#shared/http/handler.ts';
import { createDesignRoutes, type DesignRouteDeps } from '#shared/http/routes/design.ts';

/** The routes: POST /api/v1.0/designs/resolve, /validatedesign and /nodefilter. */
export const routes = createDesignRoutes({
  designs: getDesignResolver,
  analyzer: getDesignAnalyzer,
  settings: () => ({ platform: getConfig().design.platform }),
  // Each invocation's deadline bounds every fetch and retry.
  deadline: designDeadline,
});

// This function never touches the database (the stack grants it none): its routes need no Db,
// so none is opened.
const deps = async (): Promise<DesignRouteDeps> => ({
  config: getConfig(),
  clock: { now: () => new Date() },
});
/** API Gateway REST API entry point. */
export const handler: ApiHandler = createHttpHandler(routes, { deps });
