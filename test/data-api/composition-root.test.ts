import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '#shared/config.ts';
import { sql, statement } from '#shared/db/sql.ts';
import { createDb } from '#shared/deps.ts';
import {
  type DataApiEmulator,
  startDataApiEmulator,
  TEST_CREDENTIALS,
  TEST_REGION,
  TEST_SECRET_ARN,
  testClusterArn,
} from '#test/support/data-api-emulator/index.ts';
import { adminQuery, SKIP_SERVER, urlWithSchema } from '#test/support/pg-server.ts';

/**
 * The production wiring, untouched: configuration from the environment (`DB_DRIVER=data-api`
 * and the ARNs), the client's own environment credentials and endpoint resolution. Only
 * `AWS_ENDPOINT_URL_RDS_DATA` and dummy keys point it at the emulator.
 */
const schema = `t_${randomBytes(6).toString('hex')}`;
const ARN = testClusterArn(`root-${schema.replaceAll('_', '-')}`);
describe.skipIf(SKIP_SERVER)('the composition root on DB_DRIVER=data-api', () => {
  let emulator: DataApiEmulator;

  beforeAll(async () => {
    await adminQuery(`create schema ${schema}`);
    emulator = await startDataApiEmulator({
      clusters: { [ARN]: { connectionString: urlWithSchema(schema) } },
      secrets: { [TEST_SECRET_ARN]: { username: 'postgres' } },
    });
    vi.stubEnv('AWS_ENDPOINT_URL_RDS_DATA', emulator.endpoint);
    vi.stubEnv('AWS_ACCESS_KEY_ID', TEST_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', TEST_CREDENTIALS.secretAccessKey);
    vi.stubEnv('AWS_REGION', TEST_REGION);
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    await emulator?.close();
    await adminQuery(`drop schema if exists ${schema} cascade`);
  });

  it('reaches the emulator through AWS_ENDPOINT_URL_RDS_DATA with no code path of its own', async () => {
    const config = loadConfig({
      DB_DRIVER: 'data-api',
      DB_CLUSTER_ARN: ARN,
      DB_SECRET_ARN: TEST_SECRET_ARN,
      DB_NAME: 'test',
    });
    const db = await createDb(config.db);
    try {
      expect(db.driver).toBe('data-api');
      const [row] = await db.query(
        statement({ schema: 'text' }, sql`select current_schema()::text as schema`),
      );
      expect(row?.schema).toBe(schema);
      expect(emulator.calls(ARN).ExecuteStatement).toBe(1);
    } finally {
      await db.close();
    }
  });
});
