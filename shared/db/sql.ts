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
const PARAM = Symbol('sql.param');

/**
 * How a fragment was built, enough to write its text: a template with its substitutions (a nested
 * fragment, or `undefined` for a parameter), fragments joined by a separator, or fixed text.
 */
type Node =
  | {
      readonly kind: 'template';
      readonly strings: readonly string[];
      readonly values: readonly (TaggedFragment | undefined)[];
    }
  | { readonly kind: 'join'; readonly parts: readonly TaggedFragment[]; readonly separator: string }
  | { readonly kind: 'fixed'; readonly text: string };

/**
 * A fragment keeps its parameters and its structure apart. The text depends only on the
 * structure (which template literals, nested how, joined how), which a statement's call site
 * repeats on every call, so it is written once per shape, with its placeholders numbered in one
 * pass, and cached: building a statement is then collecting its parameters and one map lookup,
 * instead of concatenating and renumbering kilobytes of SQL on every call.
 */
class TaggedFragment implements SqlFragment {
  readonly [FRAGMENT] = true as const;
  /** A key naming the structure: equal shapes have equal text. */
  readonly shape: string;
  readonly params: readonly Param[];
  readonly node: Node;
  #text: string | undefined;
  constructor(shape: string, params: readonly Param[], node: Node) {
    this.shape = shape;
    this.params = params;
    this.node = node;
  }

  get text(): string {
    if (this.#text === undefined) this.#text = textOfShape(this);
    return this.#text;
  }
}

function isFragment(value: unknown): value is TaggedFragment {
  return value instanceof TaggedFragment;
}

function isParam(value: unknown): value is Param & { readonly [PARAM]: true } {
  return typeof value === 'object' && value !== null && PARAM in value;
}

/** Bounded: shapes come from call sites, but batch sizes and joins multiply them. */
const MAX_CACHED_SHAPES = 5_000;
const textByShape = new Map<string, string>();

function textOfShape(fragment: TaggedFragment): string {
  const cached = textByShape.get(fragment.shape);
  if (cached !== undefined) return cached;
  let placeholders = 0;
  const write = (f: TaggedFragment): string => {
    const node = f.node;
    if (node.kind === 'fixed') return node.text;
    if (node.kind === 'join') return node.parts.map(write).join(node.separator);
    let text = node.strings[0] ?? '';
    node.values.forEach((value, i) => {
      if (value === undefined) {
        placeholders += 1;
        text += `$${placeholders}`;
      } else {
        text += write(value);
      }
      text += node.strings[i + 1] ?? '';
    });
    return text;
  };
  const text = write(fragment);
  if (textByShape.size < MAX_CACHED_SHAPES) textByShape.set(fragment.shape, text);
  return text;
}

// Template literals are unique and stable per call site: their identity names a template.
const templateIds = new WeakMap<readonly string[], number>();
const separatorIds = new Map<string, number>();
let nextId = 0;

function idOf<K>(
  map: { get(key: K): number | undefined; set(key: K, id: number): unknown },
  key: K,
) {
  let id = map.get(key);
  if (id === undefined) {
    nextId += 1;
    id = nextId;
    map.set(key, id);
  }
  return id;
}

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

/**
 * Tagged template for SQL. Substitutions become `$n` parameters; nested fragments are inlined
 * and their parameters numbered after the ones before them.
 *
 * @example sql`select status from tasks where task_id = ${p.uuid(id)}::uuid`
 */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): TaggedFragment {
  let shape = `t${idOf(templateIds, strings)}(`;
  const params: Param[] = [];
  const slots: (TaggedFragment | undefined)[] = [];
  for (const value of values) {
    if (isFragment(value)) {
      shape += `${value.shape},`;
      for (const param of value.params) params.push(param);
      slots.push(value);
    } else {
      shape += 'p,';
      params.push(inferParam(value));
      slots.push(undefined);
    }
  }
  return new TaggedFragment(`${shape})`, params, { kind: 'template', strings, values: slots });
}

/** Joins fragments with a separator (itself literal SQL written by us). */
sql.join = (fragments: readonly SqlFragment[], separator: string): TaggedFragment => {
  let shape = `j${idOf(separatorIds, separator)}[`;
  const params: Param[] = [];
  const parts = fragments.map((fragment) => {
    const part = isFragment(fragment) ? fragment : fixed(fragment);
    shape += `${part.shape},`;
    for (const param of part.params) params.push(param);
    return part;
  });
  return new TaggedFragment(`${shape}]`, params, { kind: 'join', parts, separator });
};

/**
 * A fragment built elsewhere (not by this tag): kept as its own shape, keyed by its text, with
 * its placeholders renumbered once when the statement's text is written.
 */
function fixed(fragment: SqlFragment): TaggedFragment {
  if (fragment.params.length > 0) {
    throw new TypeError('only fragments built by the sql tag may carry parameters');
  }
  return new TaggedFragment(`f${JSON.stringify(fragment.text)}`, [], {
    kind: 'fixed',
    text: fragment.text,
  });
}

/**
 * A non-negative integer written into the SQL text instead of bound: a batch size the planner
 * must know (a `LIMIT` it can count rows by, as a prepared statement per batch size does). Only
 * for integers the code has validated; each value is a statement of its own.
 */
sql.count = (n: number): TaggedFragment => {
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`not a count: ${n}`);
  return new TaggedFragment(`#${n}`, [], { kind: 'fixed', text: String(n) });
};

/** SQL types of a recordset's columns (`jsonb_to_recordset`'s column definition list). */
type RecordsetType = 'text' | 'uuid' | 'int' | 'bigint' | 'boolean' | 'jsonb' | 'timestamptz';

/**
 * A batch as rows `x`, whatever its size: the rows go as one JSON parameter (no array parameters,
 * which the Data API does not take), unpacked by `jsonb_to_recordset` with each row's position as
 * `ord`. The columns are named and typed once, here, for the objects sent and for the SQL that
 * reads them, and the type checker holds every row to them. Column names are ours, never input.
 */
sql.recordset = <C extends Readonly<Record<string, RecordsetType>>>(
  columns: C,
  rows: readonly { readonly [K in keyof C]: unknown }[],
): TaggedFragment => {
  const numbered = rows.map((row, ord) => ({ ord, ...row }));
  return sql`select * from jsonb_to_recordset(${p.json(numbered)}::jsonb) as x(ord int, ${recordsetDefinitions(columns)})`;
};

// Each column list is a module constant: its definition list is written once, and its shape is
// named by the list's identity (as a template's is), not by its text, on every batch.
const recordsetDefinitionFragments = new WeakMap<object, TaggedFragment>();
const recordsetIds = new WeakMap<object, number>();

function recordsetDefinitions(columns: Readonly<Record<string, RecordsetType>>): TaggedFragment {
  let definitions = recordsetDefinitionFragments.get(columns);
  if (definitions === undefined) {
    const text = Object.entries(columns)
      .map(([name, type]) => `${name} ${type}`)
      .join(', ');
    definitions = new TaggedFragment(`r${idOf(recordsetIds, columns)}`, [], {
      kind: 'fixed',
      text,
    });
    recordsetDefinitionFragments.set(columns, definitions);
  }
  return definitions;
}

/** An empty fragment, for optional clauses. */
sql.empty = new TaggedFragment('e', [], { kind: 'fixed', text: '' });

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
