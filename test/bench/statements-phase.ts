import type { Db } from '#shared/db/port.ts';
import { countingDb } from '#test/support/counting-db.ts';
import { type EmulatedDatabase, emulatedDatabase } from '#test/support/data-api-emulator/index.ts';
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

/** The Data API in front of the bench schema: a cluster of its own on the emulator. */
export function emulateBenchSchema(schema: BenchSchema): Promise<EmulatedDatabase> {
  return emulatedDatabase(schema.name, { maxConnections: 8 });
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

  const emulated = await emulateBenchSchema(schema);
  let apiCounts: Map<string, number>;
  try {
    apiCounts = await countEach(
      schema,
      emulated.open(),
      () => emulated.calls().total,
      () => emulated.resetCalls(),
    );
  } finally {
    await emulated.close();
  }
  await reset(schema);
  return STORE_OPERATIONS.map(({ name }) => ({
    operation: name,
    pgStatements: pgCounts.get(name) ?? Number.NaN,
    dataApiCalls: apiCounts.get(name) ?? null,
  }));
}
