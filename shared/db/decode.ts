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

type Kind = ReturnType<typeof baseKind>;

const isAbsent = (value: unknown): value is null | undefined =>
  value === null || value === undefined;

const toNumber = (value: unknown) =>
  isAbsent(value) ? null : typeof value === 'number' ? value : Number(value);
const toText = (value: unknown) =>
  isAbsent(value) ? null : typeof value === 'string' ? value : String(value);

/** Normalises one driver value to its declared column kind: one function a kind. */
const decoders: Readonly<Record<Kind, (value: unknown) => unknown>> = {
  timestamptz: (value) =>
    isAbsent(value) ? null : toIsoUtc(value instanceof Date ? value.toISOString() : String(value)),
  int: toNumber,
  float: toNumber,
  json: (value) => (isAbsent(value) ? null : typeof value === 'string' ? JSON.parse(value) : value),
  bool: (value) => (isAbsent(value) ? null : value === true || value === 't' || value === 'true'),
  text: toText,
  uuid: toText,
};

interface RowBuilders {
  readonly names: readonly string[];
  /** A row from values in the declared order (the Data API's `records`, the pg adapter). */
  readonly fromPositions: (values: readonly unknown[]) => Record<string, unknown>;
  /** A row from values keyed by column name (PGlite). */
  readonly fromNames: (raw: Readonly<Record<string, unknown>>) => Record<string, unknown>;
}

/**
 * Each column list gets two functions whose body is one object literal with its columns in
 * order. A row built by adding its columns one at a time through a computed name (`row[name] =
 * …`) can pass V8's limit on properties added that way (a few beyond the object's first four) and
 * become a hash table: every task row the store read (26 columns, 33 with a joined message) was
 * one, allocated at about 2.5 KB with its intermediate copies and read by hashing on every access
 * downstream. A literal's rows share one fixed shape with their values inline.
 */
function compileBuilders(columns: ColumnSpec): RowBuilders {
  const names = Object.keys(columns);
  // In a literal, `__proto__: …` sets the prototype instead of making a property.
  if (names.includes('__proto__')) throw new Error('a column cannot be named __proto__');
  const kinds = names.map((name) => {
    const kind = baseKind(columns[name] as ColumnSpec[string]);
    if (!Object.hasOwn(decoders, kind)) throw new Error(`column ${name} has no kind ${kind}`);
    return kind;
  });
  // Names go into the source as JSON string literals (any text is safe there: a combined read's
  // `b:taskId`, EXPLAIN's `QUERY PLAN`), next to the kinds' own names (checked above) and indexes.
  const quoted = names.map((name) => JSON.stringify(name));
  const literal = (source: (index: number) => string) =>
    `return {${quoted.map((key, i) => `${key}: d.${kinds[i]}(${source(i)})`).join(', ')}};`;
  try {
    const compile = (parameter: string, body: string) =>
      new Function('d', `return (${parameter}) => { ${body} };`)(decoders);
    return {
      names,
      fromPositions: compile(
        'v',
        literal((i) => `v[${i}]`),
      ),
      fromNames: compile(
        'r',
        literal((i) => `r[${quoted[i]}]`),
      ),
    };
  } catch (error) {
    // A process run with `--disallow-code-generation-from-strings` (a hardening flag) refuses
    // `new Function`: the same rows, built a column at a time.
    if (!(error instanceof EvalError)) throw error;
    const decoderOf = kinds.map((kind) => decoders[kind]);
    const build = (valueAt: (index: number, name: string) => unknown) => {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i += 1) {
        const name = names[i] as string;
        row[name] = (decoderOf[i] as (value: unknown) => unknown)(valueAt(i, name));
      }
      return row;
    };
    return {
      names,
      fromPositions: (values) => build((i) => values[i]),
      fromNames: (raw) => build((_, name) => raw[name]),
    };
  }
}

// Column lists are module constants (a combined read's is kept per pair of them, in
// store/run.ts): their builders are compiled once and found by the list's identity.
const builders = new WeakMap<ColumnSpec, RowBuilders>();

function buildersOf(columns: ColumnSpec): RowBuilders {
  let built = builders.get(columns);
  if (built === undefined) {
    built = compileBuilders(columns);
    builders.set(columns, built);
  }
  return built;
}

/** Decodes a row keyed by column name (the `pglite` driver's shape). */
export function decodeNamedRow<C extends ColumnSpec>(
  columns: C,
  raw: Readonly<Record<string, unknown>>,
): Row<C> {
  return buildersOf(columns).fromNames(raw) as Row<C>;
}

/** Decodes a row given by position (the Data API's `records`, the `pg` driver's array rows). */
export function decodePositionalRow<C extends ColumnSpec>(
  columns: C,
  values: readonly unknown[],
): Row<C> {
  return buildersOf(columns).fromPositions(values) as Row<C>;
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
  const declared = buildersOf(columns).names;
  if (declared.length === 0) return; // statements that return nothing interesting
  if (declared.length !== fieldNames.length || declared.some((n, i) => n !== fieldNames[i])) {
    throw new Error(
      `statement columns [${fieldNames.join(', ')}] differ from the declared [${declared.join(', ')}]`,
    );
  }
}
