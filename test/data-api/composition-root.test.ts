import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '#shared/config.ts';
import { sql, statement } from '#shared/db/sql.ts';
import { createDb } from '#shared/deps.ts';
import { type EmulatedDatabase, emulatedDatabase } from '#test/support/data-api-emulator/index.ts';
import { adminQuery, SKIP_SERVER } from '#test/support/pg-server.ts';

/**
 * The production wiring, untouched: configuration from the environment (`DB_DRIVER=data-api`
 * and the ARNs), the client's own environment credentials and endpoint resolution. Only
 * `AWS_ENDPOINT_URL_RDS_DATA` and dummy keys point it at the emulator.
 */
const schema = `t_${randomBytes(6).toString('hex')}`;
describe.skipIf(SKIP_SERVER)('the composition root on DB_DRIVER=data-api', () => {
  let dataApi: EmulatedDatabase;

  beforeAll(async () => {
    await adminQuery(`create schema ${schema}`);
    dataApi = await emulatedDatabase(schema);
    for (const [name, value] of Object.entries(dataApi.env)) vi.stubEnv(name, value);
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    await dataApi?.close();
    await adminQuery(`drop schema if exists ${schema} cascade`);
  });

  it('reaches the emulator through AWS_ENDPOINT_URL_RDS_DATA with no code path of its own', async () => {
    const config = loadConfig(process.env);
    const db = await createDb(config.db);
    try {
      expect(db.driver).toBe('data-api');
      const [row] = await db.query(
        statement({ schema: 'text' }, sql`select current_schema()::text as schema`),
      );
      expect(row?.schema).toBe(schema);
      expect(dataApi.calls().ExecuteStatement).toBe(1);
    } finally {
      await db.close();
    }
  });
});
