import type { Db } from '../db/port.ts';
import { sql, statement } from '../db/sql.ts';
import { run } from './run.ts';

const NOW_COLUMNS = { dbNow: 'timestamptz' } as const;

/** One cheap read proving the database answers; writes nothing (Drydock's wrote a task per probe). */
export async function checkDatabase(db: Db): Promise<{ dbNow: string }> {
  const [row] = await run(db, statement(NOW_COLUMNS, sql`select now() as "dbNow"`));
  if (!row) throw new Error('select now() returned no row');
  return row;
}
