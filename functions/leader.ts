import { createHttpHandler } from '#shared/http/handler.ts';
import { leaderRoutes } from '#shared/http/routes/leader.ts';
import { createLeaseScheduleHandler } from '#shared/triggers/schedule.ts';

/** The routes this function serves (read by the local server and the OpenAPI generator). */
export const routes = leaderRoutes;

/** API Gateway REST API: GET /leader, POST /leader/claim|renew|abdicate|requeue. */
export const handler = createHttpHandler(routes);

/**
 * EventBridge, every minute: recover the work of dead lease epochs (holding no lease itself,
 * unless LEASE_MODE=hold) and run the daily retention.
 */
export const scheduledHandler = createLeaseScheduleHandler();
