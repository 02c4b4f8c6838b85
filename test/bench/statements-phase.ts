import { createDataApiDb } from '#shared/db/data-api.ts';
import type { Db } from '#shared/db/port.ts';
import { countingDb } from '#test/support/counting-db.ts';
import {
  type DataApiEmulator,
  startDataApiEmulator,
  TEST_CREDENTIALS,
  TEST_REGION,
  TEST_SECRET_ARN,
  testClusterArn,
} from '#test/support/data-api-emulator/index.ts';
import { urlWithSchema } from '#test/support/pg-server.ts';
import { newOperationState, STORE_OPERATIONS } from '#test/support/store-operations.ts';
import type { BenchSchema } from './bench-db.ts';

/** Statements (pg, counted by the wrapper) and Data API calls (counted by the emulator) per store operation. */
export interface OperationCount {
  readonly operation: string;
  readonly pgStatements: number;
  readonly dataApiCalls: number | null;
}

async function reset(schema: BenchSchema): Promise<void> {
  await schema.query(
    'truncate tasks, result_message, build_data, active_instance, applied_event, maintenance_claim, boot_action, boot_action_status',
  );
}

async function countEach(
  schema: BenchSchema,
  db: Db,
  count: () => number,
  resetCount: () => void,
): Promise<Map<string, number>> {
  await reset(schema);
  const state = newOperationState();
  const counts = new Map<string, number>();
  for (const op of STORE_OPERATIONS) {
    await op.setup?.(db, state);
    resetCount();
    await op.run(db, state);
    counts.set(op.name, count());
  }
  return counts;
}

/** The local Data API emulator over the bench schema, with a cluster ARN of its own. */
export async function startEmulatorFor(
  schema: BenchSchema,
): Promise<{ emulator: DataApiEmulator; resourceArn: string; database: string }> {
  const emulator = await startDataApiEmulator({
    secrets: { [TEST_SECRET_ARN]: { username: 'postgres' } },
  });
  const resourceArn = testClusterArn(`drydock-${schema.name.replaceAll('_', '-')}`);
  emulator.addCluster(resourceArn, {
    connectionString: urlWithSchema(schema.name, { TimeZone: 'UTC' }),
    maxConnections: 8,
  });
  return { emulator, resourceArn, database: new URL(schema.url).pathname.slice(1) };
}

/**
 * Runs every store operation once through the counting wrapper on the `pg` adapter and once
 * through the `data-api` adapter against the emulator, and reports what each one cost.
 */
export async function runStatementsPhase(schema: BenchSchema): Promise<OperationCount[]> {
  const pg = countingDb(schema.storeDb(2));
  const pgCounts = await countEach(
    schema,
    pg,
    () => pg.statements,
    () => pg.reset(),
  );

  const { emulator, resourceArn, database } = await startEmulatorFor(schema);
  let apiCounts: Map<string, number>;
  try {
    const dataApi = createDataApiDb({
      resourceArn,
      secretArn: TEST_SECRET_ARN,
      database,
      endpoint: emulator.endpoint,
      region: TEST_REGION,
      credentials: TEST_CREDENTIALS,
    });
    try {
      apiCounts = await countEach(
        schema,
        dataApi,
        () => emulator.calls(resourceArn).total,
        () => emulator.resetCalls(resourceArn),
      );
    } finally {
      await dataApi.close();
    }
  } finally {
    await emulator.close();
  }
  await reset(schema);
  return STORE_OPERATIONS.map(({ name }) => ({
    operation: name,
    pgStatements: pgCounts.get(name) ?? Number.NaN,
    dataApiCalls: apiCounts.get(name) ?? null,
  }));
}
