import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  GENERATED_PATH,
  readMigrationFiles,
  renderMigrationModule,
} from '#infra/scripts/build-migrations.ts';
import { checksum, migrate, splitStatements } from '#shared/db/migrate.ts';
import { migrations } from '#shared/db/migrations.generated.ts';
import { type ColumnSpec, sql, statement } from '#shared/db/sql.ts';
import { openTestDb, TEST_DRIVERS, type TestDb } from '#test/support/test-db.ts';

describe('splitStatements', () => {
  it('splits on top-level semicolons only', () => {
    const text = `create table a (x text default 'a;b'); -- c;d
/* e; /* nested; */ f; */ select $$ g; $$, $tag$ h; $tag$, "i;j" from a;;
  `;
    expect(splitStatements(text)).toEqual([
      "create table a (x text default 'a;b')",
      `-- c;d\n/* e; /* nested; */ f; */ select $$ g; $$, $tag$ h; $tag$, "i;j" from a`,
    ]);
  });

  // The Data API's placeholder rewrite reads text with the same scanner (shared/db/sql-scan.ts).
  it("skips what the placeholder rewrite skips: E'' escapes, tags with digits, `$` inside names", () => {
    const text = `select E'it\\'s; fine', $body1$ k; $body1$, a$b from t; -- only a comment;
select 2; /* nothing */ ;`;
    expect(splitStatements(text)).toEqual([
      "select E'it\\'s; fine', $body1$ k; $body1$, a$b from t",
      '-- only a comment;\nselect 2',
    ]);
  });
});

describe('the generated migration module', () => {
  it('matches migrations/*.sql (run `npm run build:migrations` after adding one)', () => {
    expect(readFileSync(GENERATED_PATH, 'utf8')).toBe(renderMigrationModule(readMigrationFiles()));
  });
});

const tables = statement(
  { name: 'text' },
  sql`select table_name::text as name from information_schema.tables where table_schema = current_schema() order by 1`,
);

describe.each(TEST_DRIVERS)('migrate on %s', (driver) => {
  let t: TestDb;
  afterEach(async () => t.close());

  it('applies every migration once, then nothing', async () => {
    t = await openTestDb(driver, { migrate: false });
    const first = await migrate(t.db, migrations);
    expect(first.applied).toEqual(migrations.map((m) => m.name));
    const second = await migrate(t.db, migrations);
    expect(second.applied).toEqual([]);
    const names = (await t.db.query(tables)).map((r) => r.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'tasks',
        'result_message',
        'build_data',
        'active_instance',
        'schema_migrations',
      ]),
    );
  });

  it('refuses to run when an applied file was edited', async () => {
    t = await openTestDb(driver);
    const edited = migrations.map((m, i) => (i === 0 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
    await expect(migrate(t.db, edited)).rejects.toThrow(/was edited after it was applied/);
  });

  it('refuses to run when the database holds an unknown migration', async () => {
    t = await openTestDb(driver);
    await expect(migrate(t.db, [])).rejects.toThrow(/does not know/);
  });

  it('rolls a failing migration back whole', async () => {
    t = await openTestDb(driver);
    const broken = [
      ...migrations,
      { version: 9999, name: '9999_broken', sql: 'create table ok_then (x int); select 1/0;' },
    ];
    await expect(migrate(t.db, broken)).rejects.toThrow(/division by zero/);
    const names = (await t.db.query(tables)).map((r) => r.name);
    expect(names).not.toContain('ok_then');
    const ledger = await t.db.query(
      statement(
        { n: 'int' } satisfies ColumnSpec,
        sql`select count(*) as n from schema_migrations where version = 9999`,
      ),
    );
    expect(ledger[0]?.n).toBe(0);
  });
});

describe.runIf(TEST_DRIVERS.includes('pg'))('migrate races', () => {
  it('two runners starting at once apply each migration exactly once', async () => {
    const t = await openTestDb('pg', { migrate: false });
    try {
      const runners = Array.from({ length: 4 }, () => t.connect());
      const results = await Promise.all(runners.map((db) => migrate(db, migrations)));
      const appliedCounts = results.map((r) => r.applied.length);
      expect(appliedCounts.reduce((a, b) => a + b, 0)).toBe(migrations.length);
      const rows = await t.db.query(
        statement(
          { version: 'int', checksum: 'text' },
          sql`select version, checksum from schema_migrations order by version`,
        ),
      );
      expect(rows).toEqual(
        migrations.map((m) => ({ version: m.version, checksum: checksum(m.sql) })),
      );
    } finally {
      await t.close();
    }
  });
});
