import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { decodeNamedRow, decodePositionalRow, toIsoUtc } from '#shared/db/decode.ts';
import type { ColumnSpec } from '#shared/db/sql.ts';

describe('toIsoUtc', () => {
  it.each([
    // a UTC session's text with six fractional digits (the common case, taken without a regex)
    ['2026-11-24 20:00:00.123456+00', '2026-11-24T20:00:00.123456Z'],
    ['1970-01-01 00:00:00.000001+00', '1970-01-01T00:00:00.000001Z'],
    // fewer digits (Postgres drops trailing zeros), none, the Data API's text without an offset
    ['2026-11-24 20:00:00.5+00', '2026-11-24T20:00:00.500000Z'],
    ['2026-11-24 20:00:00+00', '2026-11-24T20:00:00.000000Z'],
    ['2026-11-24 20:00:00.123456', '2026-11-24T20:00:00.123456Z'],
    // another session time zone, an offset with minutes
    ['2026-11-24 21:00:00.123456+01', '2026-11-24T20:00:00.123456Z'],
    ['2026-11-24 20:30:00.123456+00:30', '2026-11-24T20:00:00.123456Z'],
    ['infinity', 'infinity'],
  ])('%s', (text, iso) => {
    expect(toIsoUtc(text)).toBe(iso);
  });
});

describe('decodePositionalRow', () => {
  it('names the values by the declared order and normalises each kind', () => {
    const columns = {
      id: 'int',
      at: 'timestamptz',
      ok: 'bool',
      doc: 'json?',
      name: 'text',
    } as const;
    expect(
      decodePositionalRow(columns, ['7', '2026-11-24 20:00:00.123456+00', 't', null, 'x']),
    ).toEqual({ id: 7, at: '2026-11-24T20:00:00.123456Z', ok: true, doc: null, name: 'x' });
  });
});

describe('row decoding', () => {
  const columns = {
    n: 'int?',
    f: 'float?',
    b: 'bool?',
    j: 'json?',
    at: 'timestamptz?',
    id: 'uuid?',
    t: 'text?',
  } as const;

  it('decodes every kind from a name-keyed row as from a positional one, absent values as null', () => {
    const values = ['7', '1.5', 'f', '{"a":[1]}', '2026-11-24 20:00:00+00', 'u-1', 42];
    const expected = {
      n: 7,
      f: 1.5,
      b: false,
      j: { a: [1] },
      at: '2026-11-24T20:00:00.000000Z',
      id: 'u-1',
      t: '42',
    };
    expect(decodePositionalRow(columns, values)).toEqual(expected);
    const named = Object.fromEntries(Object.keys(columns).map((name, i) => [name, values[i]]));
    expect(decodeNamedRow(columns, named)).toEqual(expected);
    const nulls = Object.fromEntries(Object.keys(columns).map((name) => [name, null]));
    expect(decodePositionalRow(columns, [null, undefined, null, null, null, null, null])).toEqual(
      nulls,
    );
    expect(decodeNamedRow(columns, {})).toEqual(nulls);
    // Driver values that are already typed pass through.
    expect(
      decodePositionalRow(columns, [3, 2.5, true, [1], new Date(Date.UTC(2026, 0, 1)), 'u', 's']),
    ).toEqual({
      n: 3,
      f: 2.5,
      b: true,
      j: [1],
      at: '2026-01-01T00:00:00.000000Z',
      id: 'u',
      t: 's',
    });
  });

  it('keeps the declared column order and the ordinary prototype', () => {
    const row = decodePositionalRow({ z: 'text', a: 'text', m: 'int' }, ['1', '2', '3']);
    expect(Object.keys(row)).toEqual(['z', 'a', 'm']);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
  });

  it('takes any column name as it is, refuses __proto__, and takes only the declared kinds', () => {
    const names = ['b:taskId', 'QUERY PLAN', 'x"]; throw new Error(1); //', "it's", 'constructor'];
    const spec: ColumnSpec = Object.fromEntries(names.map((name) => [name, 'text' as const]));
    const values = names.map((_, i) => `v${i}`);
    const expected = Object.fromEntries(names.map((name, i) => [name, `v${i}`]));
    expect(decodePositionalRow(spec, values)).toEqual(expected);
    expect(decodeNamedRow(spec, expected)).toEqual(expected);
    // In a literal, `__proto__: …` would set the prototype rather than make a column.
    const proto = JSON.parse('{"__proto__": "text"}');
    expect(() => decodePositionalRow(proto, ['v'])).toThrow(/__proto__/);
    expect(() => decodeNamedRow(proto, {})).toThrow(/__proto__/);
    // A kind is written into the source as a name: only the declared kinds are.
    const odd = JSON.parse('{"a": "text); throw new Error(1); (d.text"}');
    expect(() => decodePositionalRow(odd, ['v'])).toThrow(/no kind/);
  });

  // V8 can keep an object whose properties were added one at a time through computed names as a
  // hash table once it has more than a few of them: the task read's rows (33 columns) were such
  // tables, read after read. Only V8's own test hook can tell, so a child process runs with it.
  it("builds the task read's rows in a fixed shape (checked in a child with natives syntax)", () => {
    const module = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
    const script = `
      const { decodeNamedRow, decodePositionalRow } = await import(${module('../../shared/db/decode.ts')});
      const { taskRead } = await import(${module('../../shared/store/tasks.ts')});
      const columns = taskRead('00000000-0000-0000-0000-000000000000').columns;
      const names = Object.keys(columns);
      const nulls = names.map(() => null);
      const fast = (row) => eval('%HasFastProperties(row)');
      const shapes = [];
      for (let i = 0; i < 3; i += 1) {
        shapes.push(fast(decodePositionalRow(columns, nulls)));
        shapes.push(fast(decodeNamedRow(columns, Object.fromEntries(names.map((name) => [name, null])))));
      }
      console.log(JSON.stringify({ columns: names.length, shapes }));
    `;
    const output = execFileSync(
      process.execPath,
      ['--allow-natives-syntax', '--input-type=module', '--eval', script],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(output)).toEqual({ columns: 33, shapes: Array(6).fill(true) });
  });

  it('decodes the same rows in a process that refuses code generation from strings', () => {
    const module = JSON.stringify(new URL('../../shared/db/decode.ts', import.meta.url).href);
    const script = `
      const { decodeNamedRow, decodePositionalRow } = await import(${module});
      let generated = true;
      try { new Function('return 1'); } catch { generated = false; }
      const columns = { n: 'int?', b: 'bool', j: 'json?', at: 'timestamptz', t: 'text?' };
      const values = ['7', 't', '{"a":1}', '2026-11-24 20:00:00.5+00', null];
      const named = Object.fromEntries(Object.keys(columns).map((name, i) => [name, values[i]]));
      console.log(JSON.stringify({
        generated,
        positional: decodePositionalRow(columns, values),
        named: decodeNamedRow(columns, named),
      }));
    `;
    const output = execFileSync(
      process.execPath,
      ['--disallow-code-generation-from-strings', '--input-type=module', '--eval', script],
      { encoding: 'utf8' },
    );
    const row = { n: 7, b: true, j: { a: 1 }, at: '2026-11-24T20:00:00.500000Z', t: null };
    expect(JSON.parse(output)).toEqual({ generated: false, positional: row, named: row });
  });
});
