import { createHttpHandler } from '#shared/http/handler.ts';
import { createHealthRoutes } from '#shared/http/routes/health.ts';
import openapi from './openapi.json' with { type: 'json' };

/** The routes this function serves: /api/v1.0/health[/extended], /versions, /api/v1.0/openapi.json. */
export const routes = createHealthRoutes(openapi);

/** API Gateway REST API entry point. */
export const handler = createHttpHandler(routes);
