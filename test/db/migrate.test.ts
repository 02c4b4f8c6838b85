import { readFileSync } from 'node:fs';
import type { Logger } from '@aws-lambda-powertools/logger';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import {
  GENERATED_PATH,
  readMigrationFiles,
  renderMigrationModule,
} from '#infra/scripts/build-migrations.ts';
import { applyMigrations } from '#shared/api/migrations.ts';
import {
  checksum,
  type Migration,
  migrate,
  splitStatements,
  unvalidatedConstraints,
} from '#shared/db/migrate.ts';
import { migrations } from '#shared/db/migrations.generated.ts';
import { type ColumnSpec, sql, statement } from '#shared/db/sql.ts';
import { errorToResponse } from '#shared/http/errors.ts';
import { getTask } from '#shared/store/tasks.ts';
import { urlWithSchema } from '#test/support/pg-server.ts';
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

/** The bounds migrations 0004, 0008, 0009 and 0010 added NOT VALID, and whether each is proven. */
const bounds = statement(
  { name: 'text', validated: 'bool' },
  sql`select c.conname::text as name, c.convalidated as validated
        from pg_constraint c join pg_class r on r.oid = c.conrelid
       where r.relnamespace = current_schema()::regnamespace
         and c.conname in ('tasks_result_lists_bound', 'tasks_node_filter_bound', 'tasks_row_bound',
                           'result_message_bound', 'build_data_payload_bound')
       order by 1`,
);
const BOUNDS = [
  'build_data_payload_bound',
  'result_message_bound',
  'tasks_node_filter_bound',
  'tasks_result_lists_bound',
  'tasks_row_bound',
];
/** A message of 70,000 characters: past every bound a message has had, and past one Data API row. */
const OLD_MESSAGE = 'x'.repeat(70_000);

/** A task with a message written before migration 0004 bounded messages. Returns the task id. */
async function writeOldMessage(db: TestDb['db']): Promise<string> {
  await migrate(
    db,
    migrations.filter((m) => m.version < 4),
  );
  const [task] = await db.query(
    statement(
      { task_id: 'text' },
      sql`insert into tasks (action, status, message_seq) values ('noop', 'queued', 1) returning task_id::text`,
    ),
  );
  const taskId = task?.task_id as string;
  await db.query(
    statement(
      {},
      sql`insert into result_message (task_id, sequence, message, context_type, context)
          values (${taskId}::uuid, 1, ${OLD_MESSAGE}, 'task', 'c')`,
    ),
  );
  return taskId;
}

/**
 * Runs migration 0017's statements in one transaction on `client` (connected here) and returns
 * the notices it raised: the drivers do not pass notices on, a client of its own hears them.
 * `settings` run first, on the same connection.
 */
async function noticesOf0017(
  client: pg.Client,
  settings: readonly string[] = [],
): Promise<string[]> {
  const notices: string[] = [];
  client.on('notice', (notice) => notices.push(`${notice.severity} ${notice.message}`));
  await client.connect();
  for (const text of settings) await client.query(text);
  const file = migrations.find((m) => m.name === '0017_validate_bounds') as Migration;
  await client.query('begin');
  for (const text of splitStatements(file.sql)) await client.query(text);
  await client.query('commit');
  return notices;
}

describe.each(TEST_DRIVERS)('the NOT VALID bounds on %s (migration 0017)', (driver) => {
  let t: TestDb;
  afterEach(async () => t.close());

  it('are all validated on a database whose rows are within them', async () => {
    t = await openTestDb(driver);
    expect(await t.db.query(bounds)).toEqual(BOUNDS.map((name) => ({ name, validated: true })));
    expect(await unvalidatedConstraints(t.db)).toEqual([]);
  });

  it('stay NOT VALID where an old row is past them, without failing the migration', async () => {
    t = await openTestDb(driver, { migrate: false });
    const taskId = await writeOldMessage(t.db);
    const warnings: unknown[][] = [];
    const logger = { info: () => {}, warn: (...line: unknown[]) => warnings.push(line) };
    const rest = await applyMigrations({ db: t.db, logger: logger as unknown as Logger });
    expect(rest.applied).toContain('0017_validate_bounds');
    expect(await t.db.query(bounds)).toEqual(
      BOUNDS.map((name) => ({ name, validated: name !== 'result_message_bound' })),
    );
    // Every run says so in the log, as the migration's own WARNING reaches none.
    expect(await unvalidatedConstraints(t.db)).toEqual(['result_message.result_message_bound']);
    expect(warnings).toEqual([
      [
        expect.stringMatching(/^constraints not validated: rows written before them are past them/),
        expect.objectContaining({ constraints: ['result_message.result_message_bound'] }),
      ],
    ]);
    // Still enforced on new writes.
    await expect(
      t.db.query(
        statement(
          {},
          sql`insert into result_message (task_id, sequence, message, context_type, context)
              select task_id, 2, ${OLD_MESSAGE}, 'task', 'c' from tasks`,
        ),
      ),
    ).rejects.toMatchObject({ sqlState: '23514', constraint: 'result_message_bound' });
    // The old row is read whole where the driver carries it; the Data API carries 64 KB a row,
    // and its refusal is a 409 saying why, not a 500.
    if (driver === 'data-api') {
      const refusal = await getTask(t.db, taskId).catch((error: unknown) => error);
      expect(refusal).toMatchObject({
        status: 409,
        retry: false,
        message: expect.stringMatching(/stored row is too large to answer through the Data API/),
      });
      // Logged as a warning (an operator must mend the row), not as a caller's refusal.
      const lines: string[] = [];
      const requestLog = {
        info: (message: string) => lines.push(`info ${message}`),
        warn: (message: string) => lines.push(`warn ${message}`),
        error: (message: string) => lines.push(`error ${message}`),
      };
      expect(errorToResponse(refusal, 'req-1', requestLog).status).toBe(409);
      expect(lines).toEqual(['warn request refused']);
    } else {
      expect((await getTask(t.db, taskId)).messages[0]?.message).toBe(OLD_MESSAGE);
    }
  });
});

