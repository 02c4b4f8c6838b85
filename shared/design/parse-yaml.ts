import {
  constructFromEvents,
  defineScalarTag,
  EVENT_ID,
  type Event,
  floatYaml11Tag,
  getScalarValue,
  intYaml11Tag,
  mapTag,
  mergeTag,
  NOT_RESOLVED,
  nullYaml11Tag,
  parseEvents,
  SCALAR_STYLE,
  type ScalarEvent,
  Schema,
  seqTag,
  strTag,
  YAMLException,
} from 'js-yaml';
import { DesignLimitError, DesignSyntaxError } from './design-errors.ts';

export { DesignLimitError, DesignSyntaxError };

/** One YAML document of a multi-document stream, as plain JS, with where it starts. */
export type YamlDocument = { index: number; line: number; value: unknown };

/** A mapping key written twice; the last value is kept, as PyYAML (Drydock's reader) does. */
export type DuplicateKey = { key: string; line: number; column: number; documentIndex: number };

/** What `parseYamlDocuments` returns. */
export type ParsedYaml = { documents: YamlDocument[]; duplicateKeys: DuplicateKey[] };

/**
 * What one design may cost, past the byte cap of its source. Aliases and merge keys let a few
 * kilobytes describe gigabytes (55 documents of 99 aliases to a 1,000-item list are 3.7 MB of
 * text and 346 MB of JSON), so the budget is on the design as it expands, not as it is written.
 */
export type YamlLimits = {
  /** Documents in the stream (a 500-node site has about 600). */
  maxDocuments: number;
  /** Values (scalars, lists and mappings, keys included) after aliases and merges are expanded. */
  maxValues: number;
  /** Characters of keys and strings after expansion: bounds the JSON a design can turn into. */
  maxExpandedChars: number;
  /** Keys copied by merge keys (`<<`), summed over the stream. */
  maxMergeKeys: number;
  /** Nesting of lists and mappings, aliases expanded. */
  maxDepth: number;
};

/**
 * Generous for real designs (a 4 MiB design of 370,000 keys is 740,000 values), fatal to
 * expansion attacks. Measured in `npm run bench` (design phase, "largest accepted design").
 */
export const DEFAULT_YAML_LIMITS: YamlLimits = {
  maxDocuments: 10_000,
  maxValues: 2_000_000,
  maxExpandedChars: 16 * 1024 * 1024,
  maxMergeKeys: 200_000,
  maxDepth: 64,
};

/** A design's bytes as text; bytes that are not UTF-8 are a `DesignSyntaxError`. */
export function decodeDesign(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DesignSyntaxError('the design is not UTF-8 text', 1, 1);
  }
}

