import { createDataApiDb, type DataApiDbOptions } from '#shared/db/data-api.ts';
import type { TransactionalDb } from '#shared/db/port.ts';
import { urlWithSchema } from '../pg-server.ts';
import {
  type CallCounts,
  type DataApiEmulator,
  type DataApiEmulatorOptions,
  startDataApiEmulator,
} from './server.ts';

export {
  type CallCounts,
  type DataApiEmulator,
  type DataApiEmulatorOptions,
  type EmulatedCluster,
  type EmulatedSecret,
  type EmulatorClock,
  type FaultPlan,
  type ManualClock,
  manualClock,
  type OperationName,
  REAL_EMULATOR_CLOCK,
  startDataApiEmulator,
} from './server.ts';

/** The region and account the tests' ARNs pretend to live in. */
export const TEST_REGION = 'us-east-1';
const ACCOUNT = '123456789012';

/** A cluster ARN for a test database (one per test schema). */
export function testClusterArn(name: string): string {
  return `arn:aws:rds:${TEST_REGION}:${ACCOUNT}:cluster:${name}`;
}

/** The secret every test cluster accepts; the emulator maps it to the test server's user. */
export const TEST_SECRET_ARN = `arn:aws:secretsmanager:${TEST_REGION}:${ACCOUNT}:secret:rds!cluster-drydock-test-AbCdEf`;

/** Dummy credentials: the emulator accepts any SigV4 signature. */
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'emulator' };

/** What a client of the emulator signs with (beside its endpoint): the tests' region and dummy keys. */
export const EMULATOR_SIGNING = { region: TEST_REGION, credentials: TEST_CREDENTIALS } as const;

const TEST_SECRETS = { [TEST_SECRET_ARN]: { username: 'postgres' } };

let shared: { emulator: Promise<DataApiEmulator>; users: number } | undefined;

/**
 * One emulator per test process, shared by every data-api test database in it, and closed when
 * the last one is released (so a test file leaves no server behind).
 */
export function acquireSharedEmulator(): Promise<DataApiEmulator> {
  if (!shared) {
    shared = { emulator: startDataApiEmulator({ secrets: TEST_SECRETS }), users: 0 };
  }
  shared.users += 1;
  return shared.emulator;
}

/** Gives back what `acquireSharedEmulator` handed out. */
export async function releaseSharedEmulator(): Promise<void> {
  if (!shared) return;
  shared.users -= 1;
  if (shared.users > 0) return;
  const { emulator } = shared;
  shared = undefined;
  await (await emulator).close();
}

/** A database on the emulator: a cluster ARN over one schema of the test server, and the ways to reach it. */
export interface EmulatedDatabase {
  readonly emulator: DataApiEmulator;
  readonly resourceArn: string;
  /** The database name a call sends (the test server's). */
  readonly database: string;
  /** The adapter's options for this cluster; `overrides` for a proxy endpoint, a deadline, a retry policy. */
  adapterOptions(overrides?: Partial<DataApiDbOptions>): DataApiDbOptions;
  /** The data-api adapter on this cluster, closed with the database. */
  open(overrides?: Partial<DataApiDbOptions>): TransactionalDb;
  /**
   * The deployed configuration (`DB_DRIVER=data-api`, the ARNs) pointed at the emulator through
   * the SDK's own `AWS_ENDPOINT_URL_RDS_DATA`, with dummy keys: for `loadConfig`, a child process
   * or `vi.stubEnv`.
   */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Another cluster over the same schema whose sessions carry `settings` (a non-UTC TimeZone,
   * say), closed with this one.
   */
  withSettings(settings: Readonly<Record<string, string>>): EmulatedDatabase;
  /** Data API calls this cluster (and its `withSettings` siblings) received since added or reset. */
  calls(): CallCounts;
  resetCalls(): void;
  /** Closes the adapters it opened, forgets the cluster and lets go of the emulator. */
  close(): Promise<void>;
}

export interface EmulatedDatabaseOptions {
  /** Session settings of the cluster's connections; UTC unless given (as Aurora's default). */
  readonly settings?: Readonly<Record<string, string>>;
  /** Tells apart several clusters over one schema (say, one in a non-UTC zone). */
  readonly suffix?: string;
  readonly maxConnections?: number;
  /**
   * An emulator of its own with these limits (short idle or statement timeouts, small response
   * limits), closed with the database; otherwise the process's shared emulator.
   */
  readonly limits?: Omit<DataApiEmulatorOptions, 'clusters' | 'secrets'>;
}

/**
 * The one way a test or a bench phase puts the Data API in front of a schema of the test server:
 * registers a cluster for it on the emulator and hands out its adapter and its environment.
 */
export async function emulatedDatabase(
  schema: string,
  options: EmulatedDatabaseOptions = {},
): Promise<EmulatedDatabase> {
  const own = options.limits !== undefined;
  const emulator = own
    ? await startDataApiEmulator({ ...options.limits, secrets: TEST_SECRETS })
    : await acquireSharedEmulator();
  return clusterOn(emulator, schema, options, () =>
    own ? emulator.close() : releaseSharedEmulator(),
  );
}

function clusterOn(
  emulator: DataApiEmulator,
  schema: string,
  options: EmulatedDatabaseOptions,
  release: () => Promise<void>,
): EmulatedDatabase {
  const resourceArn = testClusterArn(
    `drydock-${schema.replaceAll('_', '-')}${options.suffix ? `-${options.suffix}` : ''}`,
  );
  emulator.addCluster(resourceArn, {
    connectionString: urlWithSchema(schema, { TimeZone: 'UTC', ...options.settings }),
    ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
  });
  const database = new URL(urlWithSchema(schema)).pathname.slice(1);
  const opened: TransactionalDb[] = [];
  const variants: EmulatedDatabase[] = [];
  const adapterOptions = (overrides: Partial<DataApiDbOptions> = {}): DataApiDbOptions => ({
    resourceArn,
    secretArn: TEST_SECRET_ARN,
    database,
    endpoint: emulator.endpoint,
    ...EMULATOR_SIGNING,
    ...overrides,
  });
  return {
    emulator,
    resourceArn,
    database,
    adapterOptions,
    open(overrides) {
      const db = createDataApiDb(adapterOptions(overrides));
      opened.push(db);
      return db;
    },
    withSettings(settings) {
      const variant = clusterOn(
        emulator,
        schema,
        {
          ...options,
          settings: { ...options.settings, ...settings },
          suffix: `${options.suffix ?? 'v'}-${variants.length + 1}`,
        },
        async () => {},
      );
      variants.push(variant);
      return variant;
    },
    env: {
      DB_DRIVER: 'data-api',
      DB_CLUSTER_ARN: resourceArn,
      DB_SECRET_ARN: TEST_SECRET_ARN,
      DB_NAME: database,
      AWS_ENDPOINT_URL_RDS_DATA: emulator.endpoint,
      AWS_REGION: TEST_REGION,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    },
    calls() {
      const total = emulator.calls(resourceArn);
      for (const variant of variants) {
        for (const [op, n] of Object.entries(variant.calls())) {
          total[op as keyof CallCounts] += n;
        }
      }
      return total;
    },
    resetCalls() {
      emulator.resetCalls(resourceArn);
      for (const variant of variants) variant.resetCalls();
    },
    async close() {
      await Promise.all(variants.map((variant) => variant.close()));
      await Promise.all(opened.map((db) => db.close()));
      await emulator.removeCluster(resourceArn);
      await release();
    },
  };
}
