import { baseKind, type ColumnSpec, type Param, type Row } from './sql.ts';

const PG_TIMESTAMP =
  /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(\.\d{1,6})?(?:(Z)|([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?$/;

const UTC_TIMESTAMP = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.(\d{1,6}))?(?:\+00|Z)?$/;

/**
 * Turns a Postgres timestamp text into ISO-8601 UTC with microseconds kept
 * (`2026-11-24T20:00:00.123456Z`).
 *
 * Postgres prints `timestamptz` in the session `TimeZone` (`... 21:00:00.123456+01`); the Data
 * API prints it in UTC without an offset. A JS `Date` would drop the microseconds, and keyset
 * cursors and ordering tests need them, so the arithmetic is done here on the parts.
 */
export function toIsoUtc(text: string): string {
  // A UTC session's timestamp with all six fractional digits (`2026-11-24 20:00:00.123456+00`),
  // what the pg adapter reads most, is rearranged without a regular expression.
  if (
    text.length === 29 &&
    text.charCodeAt(10) === 32 &&
    text.charCodeAt(19) === 46 &&
    text.endsWith('+00') &&
    text.charCodeAt(4) === 45
  ) {
    return `${text.slice(0, 10)}T${text.slice(11, 26)}Z`;
  }
  // The other texts already in UTC (shorter fractions, the Data API's text without an offset)
  // are rearranged without arithmetic.
  const utc = UTC_TIMESTAMP.exec(text);
  if (utc) return `${text.slice(0, 10)}T${text.slice(11, 19)}.${(utc[1] ?? '').padEnd(6, '0')}Z`;
  const m = PG_TIMESTAMP.exec(text);
  if (!m) return text; // 'infinity' and friends are passed through untouched
  const [, y, mo, d, h, mi, s, frac, zulu, sign, oh, om, os] = m;
  let epochSeconds =
    Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000;
  if (!zulu && sign) {
    const offset = Number(oh) * 3600 + Number(om ?? 0) * 60 + Number(os ?? 0);
    epochSeconds -= sign === '+' ? offset : -offset;
  }
  const iso = new Date(epochSeconds * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  const micros = (frac ?? '.0').slice(1).padEnd(6, '0');
  return `${iso.slice(0, 19)}.${micros}Z`;
}

/** Normalises one driver value to the declared column kind. */
function decodeValue(kind: ReturnType<typeof baseKind>, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'timestamptz':
      if (value instanceof Date) return toIsoUtc(value.toISOString());
      return toIsoUtc(String(value));
    case 'int':
    case 'float':
      return typeof value === 'number' ? value : Number(value);
    case 'json':
      return typeof value === 'string' ? JSON.parse(value) : value;
    case 'bool':
      return value === true || value === 't' || value === 'true';
    default:
      return typeof value === 'string' ? value : String(value);
  }
}

interface Layout {
  readonly names: readonly string[];
  readonly kinds: readonly ReturnType<typeof baseKind>[];
}

// Column specs are module constants: their names and kinds are read once, not on every row.
const layouts = new WeakMap<ColumnSpec, Layout>();

function layoutOf(columns: ColumnSpec): Layout {
  let layout = layouts.get(columns);
  if (layout === undefined) {
    const names = Object.keys(columns);
    layout = { names, kinds: names.map((name) => baseKind(columns[name] as ColumnSpec[string])) };
    layouts.set(columns, layout);
  }
  return layout;
}

/** Decodes a row keyed by column name (the `pglite` driver's shape). */
export function decodeNamedRow<C extends ColumnSpec>(
  columns: C,
  raw: Record<string, unknown>,
): Row<C> {
  const { names, kinds } = layoutOf(columns);
  const row: Record<string, unknown> = {};
  for (let i = 0; i < names.length; i += 1) {
    const name = names[i] as string;
    row[name] = decodeValue(kinds[i] as Layout['kinds'][number], raw[name]);
  }
  return row as Row<C>;
}

/** Decodes a row given by position (the Data API's `records`, the `pg` driver's array rows). */
export function decodePositionalRow<C extends ColumnSpec>(columns: C, values: unknown[]): Row<C> {
  const { names, kinds } = layoutOf(columns);
  const row: Record<string, unknown> = {};
  for (let i = 0; i < names.length; i += 1) {
    row[names[i] as string] = decodeValue(kinds[i] as Layout['kinds'][number], values[i]);
  }
  return row as Row<C>;
}

/**
 * The value a node-postgres style driver binds for a parameter. JSON is sent as text: handing
 * node-postgres a JS array would bind it as a Postgres array, which the Data API cannot do.
 */
export function bindValue(param: Param): unknown {
  if (param.value === null) return null;
  if (param.type === 'json') return JSON.stringify(param.value);
  return param.value;
}

/** Fails loudly when a statement's select list drifts from its declared columns. */
export function assertColumns(columns: ColumnSpec, fieldNames: readonly string[]): void {
  const declared = layoutOf(columns).names;
  if (declared.length === 0) return; // statements that return nothing interesting
  if (declared.length !== fieldNames.length || declared.some((n, i) => n !== fieldNames[i])) {
    throw new Error(
      `statement columns [${fieldNames.join(', ')}] differ from the declared [${declared.join(', ')}]`,
    );
  }
}