// PyYAML's booleans (what Drydock reads): unlike the YAML 1.1 draft, y/Y/n/N stay strings, so a
// network named `n` keeps its name.
const TRUE = new Set(['yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const FALSE = new Set(['no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
const pyyamlBoolTag = defineScalarTag<boolean>('tag:yaml.org,2002:bool', {
  implicit: true,
  implicitFirstChars: ['y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O'],
  resolve: (source) => (TRUE.has(source) ? true : FALSE.has(source) ? false : NOT_RESOLVED),
  identify: (value) => typeof value === 'boolean',
});

// YAML 1.1 scalars as PyYAML's safe loader reads them (0755 is octal, 1e3 a string), merge keys,
// and nothing that is not JSON: timestamps stay strings, and binary, sets, ordered maps and any
// custom or language tag are refused as unknown tags.
const IMPLICIT_SCALARS = [nullYaml11Tag, pyyamlBoolTag, intYaml11Tag, floatYaml11Tag];
const DESIGN_SCHEMA = new Schema([strTag, seqTag, mapTag, ...IMPLICIT_SCALARS, mergeTag]);
// The implicit resolvers that may match a plain scalar, by its first character (as the library
// dispatches them): most keys start with a letter no resolver claims and skip them all.
const RESOLVERS_BY_FIRST_CHAR = new Map<string, (typeof IMPLICIT_SCALARS)[number][]>();
const RESOLVERS_FOR_ANY_CHAR = IMPLICIT_SCALARS.filter((tag) => tag.implicitFirstChars === null);
for (const tag of IMPLICIT_SCALARS) {
  for (const char of tag.implicitFirstChars ?? []) {
    const list = RESOLVERS_BY_FIRST_CHAR.get(char) ?? [...RESOLVERS_FOR_ANY_CHAR];
    list.push(tag);
    RESOLVERS_BY_FIRST_CHAR.set(char, list);
  }
}

/**
 * Parses a multi-document YAML stream in time and memory linear in its size: duplicate keys are
 * found with one hash lookup each and kept last-wins with a warning (PyYAML's behaviour; the
 * `yaml` package's own check compared every key with every other, 6 s for 20,000 keys), aliases
 * share the value they name, and the expanded size is measured once per distinct value against
 * `limits`. Empty documents are skipped. Throws `DesignSyntaxError` (or `DesignLimitError`).
 */
export function parseYamlDocuments(
  text: string,
  limits: YamlLimits = DEFAULT_YAML_LIMITS,
): ParsedYaml {
  const lines = lineLocator(text);
  let events: Event[];
  let values: unknown[];
  try {
    events = parseEvents(text, { maxDepth: limits.maxDepth });
    values = constructFromEvents(events, {
      source: text,
      schema: DESIGN_SCHEMA,
      // Duplicate keys: the last wins instead of an exception (warned about below).
      json: true,
      maxTotalMergeKeys: limits.maxMergeKeys,
    });
  } catch (error) {
    throw toSyntaxError(error);
  }
  const { starts, duplicateKeys } = scanEvents(events, text, lines);
  if (starts.length > limits.maxDocuments) {
    const at = lines(starts[limits.maxDocuments] ?? 0);
    throw new DesignLimitError(`more than ${limits.maxDocuments} documents`, at.line, at.column);
  }

  const budget = new ExpansionBudget(limits);
  const documents: YamlDocument[] = [];
  for (const [index, value] of values.entries()) {
    const at = lines(starts[index] ?? 0);
    budget.charge(value, at);
    if (value === null || value === undefined) continue;
    documents.push({ index, line: at.line, value });
  }
  return { documents, duplicateKeys };
}

type Position = { line: number; column: number };

function toSyntaxError(error: unknown): DesignSyntaxError {
  if (error instanceof YAMLException) {
    const line = (error.mark?.line ?? 0) + 1;
    const column = (error.mark?.column ?? 0) + 1;
    // The reason names the problem; the library's full message adds a snippet of the source,
    // which may hold secrets and must not reach a log or a response.
    const reason = error.reason.length > 200 ? `${error.reason.slice(0, 200)}…` : error.reason;
    if (/exceeded max/.test(reason)) return new DesignLimitError(reason, line, column);
    return new DesignSyntaxError(reason, line, column);
  }
  // Pathological input the parser did not anticipate (e.g. a stack exhausted by nesting).
  return new DesignSyntaxError(`could not be parsed (${(error as Error).name})`, 1, 1);
}

/** Maps an offset to a 1-based line and column; the newline index is built on first use. */
function lineLocator(text: string): (offset: number) => Position {
  let newlines: Int32Array | undefined;
  return (offset) => {
    if (!newlines) {
      let count = 0;
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
      newlines = new Int32Array(count);
      let n = 0;
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) newlines[n++] = i;
    }
    // Lines before `offset`: binary search for the first newline at or after it.
    let lo = 0;
    let hi = newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((newlines[mid] as number) < offset) lo = mid + 1;
      else hi = mid;
    }
    const lineStart = lo === 0 ? 0 : (newlines[lo - 1] as number) + 1;
    return { line: lo + 1, column: offset - lineStart + 1 };
  };
}

type Frame =
  | { kind: 'document' }
  | { kind: 'sequence' }
  | { kind: 'mapping'; keys: Map<string, true>; expectKey: boolean };

/**
 * One pass over the events: where each document starts, and every key a mapping repeats.
 * Keys are compared as the constructed object will hold them (`yes` and `true` are the same key).
 */
