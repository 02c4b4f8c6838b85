import { createHash } from 'node:crypto';
import type { Db, TransactionalDb } from './port.ts';
import { type ColumnSpec, type Statement, sql, statement } from './sql.ts';
import { opaqueRunAt } from './sql-scan.ts';

/** One numbered, forward-only migration file (`migrations/0001_init.sql`). */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export interface MigrationResult {
  /** Migrations applied by this run, in order. */
  readonly applied: string[];
  /** Every migration recorded in the database after the run. */
  readonly current: number;
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

/** sha256 of the file text: an applied file that was edited afterwards is refused. */
export function checksum(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Splits a migration file into single statements. The Data API runs exactly one statement per
 * call, so every driver runs migrations statement by statement. Semicolons inside quotes,
 * dollar-quoted bodies and comments do not split.
 */
export function splitStatements(text: string): string[] {
  const statements: string[] = [];
  let current = '';
  // Whether `current` holds anything but comments and white space.
  let hasCode = false;
  let i = 0;
  while (i < text.length) {
    const opaque = opaqueRunAt(text, i);
    if (opaque) {
      current += text.slice(i, opaque.end);
      hasCode ||= !opaque.comment;
      i = opaque.end;
    } else if (text[i] === ';') {
      if (hasCode) statements.push(current.trim());
      current = '';
      hasCode = false;
      i += 1;
    } else {
      const ch = text[i] as string;
      current += ch;
      hasCode ||= ch.trim() !== '';
      i += 1;
    }
  }
  if (hasCode) statements.push(current.trim());
  return statements;
}

function raw(text: string): Statement<ColumnSpec> {
  return { text, params: [], columns: {} };
}

// One arbitrary, fixed advisory lock key for this service's migrations: two runners (a deploy
// trigger and `npm start`, say) serialise on it inside their transactions.
const MIGRATION_LOCK = raw('select pg_advisory_xact_lock(4702180175502314917)');

const CREATE_LEDGER = raw(`create table if not exists schema_migrations (
  version integer primary key,
  name text not null,
  checksum text not null,
  applied_at timestamptz not null default now()
)`);

const SELECT_APPLIED = statement(
  { version: 'int', name: 'text', checksum: 'text' },
  sql`select version, name, checksum from schema_migrations order by version`,
);

/**
 * Applies the pending migrations in order, each in its own transaction with the ledger row
 * inserted in the same transaction. Safe when two runners start at once (advisory lock, then a
 * re-check), and refuses to run when an applied file's checksum changed or the database holds a
 * migration this build does not know.
 */
export async function migrate(
  db: TransactionalDb,
  migrations: readonly Migration[],
): Promise<MigrationResult> {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  await db.transaction(async (tx) => {
    await tx.query(MIGRATION_LOCK);
    await tx.query(CREATE_LEDGER);
  });

  const ledger = await db.query(SELECT_APPLIED);
  verifyLedger(ledger, ordered);
  const pending = ordered.filter((m) => !ledger.some((row) => row.version === m.version));

  const applied: string[] = [];
  for (const migration of pending) {
    const done = await db.transaction(async (tx) => {
      await tx.query(MIGRATION_LOCK);
      // Another runner may have applied it while this one waited for the lock.
      const now = await tx.query(SELECT_APPLIED);
      verifyLedger(now, ordered);
      if (now.some((row) => row.version === migration.version)) return false;
      await tx.query(
        statement(
          {},
          sql`insert into schema_migrations (version, name, checksum) values (${migration.version}, ${migration.name}, ${checksum(migration.sql)})`,
        ),
      );
      for (const text of splitStatements(migration.sql)) await tx.query(raw(text));
      return true;
    });
    if (done) applied.push(migration.name);
  }
  const last = ordered.at(-1);
  return { applied, current: last?.version ?? 0 };
}

function verifyLedger(
  ledger: readonly { version: number; name: string; checksum: string }[],
  migrations: readonly Migration[],
): void {
  for (const row of ledger) {
    const known = migrations.find((m) => m.version === row.version);
    if (!known) {
      throw new MigrationError(
        `the database has migration ${row.version} (${row.name}) that this build does not know; deploy a newer build`,
      );
    }
    if (checksum(known.sql) !== row.checksum) {
      throw new MigrationError(
        `migration ${row.version} (${row.name}) was edited after it was applied; add a new migration instead`,
      );
    }
  }
}

const NOT_VALID = statement(
  { name: 'text' },
  // The schema by its name (as migration 0017 finds it): `current_schema()::regnamespace` would
  // read the name as an identifier and miss a schema whose name needs quotes (`"Drydock"`).
  sql`select r.relname || '.' || c.conname as name
        from pg_constraint c join pg_class r on r.oid = c.conrelid
        join pg_namespace n on n.oid = r.relnamespace
       where not c.convalidated and n.nspname = current_schema()
       order by 1`,
);

/**
 * Constraints of the schema still `NOT VALID` (as `table.constraint`): enforced on new writes,
 * but some row written before them is past them, or their table was too large to check within
 * migration 0017's deadline (it validated every other one).
 */
export async function unvalidatedConstraints(db: Db): Promise<string[]> {
  return (await db.query(NOT_VALID)).map((row) => row.name);
}