describe.runIf(TEST_DRIVERS.includes('pg'))('the constraints left NOT VALID', () => {
  it('are found in a schema whose name needs quotes', async () => {
    const t = await openTestDb('pg');
    const schema = `Drydock-${t.schema}`;
    try {
      const names = await t.db.transaction(async (tx) => {
        const run = (text: string) => tx.query(statement({}, { ...sql``, text, params: [] }));
        await run(`create schema "${schema}"`);
        await run(`set local search_path to "${schema}"`);
        await run('create table probe (n int)');
        await run('alter table probe add constraint probe_bound check (n > 0) not valid');
        return unvalidatedConstraints(tx);
      });
      expect(names).toEqual(['probe.probe_bound']);
    } finally {
      await t.db.query(
        statement({}, { ...sql``, text: `drop schema if exists "${schema}" cascade`, params: [] }),
      );
      await t.close();
    }
  });
});

describe.runIf(TEST_DRIVERS.includes('pg'))(
  'migration 0017 on a table it cannot check in time',
  () => {
    it('keeps that bound NOT VALID with a warning and validates the others', async () => {
      const t = await openTestDb('pg', { migrate: false });
      const url = urlWithSchema(t.schema as string);
      const migrator = new pg.Client({ connectionString: url });
      // VALIDATE CONSTRAINT waits for this lock (share update exclusive conflicts with itself)
      // until the statement's deadline cancels it: a table too large to scan in time, in effect.
      const holder = new pg.Client({ connectionString: url });
      try {
        await migrate(
          t.db,
          migrations.filter((m) => m.version < 17),
        );
        await holder.connect();
        await holder.query('begin');
        await holder.query('lock table result_message in share update exclusive mode');
        // Below the migration's own 20 s cap, so the migration keeps it.
        expect(await noticesOf0017(migrator, ["set statement_timeout = '300ms'"])).toEqual([
          'WARNING result_message_bound on result_message stays NOT VALID: the table was not ' +
            'checked within the statement deadline (new writes are checked); run ALTER TABLE ' +
            'result_message VALIDATE CONSTRAINT result_message_bound by hand',
        ]);
        await holder.query('rollback');
        expect(await t.db.query(bounds)).toEqual(
          BOUNDS.map((name) => ({ name, validated: name !== 'result_message_bound' })),
        );
      } finally {
        await holder.end().catch(() => {});
        await migrator.end().catch(() => {});
        await t.close();
      }
    });
  },
);

describe.runIf(TEST_DRIVERS.includes('pg'))('migration 0017 on an old row past a bound', () => {
  it('warns, naming the bound, its table, how many rows are past it and what to run', async () => {
    const t = await openTestDb('pg', { migrate: false });
    const client = new pg.Client({ connectionString: urlWithSchema(t.schema as string) });
    try {
      await writeOldMessage(t.db);
      await migrate(
        t.db,
        migrations.filter((m) => m.version < 17),
      );
      expect(await noticesOf0017(client)).toEqual([
        'WARNING result_message_bound on result_message stays NOT VALID: 1 row(s) written ' +
          'before it are past its bound (new writes are checked); deal with them, then run ' +
          'ALTER TABLE result_message VALIDATE CONSTRAINT result_message_bound',
      ]);
    } finally {
      await client.end().catch(() => {});
      await t.close();
    }
  });
});
