import { describe, expect, it } from 'vitest';
import { decodePositionalRow, toIsoUtc } from '#shared/db/decode.ts';

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
