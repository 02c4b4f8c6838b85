import { describe, expect, it } from 'vitest';
import { createPgDb } from '#shared/db/pg.ts';
import { DbUnavailableError } from '#shared/db/port.ts';
import { statement } from '#shared/db/sql.ts';
import { adminQuery, SKIP_SERVER, urlWithSchema } from '#test/support/pg-server.ts';

const BACKEND = statement({ pid: 'int' }, { text: 'select pg_backend_pid() as pid', params: [] });
const SLEEP = statement(
  { pid: 'int' },
  { text: 'select pg_backend_pid() as pid from pg_sleep(0.05)', params: [] },
);

// The pg adapter keeps the connection a statement used for the next one, outside node-postgres's
// pool (shared/db/pg.ts `heldConnections`); these hold its pool's guarantees on a real server.
describe.skipIf(SKIP_SERVER)('pg adapter connections', () => {
  it('reuses one connection for statements one after another', async () => {
    const db = createPgDb({ connectionString: urlWithSchema('public'), maxConnections: 4 });
    try {
      const pids = new Set<number>();
      for (let i = 0; i < 5; i += 1)
        pids.add(((await db.query(BACKEND))[0] as { pid: number }).pid);
      expect(pids.size).toBe(1);
    } finally {
      await db.close();
    }
  });

  it('runs more statements at once than it has connections, each waiting its turn', async () => {
    const db = createPgDb({ connectionString: urlWithSchema('public'), maxConnections: 2 });
    try {
      // Two connections held, then eight statements at once: six wait for one of the two.
      await Promise.all([db.query(SLEEP), db.query(SLEEP)]);
      const rows = await Promise.all(Array.from({ length: 8 }, () => db.query(SLEEP)));
      const pids = new Set(rows.map((r) => (r[0] as { pid: number }).pid));
      expect(pids.size).toBeLessThanOrEqual(2);
      // A transaction takes a held connection too, instead of waiting on the pool.
      const inside = await db.transaction((tx) => tx.query(BACKEND));
      expect(pids.has((inside[0] as { pid: number }).pid)).toBe(true);
    } finally {
      await db.close();
    }
  });

  it('keeps the connection of a transaction that failed and rolled back', async () => {
    const db = createPgDb({ connectionString: urlWithSchema('public'), maxConnections: 1 });
    try {
      const before = ((await db.query(BACKEND))[0] as { pid: number }).pid;
      await expect(
        db.transaction(async (tx) => {
          await tx.query(BACKEND);
          throw new Error('the work failed');
        }),
      ).rejects.toThrow('the work failed');
      const after = ((await db.query(BACKEND))[0] as { pid: number }).pid;
      expect(after).toBe(before);
    } finally {
      await db.close();
    }
  });

  it('drops a held connection the server ends, without crashing, and opens another', async () => {
    const db = createPgDb({ connectionString: urlWithSchema('public'), maxConnections: 1 });
    try {
      const before = ((await db.query(BACKEND))[0] as { pid: number }).pid;
      await adminQuery(`select pg_terminate_backend(${Number(before)})`);
      // The held connection learns of its end either while idle (dropped at once) or on its next
      // statement (that one fails as unavailable): either way the statement after it reconnects.
      let after: number | undefined;
      for (let attempt = 0; attempt < 2 && after === undefined; attempt += 1) {
        try {
          after = ((await db.query(BACKEND))[0] as { pid: number }).pid;
        } catch (error) {
          expect(error).toBeInstanceOf(DbUnavailableError);
        }
      }
      expect(after).toBeDefined();
      expect(after).not.toBe(before);
    } finally {
      await db.close();
    }
  });

  it('refuses statements after close', async () => {
    const db = createPgDb({ connectionString: urlWithSchema('public'), maxConnections: 1 });
    await db.query(BACKEND);
    await db.close();
    await expect(db.query(BACKEND)).rejects.toThrow(/after calling end/);
  });
});
