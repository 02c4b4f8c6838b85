import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '#shared/db/port.ts';
import { type SqlFragment, sql, statement } from '#shared/db/sql.ts';
import { openTestDb, TEST_DRIVERS, type TestDb } from '#test/support/test-db.ts';

const ID = '00000000-0000-4000-8000-000000000000';

/**
 * Drydock had no index on result_message.task_id, tasks.status or parent_task_id. With sequential
 * scans disabled, a query that no index serves still plans a Seq Scan, so these plans prove an
 * index exists for each lookup the store makes.
 */
describe.runIf(TEST_DRIVERS.includes('pg'))('indexes behind every lookup', () => {
  let t: TestDb;
  let db: Db;
  beforeAll(async () => {
    t = await openTestDb('pg');
    db = t.connect({ enable_seqscan: 'off' }, 1);
  });
  afterAll(async () => t.close());

  const plan = async (query: SqlFragment) => {
    const rows = await db.query(statement({ 'QUERY PLAN': 'text' }, sql`explain ${query}`));
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  };

  it.each([
    [
      'messages of a task',
      sql`select * from result_message where task_id = ${ID}::uuid order by sequence`,
    ],
    [
      'subtasks of a parent',
      sql`select * from tasks where parent_task_id = ${ID}::uuid order by seq`,
    ],
    ['the queue head', sql`select task_id from task_queue where queued order by seq limit 1`],
    [
      'build data by node',
      sql`select * from build_data where node_name = 'n' order by collected_date desc limit 10`,
    ],
    [
      'build data by task',
      sql`select * from build_data where task_id = ${ID}::uuid order by collected_date desc limit 10`,
    ],
    [
      'latest per generator',
      sql`select collected_date from build_data where node_name = 'n' and generator = 'g' order by collected_date desc limit 1`,
    ],
    ['work of dead epochs', sql`select task_id from task_queue where epoch < 5 and not queued`],
  ])('%s uses an index', async (_name, query) => {
    expect(await plan(query)).not.toMatch(/Seq Scan/);
  });
});
