import type { Field, SqlParameter } from './data-api-client.ts';
import { toIsoUtc } from './decode.ts';
import type { Param } from './sql.ts';
import { IDENT_CHAR, opaqueRunAt } from './sql-scan.ts';

/**
 * Statement translation for the RDS Data API: `$n` placeholders become `:pN` named parameters,
 * typed `Param`s become `SqlParameter`s with the `typeHint` the service needs, and `records`
 * fields become plain values for the shared positional decoder.
 */

/** The parameter name the Data API sees for placeholder `$n`. */
export function parameterName(n: number): string {
  return `p${n}`;
}

/**
 * Rewrites `$1..$n` to `:p1..:pn`, leaving string literals (including `E'...'` with backslash
 * escapes), quoted identifiers, comments and dollar-quoted bodies untouched. `::` casts pass
 * through as they are, so `$1::uuid` becomes `:p1::uuid`, which the Data API reads as the
 * parameter `p1` followed by a cast.
 *
 * @returns the rewritten text and the placeholder numbers it uses.
 */
export function toNamedPlaceholders(text: string): { text: string; used: Set<number> } {
  let out = '';
  const used = new Set<number>();
  let i = 0;
  while (i < text.length) {
    const opaque = opaqueRunAt(text, i);
    if (opaque) {
      out += text.slice(i, opaque.end);
      i = opaque.end;
      continue;
    }
    if (text[i] === '$' && !IDENT_CHAR.test(text[i - 1] ?? ' ')) {
      const placeholder = /^\$(\d+)/.exec(text.slice(i, i + 12));
      if (placeholder) {
        const n = Number(placeholder[1]);
        used.add(n);
        out += `:${parameterName(n)}`;
        i += placeholder[0].length;
        continue;
      }
    }
    out += text[i];
    i += 1;
  }
  return { text: out, used };
}

const TIMESTAMP_PARTS = /^(\d{4,}-\d\d-\d\d)T(\d\d:\d\d:\d\d\.\d{6})Z$/;

/**
 * A timestamp as the Data API's `TIMESTAMP` hint wants it: `YYYY-MM-DD HH:MM:SS.ffffff` in UTC,
 * no `T`, no offset. Microseconds are kept (ordering and keyset cursors rely on them).
 */
export function toDataApiTimestamp(value: string): string {
  let parts = TIMESTAMP_PARTS.exec(toIsoUtc(value));
  if (!parts) {
    // Not Postgres/ISO shaped (a date alone, say): let the JS parser try before giving up.
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new TypeError(`not a timestamp: ${JSON.stringify(value)}`);
    parts = TIMESTAMP_PARTS.exec(toIsoUtc(new Date(ms).toISOString()));
  }
  if (!parts) throw new TypeError(`not a timestamp: ${JSON.stringify(value)}`);
  return `${parts[1]} ${parts[2]}`;
}

/** One typed parameter as a Data API `SqlParameter`. Never an array value. */
export function toSqlParameter(name: string, param: Param): SqlParameter {
  const { type, value } = param;
  if (value === null) return { name, value: { isNull: true } };
  switch (type) {
    case 'int':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        throw new TypeError(`parameter ${name}: ${String(value)} is not a safe integer`);
      }
      return { name, value: { longValue: value } };
    case 'float':
      return { name, value: { doubleValue: Number(value) } };
    case 'bool':
      return { name, value: { booleanValue: Boolean(value) } };
    case 'json':
      // Batches travel this way too: one JSON document instead of the unsupported array values.
      return { name, value: { stringValue: JSON.stringify(value) }, typeHint: 'JSON' };
    case 'uuid':
      return { name, value: { stringValue: String(value) }, typeHint: 'UUID' };
    case 'timestamptz':
      return {
        name,
        value: { stringValue: toDataApiTimestamp(String(value)) },
        typeHint: 'TIMESTAMP',
      };
    default:
      return { name, value: { stringValue: String(value) } };
  }
}

// Store statements are a fixed set of texts, so each is tokenized once per container.
const rewrites = new Map<string, ReturnType<typeof toNamedPlaceholders>>();
function rewritten(text: string): ReturnType<typeof toNamedPlaceholders> {
  let named = rewrites.get(text);
  if (named === undefined) {
    named = toNamedPlaceholders(text);
    if (rewrites.size < 2_000) rewrites.set(text, named);
  }
  return named;
}

/** The statement text and parameters to send; every `$n` must have a parameter. */
export function toDataApiStatement(
  text: string,
  params: readonly Param[],
): { sql: string; parameters: SqlParameter[] } {
  const named = rewritten(text);
  for (const n of named.used) {
    if (n < 1 || n > params.length) {
      throw new TypeError(`statement uses $${n} but has ${params.length} parameter(s)`);
    }
  }
  const parameters: SqlParameter[] = [];
  params.forEach((param, i) => {
    // A parameter the text never references would still be sent; skip it to keep requests lean.
    if (named.used.has(i + 1)) parameters.push(toSqlParameter(parameterName(i + 1), param));
  });
  return { sql: named.text, parameters };
}

/** One `records` field as a plain value for `decodePositionalRow`. */
export function fieldValue(field: Field): unknown {
  if (field.isNull) return null;
  if (field.stringValue !== undefined) return field.stringValue;
  if (field.longValue !== undefined) return field.longValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.booleanValue !== undefined) return field.booleanValue;
  // Base64 on the wire, as the positional decoder expects a bytea.
  if (field.blobValue !== undefined) return field.blobValue;
  if (field.arrayValue !== undefined) return arrayValues(field.arrayValue);
  return null;
}

function arrayValues(value: Field['arrayValue'] | null): unknown[] {
  if (!value) return [];
  if (value.arrayValues) return value.arrayValues.map(arrayValues);
  return (
    value.stringValues ??
    value.longValues ??
    value.doubleValues ??
    value.booleanValues ??
    []
  ).map((v) => v ?? null);
}
