import { EmulatedError } from './errors.ts';

/**
 * Parameter binding and result encoding, following the service's JDBC heritage
 * (reference/aws.md §1.3–1.6): an untyped `stringValue` is bound as `varchar` (OID 1043), never as
 * Postgres' flexible `unknown`, so a comparison with a uuid or jsonb column fails here exactly
 * as it does on Aurora unless the caller sends a `typeHint` or casts.
 */

/** A request parameter as it arrives on the wire (blobValue is base64). */
export interface WireParameter {
  name?: unknown;
  value?: Record<string, unknown>;
  typeHint?: unknown;
}

/** Parameters ready for the extended query protocol. */
export interface BoundParameters {
  /** Parameter type OIDs sent in the Parse message (0 = let the server infer). */
  readonly oids: number[];
  readonly values: (string | Buffer | null)[];
}

const HINT_OIDS: Record<string, number> = {
  DATE: 1082,
  TIME: 1083,
  TIMESTAMP: 1114,
  DECIMAL: 1700,
  JSON: 114,
  UUID: 2950,
};

// The formats java.sql's valueOf parsers accept; anything else never reaches the database.
const HINT_FORMATS: Record<string, RegExp> = {
  DATE: /^\d{4}-\d{1,2}-\d{1,2}$/,
  TIME: /^\d{1,2}:\d{2}:\d{2}(\.\d{1,9})?$/,
  TIMESTAMP: /^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{2}:\d{2}(\.\d{1,9})?$/,
};

const badRequest = (message: string) => new EmulatedError('BadRequestException', message);

/** One parameter → its type OID and text (or bytes). */
function bindOne(parameter: WireParameter): { oid: number; value: string | Buffer | null } {
  const value = parameter.value;
  if (typeof value !== 'object' || value === null) {
    throw badRequest(`Parameter ${String(parameter.name)} has no value`);
  }
  const keys = Object.keys(value).filter((k) => value[k] !== undefined);
  if (keys.length !== 1) {
    throw badRequest(`Parameter ${String(parameter.name)} must set exactly one value member`);
  }
  const key = keys[0] as string;
  const v = value[key];
  const hint = parameter.typeHint;
  if (hint !== undefined && key !== 'stringValue') {
    throw badRequest(`typeHint ${String(hint)} applies only to a stringValue`);
  }
  switch (key) {
    case 'isNull':
      if (v !== true) throw badRequest('isNull must be true');
      return { oid: 0, value: null };
    case 'booleanValue':
      return { oid: 16, value: v ? 'true' : 'false' };
    case 'longValue':
      if (typeof v !== 'number' || !Number.isInteger(v))
        throw badRequest('longValue is not a long');
      return { oid: 20, value: String(v) };
    case 'doubleValue':
      // Smithy sends NaN and the infinities as strings, which Postgres reads the same way.
      return { oid: 701, value: String(v) };
    case 'blobValue':
      return { oid: 17, value: Buffer.from(String(v), 'base64') };
    case 'arrayValue':
      throw badRequest('Array parameters are not supported.');
    case 'stringValue': {
      if (typeof v !== 'string') throw badRequest('stringValue is not a string');
      if (hint === undefined) return { oid: 1043, value: v };
      const oid = HINT_OIDS[String(hint)];
      if (oid === undefined) throw badRequest(`Invalid typeHint: ${String(hint)}`);
      const format = HINT_FORMATS[String(hint)];
      if (format && !format.test(v)) {
        throw badRequest(
          `Invalid ${String(hint)} value for parameter ${String(parameter.name)}: expected ${
            hint === 'DATE'
              ? 'YYYY-MM-DD'
              : hint === 'TIME'
                ? 'HH:MM:SS[.FFF]'
                : 'YYYY-MM-DD HH:MM:SS[.FFF]'
          }`,
        );
      }
      return { oid, value: v };
    }
    default:
      throw badRequest(`Unknown value member ${key}`);
  }
}

/** Binds the parameters a statement names, in `$n` order. */
export function bindParameters(names: readonly string[], parameters: unknown): BoundParameters {
  const list = parameters === undefined ? [] : parameters;
  if (!Array.isArray(list)) throw badRequest('parameters must be a list');
  const byName = new Map<string, WireParameter>();
  for (const parameter of list as WireParameter[]) {
    if (typeof parameter?.name !== 'string' || parameter.name === '') {
      throw badRequest('Every parameter needs a name');
    }
    // Array values are refused even when the statement does not use the parameter.
    if (parameter.value && 'arrayValue' in parameter.value) {
      throw badRequest('Array parameters are not supported.');
    }
    byName.set(parameter.name, parameter);
  }
  const oids: number[] = [];
  const values: (string | Buffer | null)[] = [];
  for (const name of names) {
    const parameter = byName.get(name);
    if (!parameter) throw badRequest(`No value specified for parameter: ${name}`);
    const bound = bindOne(parameter);
    oids.push(bound.oid);
    values.push(bound.value);
  }
  return { oids, values };
}

