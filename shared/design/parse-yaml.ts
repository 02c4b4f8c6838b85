import { LineCounter, parseAllDocuments, type ScalarTag, type Tags } from 'yaml';
import { ValidationError } from '#shared/errors.ts';

/** Alias expansions allowed per document: generous for real designs, fatal to "billion laughs". */
export const MAX_ALIAS_COUNT = 100;

/** One YAML document of a multi-document stream, as plain JS, with where it starts. */
export type YamlDocument = { index: number; line: number; value: unknown };

/**
 * The design is not readable YAML. A 400 carrying the position, so a caller can fix the file
 * (Drydock swallowed the parse error and answered 500, defect 38).
 */
export class DesignSyntaxError extends ValidationError {
  /** 1-based line and column of the problem. */
  readonly line: number;
  readonly column: number;

  constructor(message: string, line: number, column: number) {
    super(`design is not valid YAML at line ${line}, column ${column}: ${message}`, [
      { path: `yaml:${line}:${column}`, message },
    ]);
    this.line = line;
    this.column = column;
  }
}

// PyYAML (what Drydock uses) reads YAML 1.1, so yes/no/on/off are booleans and 0755 is octal;
// reading the same way keeps a design's meaning. The 1.1 extras that would turn scalars into
// non-JSON values (binary, timestamps, sets, ordered maps) are left out: such tags then count
// as unknown, like any custom tag.
const JSON_SAFE_TAGS = new Set([
  'tag:yaml.org,2002:map',
  'tag:yaml.org,2002:seq',
  'tag:yaml.org,2002:str',
  'tag:yaml.org,2002:null',
  'tag:yaml.org,2002:int',
  'tag:yaml.org,2002:float',
  'tag:yaml.org,2002:merge',
]);
// PyYAML's booleans, which unlike the YAML 1.1 draft leave y/Y/n/N as strings: a network
// named `n` stays a name.
const pyyamlBool = (value: boolean, test: RegExp): ScalarTag => ({
  identify: (v) => v === value,
  default: true,
  tag: 'tag:yaml.org,2002:bool',
  test,
  resolve: () => value,
});
const PYYAML_BOOLS = [
  pyyamlBool(true, /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/),
  pyyamlBool(false, /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/),
];
const keepJsonSafe = (tags: Tags): Tags => [
  ...PYYAML_BOOLS,
  ...tags.filter((t) => JSON_SAFE_TAGS.has(typeof t === 'string' ? t : t.tag)),
];

/**
 * Parses a multi-document YAML stream safely: no custom or language tags, bounded alias
 * expansion, duplicate keys refused, empty documents skipped. Throws `DesignSyntaxError`.
 */
export function parseYamlDocuments(text: string): YamlDocument[] {
  const lineCounter = new LineCounter();
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, col: pos.col };
  };
  let parsed: ReturnType<typeof parseAllDocuments>;
  try {
    parsed = parseAllDocuments(text, {
      lineCounter,
      version: '1.1',
      customTags: keepJsonSafe,
      uniqueKeys: true,
      prettyErrors: false,
    });
  } catch (error) {
    // Pathological input (e.g. nesting deep enough to exhaust the stack).
    throw new DesignSyntaxError(`could not be parsed (${(error as Error).name})`, 1, 1);
  }
  if (!Array.isArray(parsed)) {
    // parseAllDocuments answers an EmptyStream for input with no document at all.
    return [];
  }
  const documents: YamlDocument[] = [];
  for (const [index, doc] of parsed.entries()) {
    // Messages are rebuilt from code and position: the library's own text quotes the source,
    // and a design may hold secrets that must not reach logs.
    const problem = doc.errors[0] ?? doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
    if (problem) {
      const pos = at(problem.pos[0]);
      const what =
        problem.code === 'TAG_RESOLVE_FAILED'
          ? 'unsupported tag (custom and language-specific tags are not accepted)'
          : describe(problem.code, problem.message);
      throw new DesignSyntaxError(what, pos.line, pos.col);
    }
    const start = at(doc.contents?.range?.[0] ?? doc.range?.[0] ?? 0);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      const what =
        error instanceof ReferenceError && /alias/i.test(error.message)
          ? `too many alias expansions (more than ${MAX_ALIAS_COUNT}); refusing a possible "billion laughs" document`
          : `could not be converted (${(error as Error).name})`;
      throw new DesignSyntaxError(what, start.line, start.col);
    }
    if (value === null || value === undefined) continue;
    documents.push({ index, line: start.line, value });
  }
  return documents;
}

function describe(code: string, message: string): string {
  // The first sentence of the library's message names the problem without quoting the input.
  const first = message.split(/ at line \d+|\n/)[0]?.trim();
  return first ? `${first} (${code})` : code;
}
