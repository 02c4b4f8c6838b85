import { applyMigrations } from '#shared/api/migrations.ts';
import { keystoneAuthenticatorFor } from '#shared/auth/keystone-authenticator.ts';
import { closeDeps, getDeps } from '#shared/deps.ts';
import { errorForLog } from '#shared/error-log.ts';
import { createLogger } from '#shared/logger.ts';
import { createLocalServer, LOCAL_DEPLOYMENT, listen, localContext } from './app.ts';
import { lazyHttpFunctions } from './functions.ts';
import { createKeystoneGate } from './keystone.ts';
import { scheduledEvent } from './lambda-events.ts';
import { createLiveRoutes } from './live-routes.ts';
import type { StaticFiles } from './static-files.ts';

export interface LocalServiceOptions {
  readonly port: number;
  readonly host: string;
  /**
   * Tick the lease schedule every `scheduleMs`, the first time a second after listening (0 =
   * never; tests drive `tick()` themselves).
   */
  readonly scheduleMs: number;
  /** Serves the console at `/` (everything outside the API); none: API only. */
  readonly staticFiles?: StaticFiles | undefined;
}

export interface LocalService {
  /** `http://host:port` */
  readonly url: string;
  /** One run of the lease schedule, as EventBridge would trigger it. */
  tick(): Promise<unknown>;
  /** Stops listening, waits for a running tick, closes the database (PGlite flushes to disk). */
  stop(): Promise<void>;
}

/**
 * Starts the service as `npm start` runs it: the configured database (PGlite in `.data/pglite`
 * by default), migrations applied, every HTTP function served (behind Keystone tokens when
 * `KEYSTONE_URL` is set), the lease schedule ticking.
 * Configuration comes from the environment, exactly as in a Lambda.
 */
export async function startLocalService(options: LocalServiceOptions): Promise<LocalService> {
  // Locally, events go to the in-process bus (SSE stream, waits) and metrics to the Prometheus
  // page, unless the environment says otherwise.
  process.env.EVENTS_SINK ||= 'local';
  process.env.METRICS ||= 'prometheus';
  // Each function's module is imported on the first request it owns, not here: a start pays for
  // opening the database and the modules of the first requests only.
  const [deps, functions] = await Promise.all([getDeps(), lazyHttpFunctions()]);
  await applyMigrations(deps);
  const keystone = deps.config.keystone;
  // The gate's own logger: the functions' one carries the last invocation's Lambda context.
  const gateLogger = createLogger(deps.config);
  const gate = keystone
    ? createKeystoneGate(keystoneAuthenticatorFor(keystone, { logger: gateLogger }), {
        keystoneUrl: keystone.url,
        logger: gateLogger,
      })
    : undefined;
  const server = createLocalServer(functions, gate, {
    staticFiles: options.staticFiles,
    liveRoutes: createLiveRoutes(deps, gate),
  });
  // Events a previous run left pending (it stopped between a commit and its publish).
  void deps.events?.afterWrite();
  // On a shared Postgres, events other processes write wake this server's publisher too.
  const unlisten = deps.bus
    ? await deps.db.listen?.('drydock_events', () => void deps.events?.afterWrite())
    : undefined;
  const address = await listen(server, options.port, options.host);

  let running: Promise<unknown> | undefined;
  const tick = () => {
    // Ticks never overlap, as a one-minute rule with a short function would not.
    running ??= import('#functions/leader.ts')
      .then(({ scheduledHandler }) =>
        scheduledHandler(
          scheduledEvent(LOCAL_DEPLOYMENT, 'drydock-lease-schedule'),
          localContext('drydock-leader-schedule', 60_000),
        ),
      )
      .catch((error: unknown) => {
        deps.logger.error('lease tick failed', { error: errorForLog(error) });
        return undefined;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const stopSchedule = options.scheduleMs > 0 ? scheduleTicks(tick, options.scheduleMs) : undefined;

  return {
    url: `http://${address.address}:${address.port}`,
    tick,
    async stop() {
      stopSchedule?.();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await running;
      await unlisten?.();
      await deps.events?.idle();
      await closeDeps();
    },
  };
}

/** How long after the server starts listening the schedule first ticks. */
export const FIRST_TICK_MS = 1_000;

/**
 * Runs `tick` every `everyMs`, the first time `FIRST_TICK_MS` after now (or at the first period,
 * if sooner) rather than at once: on PGlite's one connection the first tick's statements, and the
 * leader module's import before them, would hold up the first requests a restart answers (an
 * orchestrator's, the CLI's; infra/local/README.md has the figures). Returns what stops it.
 * Neither timer keeps the process alive on its own.
 */
export function scheduleTicks(tick: () => unknown, everyMs: number): () => void {
  const first = FIRST_TICK_MS < everyMs ? setTimeout(tick, FIRST_TICK_MS) : undefined;
  const every = setInterval(tick, everyMs);
  first?.unref();
  every.unref();
  return () => {
    clearTimeout(first);
    clearInterval(every);
  };
}
