import { leaderRoutes } from '#shared/api/routes/leader.ts';
import { createLeaseScheduleHandler } from '#shared/events/schedule.ts';
import { createHttpHandler } from '#shared/http/handler.ts';

/** The routes this function serves (read by the local server and the OpenAPI generator). */
export const routes = leaderRoutes;

/** API Gateway REST API: GET /leader, POST /leader/claim|renew|abdicate. */
export const handler = createHttpHandler(routes);

/**
 * EventBridge, every minute: claim or renew the lease for LEASE_INSTANCE_ID; as holder, requeue
 * work stranded by dead epochs and run the daily retention.
 */
export const scheduledHandler = createLeaseScheduleHandler();
