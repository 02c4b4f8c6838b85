import type { Deps } from '../deps.ts';
import { errorForLog } from '../error-log.ts';
import { UnavailableError } from '../errors.ts';
import { checkDatabase } from '../store/health.ts';
import { readLease } from '../store/lease.ts';

/** `GET /versions`, as Drydock answers it. */
export const VERSIONS = { 'v1.0': { path: '/api/v1.0', status: 'stable' } } as const;

/**
 * Liveness: one read of the database clock and nothing else (Drydock inserted a task and a message
 * on every probe, defect 39). Any failure is reported as unavailable.
 */
export async function checkHealth(deps: Pick<Deps, 'db'>): Promise<void> {
  try {
    await checkDatabase(deps.db);
  } catch (error) {
    throw new UnavailableError('The database is unreachable.', { cause: error });
  }
}

export interface HealthStatus {
  kind: 'Status';
  apiVersion: 'v1.0';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message: string;
  reason: 'HealthCheck';
  code: 200 | 503;
  details: {
    errorCount: number;
    messageList: {
      kind: 'SimpleMessage';
      message: string;
      error: boolean;
      [key: string]: unknown;
    }[];
  };
}

/**
 * `GET /health/extended`: Drydock's HealthCheck Status body, with the database driver and clock
 * and the lease holder as messages. Read-only, like the plain probe. A failure is the answer's
 * 503 message (its name only) and a log line with the cause, so an outage is never silent.
 */
export async function checkHealthExtended(
  deps: Pick<Deps, 'db' | 'logger'>,
): Promise<HealthStatus> {
  const messages: HealthStatus['details']['messageList'] = [];
  try {
    const { dbNow } = await checkDatabase(deps.db);
    messages.push({
      kind: 'SimpleMessage',
      message: `Database reachable (${deps.db.driver})`,
      error: false,
      db_now: dbNow,
    });
    const lease = await readLease(deps.db);
    messages.push({
      kind: 'SimpleMessage',
      message: lease?.active
        ? `Lease held by ${lease.holder} (epoch ${lease.epoch})`
        : 'No orchestrator instance holds the lease',
      error: false,
    });
  } catch (error) {
    deps.logger.warn('extended health check failed', { error: errorForLog(error) });
    messages.push({
      kind: 'SimpleMessage',
      message: `Database unreachable: ${(error as Error).name}`,
      error: true,
    });
  }
  const errorCount = messages.filter((m) => m.error).length;
  return {
    kind: 'Status',
    apiVersion: 'v1.0',
    metadata: {},
    status: errorCount === 0 ? 'Success' : 'Failure',
    message: errorCount === 0 ? 'Healthy' : 'Unhealthy',
    reason: 'HealthCheck',
    code: errorCount === 0 ? 200 : 503,
    details: { errorCount, messageList: messages },
  };
}
