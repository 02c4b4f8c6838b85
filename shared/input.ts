import { ValidationError } from './errors.ts';

/**
 * The one gate every piece of caller text passes before a schema sees it: HTTP bodies, query
 * strings, path parameters and headers, and SQS message bodies. It refuses, with a 400 naming
 * the field, what no field may hold because the database or JavaScript would store something
 * else than what was sent:
 *
 * - NUL (U+0000): Postgres `text` and `jsonb` cannot hold it (SQLSTATE 22021 / 22P05);
 * - ill-formed Unicode: a lone surrogate (JSON `"\ud800"`, `%ED%A0%80`) or bytes that are not
 *   UTF-8 would be stored as U+FFFD, so two different inputs would become one value;
 * - a key named `__proto__`: JavaScript objects (and zod) drop it silently;
 * - JSON nested deeper than `MAX_JSON_DEPTH`: serialising it again overflows the stack.
 */

/** Deepest JSON nesting accepted (the body itself is level 1). Real requests use under 10. */
export const MAX_JSON_DEPTH = 64;

/** The longest object key shown in an issue path; longer keys are cut. */
const SHOWN_KEY_CHARS = 64;

type Issue = { path: string; message: string };

function describeText(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL character (U+0000)';
  if (!text.isWellFormed()) return 'is not well-formed Unicode (a lone surrogate or invalid UTF-8)';
  return undefined;
}

/** Whether a string passes the gate: no NUL, well-formed Unicode. */
export function isSoundText(text: string): boolean {
  return describeText(text) === undefined;
}

function pathOf(where: string, parts: readonly (string | number)[]): string {
  return [where, ...parts.map((p) => (typeof p === 'number' ? String(p) : shownKey(p)))].join('.');
}

function shownKey(key: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is masked
  const safe = key.replace(/[\u0000-\u001f\u007f]/g, '?').toWellFormed();
  return safe.length > SHOWN_KEY_CHARS ? `${safe.slice(0, SHOWN_KEY_CHARS)}…` : safe;
}

/** The first problem in a decoded value, walking objects and arrays depth-first. */
function findProblem(value: unknown, where: string, parts: (string | number)[]): Issue | undefined {
  if (typeof value === 'string') {
    const problem = describeText(value);
    return problem ? { path: pathOf(where, parts), message: problem } : undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (parts.length >= MAX_JSON_DEPTH) {
    return {
      path: pathOf(where, parts),
      message: `is nested deeper than ${MAX_JSON_DEPTH} levels`,
    };
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      parts.push(i);
      const found = findProblem(value[i], where, parts);
      parts.pop();
      if (found) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (key === '__proto__') {
      return {
        path: pathOf(where, parts),
        message: 'has a key named __proto__, which JavaScript objects cannot keep as data',
      };
    }
    const keyProblem = describeText(key);
    if (keyProblem) return { path: pathOf(where, parts), message: `has a key that ${keyProblem}` };
    parts.push(key);
    const found = findProblem((value as Record<string, unknown>)[key], where, parts);
    parts.pop();
    if (found) return found;
  }
  return undefined;
}

/**
 * Refuses (400) a decoded input holding text no field may hold: NUL, ill-formed Unicode, a
 * `__proto__` key, or nesting past `MAX_JSON_DEPTH`. `where` prefixes the issue path
 * (`body.extra.k`, `query.created_by`, `path.node_name`).
 */
export function assertSoundInput(value: unknown, where: string): void {
  const issue = findProblem(value, where, []);
  if (issue)
    throw new ValidationError(`Invalid ${where}: ${issue.path} ${issue.message}.`, [issue]);
}

// ---------------------------------------------------------------------------------------------
// JSON text

type ScanState = 'value' | 'firstValue' | 'key' | 'firstKey' | 'colon' | 'after';
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Checks JSON text in one linear pass, without building anything: the syntax, and nesting no
 * deeper than `maxDepth`. Returns where the first problem is (an offset into `text`) and what
 * it is, in words that never quote the text itself.
 */
export function scanJson(
  text: string,
  maxDepth: number = MAX_JSON_DEPTH,
): { offset: number; reason: string } | undefined {
  const stack: number[] = [];
  const n = text.length;
  let i = 0;
  let state: ScanState = 'value';
  const fail = (reason: string) => ({ offset: Math.min(i, n), reason });
  const scanString = () => {
    i += 1;
    for (;;) {
      if (i >= n) return fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i += 1;
        return undefined;
      }
      if (c < 0x20) return fail('control character inside a string');
      if (c === 0x5c) {
        const e = text.charCodeAt(i + 1);
        if (e === 0x75) {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return fail('invalid \\u escape');
          i += 6;
        } else if ('"\\/bfnrt'.includes(text[i + 1] ?? '')) {
          i += 2;
        } else {
          return fail('invalid escape');
        }
      } else {
        i += 1;
      }
    }
  };
  for (;;) {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i += 1;
    }
    if (i >= n) return state === 'after' && stack.length === 0 ? undefined : fail('unexpected end');
    const c = text.charCodeAt(i);
    if (state === 'colon') {
      if (c !== 0x3a) return fail("expected ':'");
      i += 1;
      state = 'value';
    } else if (state === 'key' || state === 'firstKey') {
      if (state === 'firstKey' && c === 0x7d) {
        stack.pop();
        i += 1;
        state = 'after';
      } else if (c === 0x22) {
        const problem = scanString();
        if (problem) return problem;
        state = 'colon';
      } else {
        return fail('expected a property name in double quotes');
      }
    } else if (state === 'after') {
      const top = stack.at(-1);
      if (top === undefined) return fail('unexpected text after the JSON value');
      if (c === 0x2c) {
        i += 1;
        state = top === 0x7b ? 'key' : 'value';
      } else if ((top === 0x7b && c === 0x7d) || (top === 0x5b && c === 0x5d)) {
        stack.pop();
        i += 1;
      } else {
        return fail(top === 0x7b ? "expected ',' or '}'" : "expected ',' or ']'");
      }
    } else if (state === 'firstValue' && c === 0x5d) {
      stack.pop();
      i += 1;
      state = 'after';
    } else if (c === 0x7b || c === 0x5b) {
      if (stack.length >= maxDepth) return fail(`nested deeper than ${maxDepth} levels`);
      stack.push(c);
      i += 1;
      state = c === 0x7b ? 'firstKey' : 'firstValue';
    } else if (c === 0x22) {
      const problem = scanString();
      if (problem) return problem;
      state = 'after';
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m) return fail('invalid number');
      i += m[0].length;
      state = 'after';
    } else {
      const literal = ['true', 'false', 'null'].find((word) => text.startsWith(word, i));
      if (!literal) return fail('unexpected character');
      i += literal.length;
      state = 'after';
    }
  }
}