function scanEvents(
  events: readonly Event[],
  text: string,
  lines: (offset: number) => Position,
): { starts: number[]; duplicateKeys: DuplicateKey[] } {
  const starts: number[] = [];
  const duplicateKeys: DuplicateKey[] = [];
  const stack: Frame[] = [];
  let awaitingStart = false;
  // A finished node inside a mapping flips it between key and value.
  const completeNode = () => {
    const parent = stack[stack.length - 1];
    if (parent?.kind === 'mapping') parent.expectKey = !parent.expectKey;
  };
  for (const event of events) {
    if (awaitingStart && event.type !== EVENT_ID.POP) {
      starts[starts.length - 1] = startOf(event);
      awaitingStart = false;
    }
    switch (event.type) {
      case EVENT_ID.DOCUMENT:
        stack.push({ kind: 'document' });
        starts.push(0);
        awaitingStart = true;
        break;
      case EVENT_ID.SEQUENCE:
        stack.push({ kind: 'sequence' });
        break;
      case EVENT_ID.MAPPING:
        stack.push({ kind: 'mapping', keys: new Map(), expectKey: true });
        break;
      case EVENT_ID.POP:
        stack.pop();
        completeNode();
        break;
      case EVENT_ID.SCALAR: {
        const parent = stack[stack.length - 1];
        if (parent?.kind === 'mapping' && parent.expectKey) {
          const key = keyOf(event, text);
          if (key !== undefined) {
            if (parent.keys.has(key)) {
              const at = lines(event.valueStart);
              duplicateKeys.push({ key, ...at, documentIndex: starts.length - 1 });
            } else {
              parent.keys.set(key, true);
            }
          }
        }
        completeNode();
        break;
      }
      case EVENT_ID.ALIAS:
        completeNode();
        break;
    }
  }
  return { starts, duplicateKeys };
}

function startOf(event: Event): number {
  switch (event.type) {
    case EVENT_ID.SCALAR:
      return event.anchorStart >= 0 ? event.anchorStart : event.valueStart;
    case EVENT_ID.SEQUENCE:
    case EVENT_ID.MAPPING:
      return event.start;
    case EVENT_ID.ALIAS:
      return event.anchorStart;
    default:
      return 0;
  }
}

/** The property name a scalar key becomes; undefined for the merge key `<<`. */
function keyOf(event: ScalarEvent, text: string): string | undefined {
  const source = getScalarValue(text, event);
  if (event.style !== SCALAR_STYLE.PLAIN || event.tagStart >= 0) return source;
  if (source === '<<') return undefined;
  const resolvers = RESOLVERS_BY_FIRST_CHAR.get(source.charAt(0)) ?? RESOLVERS_FOR_ANY_CHAR;
  for (const tag of resolvers) {
    const value = tag.resolve(source, false, tag.tagName);
    if (value !== NOT_RESOLVED) return String(value);
  }
  return source;
}

/**
 * Sums the expanded size of the documents, visiting each distinct list or mapping once (an alias
 * shares the value it names, so its size is looked up, not recounted): linear in the input.
 */
class ExpansionBudget {
  private values = 0;
  private chars = 0;
  private readonly sizes = new WeakMap<object, { values: number; chars: number }>();
  private readonly open = new Set<object>();
  private at: Position = { line: 1, column: 1 };
  private readonly limits: YamlLimits;

  constructor(limits: YamlLimits) {
    this.limits = limits;
  }

  charge(document: unknown, at: Position): void {
    this.at = at;
    const size = this.measure(document, 0);
    this.values += size.values;
    this.chars += size.chars;
    if (this.values > this.limits.maxValues) {
      this.refuse(
        `expands to more than ${this.limits.maxValues} values (aliases and merge keys expanded)`,
      );
    }
    if (this.chars > this.limits.maxExpandedChars) {
      this.refuse(
        `expands to more than ${this.limits.maxExpandedChars} characters of keys and strings (aliases and merge keys expanded)`,
      );
    }
  }

  private measure(value: unknown, depth: number): { values: number; chars: number } {
    if (value === null || typeof value !== 'object') {
      return { values: 1, chars: typeof value === 'string' ? value.length : 0 };
    }
    const known = this.sizes.get(value);
    if (known) return known;
    if (this.open.has(value)) this.refuse('an alias refers to a node that contains it (a cycle)');
    if (depth >= this.limits.maxDepth) {
      this.refuse(`nests deeper than ${this.limits.maxDepth} levels (aliases expanded)`);
    }
    this.open.add(value);
    let values = 1;
    let chars = 0;
    if (Array.isArray(value)) {
      for (const item of value) {
        const size = this.measure(item, depth + 1);
        values += size.values;
        chars += size.chars;
      }
    } else {
      for (const key of Object.keys(value)) {
        const size = this.measure((value as Record<string, unknown>)[key], depth + 1);
        values += 1 + size.values;
        chars += key.length + size.chars;
      }
    }
    this.open.delete(value);
    const size = { values, chars };
    this.sizes.set(value, size);
    return size;
  }

  private refuse(message: string): never {
    throw new DesignLimitError(message, this.at.line, this.at.column);
  }
}
