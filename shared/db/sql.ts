/**
 * The SQL tag and statement shapes shared by every `Db` adapter.
 *
 * Rule: every `${}` substitution in `sql` becomes a bound parameter, never SQL text. The only way
 * to splice text is another `sql` fragment (whose own substitutions stay parameters), so a value
 * from a request can never reach the statement text.
 *
 * Parameters carry a type so the Data API adapter can send the right `typeHint` (it binds an
 * untyped string as varchar, which Postgres refuses to compare with uuid or jsonb). Statements
 * still cast explicitly (`${id}::uuid`) so they read the same on every driver.
 *
 * Output columns are declared per statement (name → kind, in select-list order). The Data API
 * adapter decodes `records` by position from that list, without asking for result metadata; the
 * `pg` and `pglite` adapters check that the server's field names match it, so a select list that
 * drifts from its declaration fails in the contract suite instead of in production.
 */

export type ParamType = 'text' | 'uuid' | 'int' | 'float' | 'bool' | 'json' | 'timestamptz';

/** A typed bound parameter. `value` is null for SQL NULL. */
export interface Param {
  readonly type: ParamType;
  readonly value: string | number | boolean | null | object;
}

/** A piece of SQL text with `$n` placeholders numbered from 1, and its parameters. */
export interface SqlFragment {
  readonly text: string;
  readonly params: readonly Param[];
}

export type ColumnKind = 'text' | 'uuid' | 'int' | 'float' | 'bool' | 'json' | 'timestamptz';
/** A kind ending in `?` may be NULL. */
export type ColumnSpec = Readonly<Record<string, ColumnKind | `${ColumnKind}?`>>;

type KindValue<K extends string> = K extends 'text' | 'uuid' | 'timestamptz'
  ? string
  : K extends 'int' | 'float'
    ? number
    : K extends 'bool'
      ? boolean
      : unknown;

/** The decoded row of a statement. Timestamps arrive as ISO-8601 UTC strings on every driver. */
export type Row<C extends ColumnSpec> = {
  -readonly [K in keyof C]: C[K] extends `${infer B}?` ? KindValue<B> | null : KindValue<C[K]>;
};

/** A complete statement: one round trip, with its declared output columns. */
export interface Statement<C extends ColumnSpec = ColumnSpec> extends SqlFragment {
  readonly columns: C;
}

const FRAGMENT = Symbol('sql.fragment');

interface TaggedFragment extends SqlFragment {
  readonly [FRAGMENT]: true;
}

function isFragment(value: unknown): value is TaggedFragment {
  return typeof value === 'object' && value !== null && FRAGMENT in value;
}

function isParam(value: unknown): value is Param & { readonly [PARAM]: true } {
  return typeof value === 'object' && value !== null && PARAM in value;
}

const PARAM = Symbol('sql.param');

function typed(type: ParamType, value: Param['value'] | undefined): Param {
  return Object.freeze({ type, value: value ?? null, [PARAM]: true as const });
}

/** Typed parameter constructors, for values whose SQL type cannot be inferred from JS. */
export const p = {
  text: (value: string | null | undefined) => typed('text', value),
  uuid: (value: string | null | undefined) => typed('uuid', value),
  int: (value: number | null | undefined) => typed('int', value),
  float: (value: number | null | undefined) => typed('float', value),
  bool: (value: boolean | null | undefined) => typed('bool', value),
  /** Any JSON value; sent as one JSON document (batches travel this way: no array parameters). */
  json: (value: unknown) => typed('json', value === undefined ? null : (value as object)),
  timestamptz: (value: string | Date | null | undefined) =>
    typed('timestamptz', value instanceof Date ? value.toISOString() : value),
};

function inferParam(value: unknown): Param {
  if (isParam(value)) return value;
  if (value === null || value === undefined) return typed('text', null);
  switch (typeof value) {
    case 'string':
      return typed('text', value);
    case 'number':
      return typed(Number.isInteger(value) ? 'int' : 'float', value);
    case 'boolean':
      return typed('bool', value);
    case 'object':
      return value instanceof Date ? p.timestamptz(value) : p.json(value);
    default:
      throw new TypeError(`cannot bind a ${typeof value} as an SQL parameter`);
  }
}

/** Renumbers `$n` placeholders in `text` by `offset`, skipping quoted text. */
function shiftPlaceholders(text: string, offset: number): string {
  if (offset === 0) return text;
  return text.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\$(\d+)/g, (match, n: string | undefined) =>
    n === undefined ? match : `$${Number(n) + offset}`,
  );
}

/**
 * Tagged template for SQL. Substitutions become `$n` parameters; nested fragments are inlined
 * with their parameters renumbered.
 *
 * @example sql`select status from tasks where task_id = ${p.uuid(id)}::uuid`
 */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): TaggedFragment {
  let text = strings[0] ?? '';
  const params: Param[] = [];
  values.forEach((value, i) => {
    if (isFragment(value)) {
      // A fragment without parameters has no placeholders to renumber (the long, constant select
      // lists): skip the scan.
      text += value.params.length === 0 ? value.text : shiftPlaceholders(value.text, params.length);
      params.push(...value.params);
    } else {
      params.push(inferParam(value));
      text += `$${params.length}`;
    }
    text += strings[i + 1] ?? '';
  });
  return Object.freeze({ text, params, [FRAGMENT]: true as const });
}

/** Joins fragments with a separator (itself literal SQL written by us). */
sql.join = (fragments: readonly SqlFragment[], separator: string): TaggedFragment => {
  let text = '';
  const params: Param[] = [];
  fragments.forEach((fragment, i) => {
    if (i > 0) text += separator;
    text +=
      fragment.params.length === 0
        ? fragment.text
        : shiftPlaceholders(fragment.text, params.length);
    params.push(...fragment.params);
  });
  return Object.freeze({ text, params, [FRAGMENT]: true as const });
};

/** An empty fragment, for optional clauses. */
sql.empty = Object.freeze({ text: '', params: [], [FRAGMENT]: true as const }) as TaggedFragment;

/** Binds a fragment to its output columns. */
export function statement<C extends ColumnSpec>(columns: C, fragment: SqlFragment): Statement<C> {
  return { text: fragment.text, params: fragment.params, columns };
}

/** The column names of a statement in select-list order. */
export function columnNames(columns: ColumnSpec): string[] {
  return Object.keys(columns);
}

/** Drops the nullable marker of a column kind. */
export function baseKind(kind: ColumnSpec[string]): ColumnKind {
  return (kind.endsWith('?') ? kind.slice(0, -1) : kind) as ColumnKind;
}