// ---------------------------------------------------------------------------------------------
// Results

type ValueKind = 'bool' | 'int' | 'float' | 'numeric' | 'bytea' | 'timestamptz' | 'string';

interface TypeInfo {
  readonly name: string;
  /** java.sql.Types code, as pgjdbc reports it. */
  readonly jdbc: number;
  readonly kind: ValueKind;
  readonly precision?: number;
  readonly scale?: number;
}

const TYPES: Record<number, TypeInfo> = {
  16: { name: 'bool', jdbc: -7, kind: 'bool', precision: 1 },
  17: { name: 'bytea', jdbc: -2, kind: 'bytea', precision: 2147483647 },
  18: { name: 'char', jdbc: 1, kind: 'string', precision: 1 },
  19: { name: 'name', jdbc: 12, kind: 'string', precision: 63 },
  20: { name: 'int8', jdbc: -5, kind: 'int', precision: 19 },
  21: { name: 'int2', jdbc: 5, kind: 'int', precision: 5 },
  23: { name: 'int4', jdbc: 4, kind: 'int', precision: 10 },
  25: { name: 'text', jdbc: 12, kind: 'string', precision: 2147483647 },
  26: { name: 'oid', jdbc: -5, kind: 'int', precision: 10 },
  114: { name: 'json', jdbc: 1111, kind: 'string', precision: 2147483647 },
  700: { name: 'float4', jdbc: 7, kind: 'float', precision: 8, scale: 8 },
  701: { name: 'float8', jdbc: 8, kind: 'float', precision: 17, scale: 17 },
  1042: { name: 'bpchar', jdbc: 1, kind: 'string' },
  1043: { name: 'varchar', jdbc: 12, kind: 'string' },
  1082: { name: 'date', jdbc: 91, kind: 'string', precision: 13 },
  1083: { name: 'time', jdbc: 92, kind: 'string', precision: 15, scale: 6 },
  1114: { name: 'timestamp', jdbc: 93, kind: 'string', precision: 29, scale: 6 },
  1184: { name: 'timestamptz', jdbc: 93, kind: 'timestamptz', precision: 35, scale: 6 },
  1266: { name: 'timetz', jdbc: 92, kind: 'string', precision: 21, scale: 6 },
  1700: { name: 'numeric', jdbc: 2, kind: 'numeric' },
  2950: { name: 'uuid', jdbc: 1111, kind: 'string', precision: 2147483647 },
  3802: { name: 'jsonb', jdbc: 1111, kind: 'string', precision: 2147483647 },
};

/** Array type OID → element type OID. */
const ARRAYS: Record<number, number> = {
  1000: 16,
  1001: 17,
  1002: 18,
  1005: 21,
  1007: 23,
  1009: 25,
  1014: 1042,
  1015: 1043,
  1016: 20,
  1021: 700,
  1022: 701,
  1115: 1114,
  1182: 1082,
  1183: 1083,
  1185: 1184,
  1231: 1700,
  199: 114,
  2951: 2950,
  3807: 3802,
};

/** What the emulator knows of a type OID (JDBC code, encoding); unknown types read as text. */
export function typeInfo(oid: number, fallbackName?: string): TypeInfo {
  const known = TYPES[oid];
  if (known) return known;
  if (ARRAYS[oid] !== undefined) {
    const element = TYPES[ARRAYS[oid] as number];
    return { name: `_${element?.name ?? 'unknown'}`, jdbc: 2003, kind: 'string' };
  }
  return { name: fallbackName ?? 'unknown', jdbc: 1111, kind: 'string' };
}

/** Whether an OID is one of the array types results encode as `arrayValue`. */
export function isArrayType(oid: number): boolean {
  return ARRAYS[oid] !== undefined;
}

