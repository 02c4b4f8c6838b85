import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createPgDb } from '#shared/db/pg.ts';
import { SqlError } from '#shared/db/port.ts';
import { statement } from '#shared/db/sql.ts';
import { adminQuery, SKIP_SERVER, urlWithSchema } from '#test/support/pg-server.ts';

const BACKEND = statement({ pid: 'int' }, { text: 'select pg_backend_pid() as pid', params: [] });
const pidOf = (rows: readonly { pid: number }[]) => (rows[0] as { pid: number }).pid;

// The pg adapter runs each statement through its own node-postgres query object
// (shared/db/pg-statement.ts): these hold it to what node-postgres's own did, on a real server.
describe.skipIf(SKIP_SERVER)('pg adapter statements', () => {
  it('binds every kind of parameter and decodes every declared kind, row by row', async () => {
    const db = createPgDb({ connectionString: urlWithSchema('public'), maxConnections: 1 });
    try {
      const rows = await db.query(
        statement(
          {
            n: 'int',
            t: 'text?',
            big: 'int',
            f: 'float',
            b: 'bool',
            j: 'json',
            at: 'timestamptz',
            id: 'uuid',
          },
          {
            text: `select g as n, case when g = 2 then null else $1::text end as t,
              $2::bigint * g as big, $3::float8 as f, $4::boolean as b, $5::jsonb as j,
              $6::timestamptz as at, $7::uuid as id
            from generate_series(1, 3) g order by g`,
            params: [
              { type: 'text', value: 'ünïcødé ✓ "quoted"' },
              { type: 'int', value: 4_000_000_000 },
              { type: 'float', value: 1.5 },
              { type: 'bool', value: false },
              { type: 'json', value: { list: [1, 'two', null], nested: { ok: true } } },
              { type: 'timestamptz', value: '2026-11-24T20:00:00.123456Z' },
              { type: 'uuid', value: '6f1c2f0e-8d3b-4b7e-9a51-2f4f8f0c1d2e' },
            ],
          },
        ),
      );
      expect(rows).toEqual(
        [1, 2, 3].map((n) => ({
          n,
          t: n === 2 ? null : 'ünïcødé ✓ "quoted"',
          big: 4_000_000_000 * n,
          f: 1.5,
          b: false,
          j: { list: [1, 'two', null], nested: { ok: true } },
          at: '2026-11-24T20:00:00.123456Z',
          id: '6f1c2f0e-8d3b-4b7e-9a51-2f4f8f0c1d2e',
        })),
      );
      // No rows: the columns are still described and checked.
      const none = await db.query(
        statement({ n: 'int' }, { text: 'select 1 as n where false', params: [] }),
      );
      expect(none).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it('prepares a statement once per connection and runs it again by name', async () => {
    const db = createPgDb({ connectionString: urlWithSchema('public'), maxConnections: 1 });
    const text = "select 'prepared once' as note";
    try {
      // A second parse under the same name would fail ("prepared statement … already exists").
      for (let i = 0; i < 3; i += 1) {
        expect(await db.query(statement({ note: 'text' }, { text, params: [] }))).toEqual([
          { note: 'prepared once' },
        ]);
      }
      const prepared = await db.query(
        statement(
          { count: 'int' },
          {
            text: 'select count(*)::int as count from pg_prepared_statements where statement = $1',
            params: [{ type: 'text', value: text }],
          },
        ),
      );
      expect(prepared).toEqual([{ count: 1 }]);
    } finally {
      await db.close();
    }
  });

  it('parses a statement text by the types the server describes, when another schema changes them', async () => {
    // The same text over two schemas whose column has another type: a boolean, then text. Each
    // value goes through its own type's parser (a boolean parsed as text would read "t").
    const schemas = [
      `stmt_${randomBytes(4).toString('hex')}`,
      `stmt_${randomBytes(4).toString('hex')}`,
    ];
    const [asBool, asText] = schemas as [string, string];
    await adminQuery(`create schema ${asBool}; create table ${asBool}.flags (x boolean); insert into ${asBool}.flags values (true);
      create schema ${asText}; create table ${asText}.flags (x text); insert into ${asText}.flags values ('t');`);
    const read = statement({ x: 'text' }, { text: 'select x from flags', params: [] });
    const dbs = schemas.map((schema) =>
      createPgDb({ connectionString: urlWithSchema(schema), maxConnections: 1 }),
    );
    try {
      expect(await (dbs[0] as (typeof dbs)[number]).query(read)).toEqual([{ x: 'true' }]);
      expect(await (dbs[1] as (typeof dbs)[number]).query(read)).toEqual([{ x: 't' }]);
      expect(await (dbs[0] as (typeof dbs)[number]).query(read)).toEqual([{ x: 'true' }]);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
      await adminQuery(`drop schema ${asBool} cascade; drop schema ${asText} cascade`);
    }
  });

  it('fails a statement the server refuses, the same way each time, and keeps the connection usable', async () => {
    const db = createPgDb({ connectionString: urlWithSchema('public'), maxConnections: 1 });
    const unparsable = statement({ n: 'int' }, { text: 'select from where', params: [] });
    try {
      // Refused at its parse both times: the name is never recorded as prepared.
      await expect(db.query(unparsable)).rejects.toThrow(/syntax error/);
      await expect(db.query(unparsable)).rejects.toThrow(/syntax error/);
      // A constraint refused at execution is the adapter's SqlError, inside a transaction whose
      // rollback then leaves the connection as it was.
      const before = pidOf(await db.query(BACKEND));
      await expect(
        db.transaction(async (tx) => {
          await tx.query(
            statement(
              {},
              {
                text: 'create temp table unique_ids (id int primary key) on commit drop',
                params: [],
              },
            ),
          );
          const insert = statement({}, { text: 'insert into unique_ids values (1)', params: [] });
          await tx.query(insert);
          await tx.query(insert);
        }),
      ).rejects.toSatisfy((e) => e instanceof SqlError && e.sqlState === '23505');
      expect(pidOf(await db.query(BACKEND))).toBe(before);
    } finally {
      await db.close();
    }
  });

  it('fails a statement whose row does not decode, and keeps the connection usable', async () => {
    const db = createPgDb({ connectionString: urlWithSchema('public'), maxConnections: 1 });
    const notJson = statement(
      { j: 'json' },
      { text: "select 'not json' as j from generate_series(1, 3)", params: [] },
    );
    try {
      const before = pidOf(await db.query(BACKEND));
      let failure: unknown;
      await db
        .transaction(async (tx) => {
          await tx.query(notJson);
        })
        .catch((error: unknown) => {
          failure = error;
        });
      // The adapter's decoder refused the row (JSON.parse), after the answer had been read.
      expect(failure).toBeInstanceOf(SyntaxError);
      // The rollback ran on the same connection, which is kept and answers the next statement.
      expect(pidOf(await db.query(BACKEND))).toBe(before);
    } finally {
      await db.close();
    }
  });

  it('fails a statement whose parameter has no text, and runs the same text again on that connection', async () => {
    const db = createPgDb({ connectionString: urlWithSchema('public'), maxConnections: 1 });
    const echo = (value: string) =>
      statement({ t: 'text' }, { text: 'select $1::text as t', params: [{ type: 'text', value }] });
    // Nothing the store binds: a value whose conversion to the protocol's text throws.
    const noText = {
      toString: () => {
        throw new Error('no text for this value');
      },
    } as unknown as string;
    try {
      const before = pidOf(await db.query(BACKEND));
      let failure: unknown;
      await db
        .transaction(async (tx) => {
          await tx.query(echo(noText));
        })
        .catch((error: unknown) => {
          failure = error;
        });
      expect(failure).toEqual(new Error('no text for this value'));
      // The rollback ran on the same connection, and the statement's parse stood: its name runs
      // again with a value that binds (a second parse would fail, a missing one too).
      expect(pidOf(await db.query(BACKEND))).toBe(before);
      expect(await db.query(echo('bound'))).toEqual([{ t: 'bound' }]);
      expect(pidOf(await db.query(BACKEND))).toBe(before);
    } finally {
      await db.close();
    }
  });

  it('refuses a select list that drifts from the declared columns', async () => {
    const db = createPgDb({ connectionString: urlWithSchema('public'), maxConnections: 1 });
    try {
      await expect(
        db.query(statement({ a: 'int', b: 'int' }, { text: 'select 1 as a, 2 as c', params: [] })),
      ).rejects.toThrow('statement columns [a, c] differ from the declared [a, b]');
    } finally {
      await db.close();
    }
  });
});