function lineAndColumn(text: string, offset: number): string {
  let line = 1;
  let start = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < offset; at = text.indexOf('\n', at + 1)) {
    line += 1;
    start = at + 1;
  }
  return `line ${line}, column ${offset - start + 1}`;
}

/**
 * Parses caller JSON (an HTTP body, an SQS message) and passes the result through
 * `assertSoundInput`. A syntax error says where it is (line and column), never what the text
 * says there: bodies may hold secrets, and error messages reach logs and callers.
 */
export function parseJsonText(text: string, where: string): unknown {
  const problem = scanJson(text);
  if (problem) {
    const at = lineAndColumn(text, problem.offset);
    throw new ValidationError(`Malformed JSON ${where}: ${problem.reason} at ${at}.`, [
      { path: where, message: `${problem.reason} at ${at}` },
    ]);
  }
  const value: unknown = JSON.parse(text);
  assertSoundInput(value, where);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Bytes and percent-escapes

/** Decodes a body that must be UTF-8; anything else is a 400 saying where the bad byte is. */
export function decodeUtf8(bytes: Uint8Array, where: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    throw new ValidationError(`The ${where} is not valid UTF-8 (byte ${offset}).`, [
      { path: where, message: `invalid UTF-8 at byte ${offset}` },
    ]);
  }
}

/** Length of the well-formed UTF-8 sequence starting at `i`, or 0 (RFC 3629, table 3-7). */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i] as number;
  if (b0 < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => {
    const b = bytes[i + k];
    return b !== undefined && b >= lo && b <= hi;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (b0 === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0; // no surrogates
  if (b0 >= 0xe1 && b0 <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b0 === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xf1 && b0 <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const length = utf8SequenceLength(bytes, i);
    if (length === 0) return i;
    i += length;
  }
  return bytes.length;
}

/**
 * UTF-8 to text where each byte that is not part of a well-formed sequence becomes the lone
 * surrogate U+DC80–U+DCFF (Python's "surrogateescape"). Nothing is replaced silently: the
 * result is ill-formed exactly when the input was, so `assertSoundInput` refuses it with the
 * field's name instead of a lookup quietly matching U+FFFD.
 */
export function decodeUtf8Escaping(bytes: Uint8Array): string {
  let out = '';
  let start = 0;
  const decoder = new TextDecoder('utf-8');
  for (let i = 0; i < bytes.length; ) {
    const length = utf8SequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    out +=
      decoder.decode(bytes.subarray(start, i)) + String.fromCharCode(0xdc00 + (bytes[i] as number));
    i += 1;
    start = i;
  }
  return out + decoder.decode(bytes.subarray(start));
}

/**
 * Percent-decodes a URL component (path segment, query name or value) to text. Valid UTF-8
 * decodes as `decodeURIComponent` would; invalid escapes (`%FF`, `%ED%A0%80`, `%C0%80`) keep
 * their bytes as lone surrogates (see `decodeUtf8Escaping`), so they reach the edge check and
 * are refused there with the parameter's name rather than becoming U+FFFD or a 404.
 */
export function decodeUrlComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    const bytes: number[] = [];
    for (let i = 0; i < text.length; ) {
      const hex = text.slice(i + 1, i + 3);
      if (text[i] === '%' && /^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 3;
      } else {
        const codePoint = text.codePointAt(i) as number;
        const char = String.fromCodePoint(codePoint);
        bytes.push(...Buffer.from(char, 'utf8'));
        i += char.length;
      }
    }
    return decodeUtf8Escaping(Uint8Array.from(bytes));
  }
}

/**
 * A query string (`a=1&b=%20x`) as name/value pairs in order, decoded like
 * `application/x-www-form-urlencoded` (`+` is a space) but with `decodeUrlComponent`, so an
 * invalid escape is kept visible instead of becoming U+FFFD.
 */
export function parseQueryString(search: string): [string, string][] {
  const text = search.startsWith('?') ? search.slice(1) : search;
  if (text === '') return [];
  return text
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      const value = eq === -1 ? '' : pair.slice(eq + 1);
      return [
        decodeUrlComponent(name.replaceAll('+', ' ')),
        decodeUrlComponent(value.replaceAll('+', ' ')),
      ];
    });
}