const PG_TZ =
  /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d+)?([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?( BC)?$/;

/**
 * A `timestamptz` as the Data API prints it: converted to UTC, without an offset, whatever the
 * session time zone (`2026-11-24 20:00:00.123456`).
 */
export function timestamptzToUtc(text: string): string {
  const m = PG_TZ.exec(text);
  if (!m || m[12]) return text; // infinity, BC dates: passed through
  const [, y, mo, d, h, mi, s, frac, sign, oh, om, os] = m;
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const offsetMs = (Number(oh) * 3600 + Number(om ?? 0) * 60 + Number(os ?? 0)) * 1000;
  const utc = new Date(sign === '+' ? local - offsetMs : local + offsetMs);
  const iso = utc.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ?? ''}`;
}

/** Parses Postgres' array text (`{1,2,"a b",NULL,{3}}`) into nested lists of text. */
export function parsePgArray(text: string): unknown[] {
  let i = text.startsWith('[') ? text.indexOf('=') + 1 : 0; // skip `[0:1]=` bounds decoration
  function parse(): unknown[] {
    const out: unknown[] = [];
    i += 1; // '{'
    while (i < text.length) {
      const ch = text[i];
      if (ch === '}') {
        i += 1;
        return out;
      }
      if (ch === ',') {
        i += 1;
      } else if (ch === '{') {
        out.push(parse());
      } else if (ch === '"') {
        let value = '';
        i += 1;
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\') i += 1;
          value += text[i];
          i += 1;
        }
        i += 1;
        out.push(value);
      } else {
        let j = i;
        while (j < text.length && text[j] !== ',' && text[j] !== '}') j += 1;
        const raw = text.slice(i, j).trim();
        out.push(raw === 'NULL' ? null : raw);
        i = j;
      }
    }
    return out;
  }
  return parse();
}

/** `resultSetOptions` of a request: `longReturnType: STRING`, `decimalReturnType: DOUBLE_OR_LONG`. */
export interface ResultOptions {
  longAsString: boolean;
  decimalAsNumber: boolean;
}

function numericValue(text: string, options: ResultOptions): Record<string, unknown> {
  if (!options.decimalAsNumber) return { stringValue: text };
  return /^-?\d+$/.test(text) ? { longValue: Number(text) } : { doubleValue: Number(text) };
}

/** Encodes one scalar value (text from the server) as a `Field`. */
function scalarField(
  kind: ValueKind,
  text: string,
  options: ResultOptions,
): Record<string, unknown> {
  switch (kind) {
    case 'bool':
      return { booleanValue: text === 't' };
    case 'int':
      return options.longAsString ? { stringValue: text } : { longValue: Number(text) };
    case 'float':
      return { doubleValue: Number(text) };
    case 'numeric':
      return numericValue(text, options);
    case 'bytea':
      return { blobValue: Buffer.from(text.slice(2), 'hex').toString('base64') };
    case 'timestamptz':
      return { stringValue: timestamptzToUtc(text) };
    default:
      return { stringValue: text };
  }
}

function arrayValue(
  elementKind: ValueKind,
  items: unknown[],
  options: ResultOptions,
): Record<string, unknown> {
  if (items.some(Array.isArray)) {
    return {
      arrayValues: items.map((item) => arrayValue(elementKind, item as unknown[], options)),
    };
  }
  const fields = items.map((item) =>
    item === null ? null : scalarField(elementKind, item as string, options),
  );
  const pick = (member: string, kind: string) => ({
    [kind]: fields.map((f) => (f === null ? null : (f[member] ?? null))),
  });
  switch (elementKind) {
    case 'bool':
      return pick('booleanValue', 'booleanValues');
    case 'int':
      return options.longAsString
        ? pick('stringValue', 'stringValues')
        : pick('longValue', 'longValues');
    case 'float':
      return pick('doubleValue', 'doubleValues');
    case 'bytea':
      return pick('blobValue', 'stringValues');
    default:
      return pick('stringValue', 'stringValues');
  }
}

/** One result value (server text, or null) as a `records` Field. */
export function toField(
  oid: number,
  text: string | null,
  options: ResultOptions,
): Record<string, unknown> {
  if (text === null) return { isNull: true };
  const element = ARRAYS[oid];
  if (element !== undefined) {
    return { arrayValue: arrayValue(typeInfo(element).kind, parsePgArray(text), options) };
  }
  return scalarField(typeInfo(oid).kind, text, options);
}

/** One result value as `formatRecordsAs: JSON` prints it. */
export function toJsonValue(oid: number, text: string | null, options: ResultOptions): unknown {
  if (text === null) return null;
  const element = ARRAYS[oid];
  const convert = (kind: ValueKind, raw: string): unknown => {
    const field = scalarField(kind, raw, options);
    return Object.values(field)[0];
  };
  if (element !== undefined) {
    const kind = typeInfo(element).kind;
    const walk = (items: unknown[]): unknown[] =>
      items.map((item) =>
        Array.isArray(item) ? walk(item) : item === null ? null : convert(kind, item as string),
      );
    return walk(parsePgArray(text));
  }
  return convert(typeInfo(oid).kind, text);
}
