import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { countingDb } from '#test/support/counting-db.ts';
import {
  newOperationState,
  STORE_OPERATIONS,
  type StoreFunction,
} from '#test/support/store-operations.ts';
import { TEST_DRIVERS, testDatabase } from '#test/support/test-db.ts';

/**
 * Every store operation is one statement (one round trip): the counting wrapper sees exactly one
 * `query` per call, and over the Data API the emulator sees exactly one ExecuteStatement. The
 * operations are the list in `test/support/store-operations.ts`, which the bench reports too.
 */
describe.each(TEST_DRIVERS)('statements per store operation on %s', (driver) => {
  const t = testDatabase(driver);

  it('is one for every operation', async () => {
    const db = countingDb(t.db);
    const state = newOperationState();
    const counts: Record<string, number> = {};
    // On the Data API the emulator also counts the HTTPS calls the Lambda would pay for: exactly
    // one ExecuteStatement, with no transaction, metadata round trip or retry on top.
    const apiCalls: Record<string, unknown> = {};
    for (const operation of STORE_OPERATIONS) {
      await operation.setup?.(db, state);
      db.reset();
      t.resetDataApiCalls?.();
      await operation.run(db, state);
      counts[operation.name] = db.statements;
      const calls = t.dataApiCalls?.();
      if (calls && !(calls.total === 1 && calls.ExecuteStatement === 1)) {
        apiCalls[operation.name] = calls;
      }
    }
    expect(Object.entries(counts).filter(([, n]) => n !== 1)).toEqual([]);
    expect(apiCalls).toEqual({});
    if (driver === 'data-api') expect(t.dataApiCalls).toBeTypeOf('function');
  });
});

/** Async exports of the store modules that are not operations: the runners every operation uses. */
const NOT_OPERATIONS = new Set(['run.ts#run', 'run.ts#runRetryingOnConflict']);

describe('the list of store operations', () => {
  it('counts every async function the store modules export, under names of its own', async () => {
    const dir = new URL('../../shared/store/', import.meta.url);
    const counted = new Set<unknown>(STORE_OPERATIONS.map((o) => o.operation));
    const uncounted: string[] = [];
    const exported = new Set<StoreFunction>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const module: Record<string, unknown> = await import(new URL(file, dir).href);
      for (const [name, value] of Object.entries(module)) {
        if (typeof value !== 'function' || value.constructor.name !== 'AsyncFunction') continue;
        if (NOT_OPERATIONS.has(`${file}#${name}`)) continue;
        exported.add(value as StoreFunction);
        if (!counted.has(value)) uncounted.push(`${file}#${name}`);
      }
    }
    expect(uncounted).toEqual([]);
    // Nothing in the list that the store no longer exports (a rename would leave it behind).
    expect(STORE_OPERATIONS.filter((o) => !exported.has(o.operation)).map((o) => o.name)).toEqual(
      [],
    );
    const names = STORE_OPERATIONS.map((o) => o.name);
    expect(new Set(names).size).toBe(names.length);
  });
});
