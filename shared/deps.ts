import type { Logger } from '@aws-lambda-powertools/logger';
import { type Config, type DbConfig, getConfig } from './config.ts';
import type { Db, TransactionalDb } from './db/port.ts';
import { remainingTimeMs } from './invocation.ts';
import { createLogger } from './logger.ts';
import {
  createEmfTelemetry,
  NO_TELEMETRY,
  PrometheusRegistry,
  recordEventCounts,
  type Telemetry,
} from './metrics.ts';
import type { InProcessBus } from './notify/bus.ts';
import type { EventPublisher, EventSink } from './notify/publisher.ts';
import type { WaitClock } from './notify/wait.ts';

/** Application time for everything except leases (those are decided on the database clock). */
export interface Clock {
  now(): Date;
}

/** What every use case may receive; each takes the subset it needs (`Pick<Deps, 'db'>`). */
export interface Deps {
  readonly config: Config;
  readonly db: Db;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The outbox publisher; absent where nothing publishes (tools, some tests). */
  readonly events?: EventPublisher | undefined;
  /** Operational metrics (EMF in a Lambda, Prometheus locally); absent: none recorded. */
  readonly telemetry?: Telemetry | undefined;
  /** The local server's in-process bus (SSE, waits); absent in a Lambda. */
  readonly bus?: InProcessBus | undefined;
  /** Time for waits; tests inject one that never sleeps. Absent: the real clock. */
  readonly waitClock?: WaitClock | undefined;
}

let logger: Logger | undefined;

/**
 * The container's logger. Built before (and independently of) the other dependencies so that
 * even a cold start failing on bad configuration is logged as structured JSON.
 */
export function getLogger(): Logger {
  if (!logger) {
    try {
      logger = createLogger(getConfig());
    } catch {
      logger = createLogger({ log: { serviceName: 'drydock-statemgmt', level: 'INFO' } });
    }
  }
  return logger;
}

/**
 * Builds the `Db` adapter the configuration names. Lambda containers serve one request at a
 * time, so the `pg` pool stays small; statement timeouts keep a stuck query inside the Lambda's.
 */
export async function createDb(
  config: DbConfig,
  options: { notify?: boolean } = {},
): Promise<TransactionalDb> {
  switch (config.driver) {
    // The pg and PGlite adapters are loaded only by the driver that uses them: a Lambda on the
    // Data API never evaluates `pg` (its bundle keeps the adapter in a chunk it never loads).
    case 'pglite': {
      const { createPgliteDb } = await import('./db/pglite.ts');
      return createPgliteDb(config.dataDir === 'memory://' ? {} : { dataDir: config.dataDir });
    }
    case 'pg': {
      // Read once per container (the same Secrets Manager reader the design resolver uses); the
      // URL is then held by the pool only. Loaded on demand: only this branch needs the client.
      const url =
        'url' in config
          ? config.url
          : (
              await (await import('./aws/secrets.ts')).createSecretsManagerReader()(
                config.urlSecretArn,
              )
            ).trim();
      const { createPgDb } = await import('./db/pg.ts');
      return createPgDb({
        connectionString: url,
        maxConnections: 2,
        statementTimeoutMs: config.statementTimeoutMs,
        // The local server's sessions ask the outbox trigger to NOTIFY other local servers.
        ...(options.notify ? { sessionSettings: { 'drydock.notify': 'on' } } : {}),
      });
    }
    case 'data-api': {
      // The endpoint comes from AWS_ENDPOINT_URL_RDS_DATA when set (the client reads it), so the
      // local emulator needs no code path of its own. Loaded here rather than at init, so a
      // function without a database (design) never evaluates the client.
      const { createDataApiDb } = await import('./db/data-api.ts');
      return createDataApiDb({
        resourceArn: config.resourceArn,
        secretArn: config.secretArn,
        database: config.database,
        // The adapter lives as long as the container; its retries end with the invocation
        // waiting on them (the one the handler kit is serving).
        remainingTimeMs,
      });
    }
  }
}

/**
 * A container's dependencies as the composition root holds them: the adapter behind `db` also
 * runs transactions, which only the migration runner uses (`Deps` hands use cases query alone).
 */
export interface ContainerDeps extends Deps {
  readonly db: TransactionalDb;
}

/** Builds a full `Deps` from a configuration (the local server and tests call this directly). */
export async function createDeps(
  config: Config,
  log: Logger = createLogger(config),
): Promise<ContainerDeps> {
  // The outbox's publisher and sinks load with the dependencies (the first request), not at init.
  const [db, { InProcessBus }, { createOutboxHandOff }, { createPublisher }, sinks] =
    await Promise.all([
      createDb(config.db, { notify: config.events.sink === 'local' }),
      import('./notify/bus.ts'),
      import('./notify/hand-off.ts'),
      import('./notify/publisher.ts'),
      import('./notify/sinks.ts'),
    ]);
  const telemetry = getTelemetry(config);
  const bus = config.events.sink === 'local' ? new InProcessBus() : undefined;
  const sink: EventSink =
    config.events.sink === 'eventbridge'
      ? await sinks.createEventBridgeSink(config.events.busName as string)
      : bus
        ? sinks.busSink(bus)
        : // Nobody to tell: events are marked published (and counted) by the schedule.
          { name: 'none', deliver: async (events) => events.map((event) => event.eventId) };
  const mode =
    config.events.sink === 'none' || config.events.publish === 'schedule'
      ? 'none'
      : bus
        ? 'background'
        : 'inline';
  // Inline (a Lambda): writes hand their events over and marks ride on the next statement, so
  // publishing costs no Data API call of its own.
  const handOff = mode === 'inline' ? createOutboxHandOff(db) : undefined;
  const events = createPublisher({
    db,
    sink,
    mode,
    log,
    onDelivered: (delivered) => recordEventCounts(telemetry, delivered),
    ...(handOff ? { handOff } : {}),
  });
  return Object.freeze({
    config,
    db: handOff?.db ?? db,
    logger: log,
    clock: { now: () => new Date() },
    events,
    telemetry,
    bus,
  });
}

let telemetry: Telemetry | undefined;

/**
 * The container's (or local server's) metrics output, one per process so every function served
 * locally adds to the same registry.
 */
export function getTelemetry(config: Config = getConfig()): Telemetry {
  telemetry ??= createTelemetry(config);
  return telemetry;
}

function createTelemetry(config: Config): Telemetry {
  switch (config.metrics.output) {
    case 'emf':
      return createEmfTelemetry({
        namespace: config.metrics.namespace,
        serviceName: config.log.serviceName,
      });
    case 'prometheus':
      return new PrometheusRegistry();
    default:
      return NO_TELEMETRY;
  }
}

let deps: Promise<ContainerDeps> | undefined;

/**
 * The container's dependencies, built on first use and memoised: every invocation after the
 * first reuses the same pool (or PGlite instance). A failed build is forgotten so the next
 * invocation retries instead of failing forever on a transient Secrets Manager error.
 */
export function getDeps(): Promise<ContainerDeps> {
  if (!deps) {
    deps = createDeps(getConfig(), getLogger());
    deps.catch(() => {
      deps = undefined;
    });
  }
  return deps;
}

/** Closes the memoised dependencies (the local server on Ctrl-C, so PGlite flushes). */
export async function closeDeps(): Promise<void> {
  const current = deps;
  deps = undefined;
  if (current) await (await current).db.close();
}
