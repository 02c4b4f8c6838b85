/**
 * The one SQL scanner. Two rewrites walk statement text: the Data API's placeholder rewrite
 * (`$n` to `:pN`) and the migration splitter (one statement per `;`). Both must skip what is not
 * code the same way, so both ask this module where such a run ends: a string literal (with
 * backslash escapes after `E`), a quoted identifier, a comment, a dollar-quoted body.
 */

/** A character that may continue an identifier (so `a$1` or `foo$bar$` is not a `$` token). */
export const IDENT_CHAR = /[A-Za-z0-9_$]/;

const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

/** A run of text that is not code: where it ends, and whether it is a comment. */
export interface OpaqueRun {
  readonly end: number;
  readonly comment: boolean;
}

/** The run that starts at `i` and is not code, or `undefined` when code starts there. */
export function opaqueRunAt(text: string, i: number): OpaqueRun | undefined {
  const ch = text[i];
  if (ch === "'") {
    const prev = text[i - 1];
    const escaped = (prev === 'E' || prev === 'e') && !IDENT_CHAR.test(text[i - 2] ?? ' ');
    return { end: skipQuoted(text, i, "'", escaped), comment: false };
  }
  if (ch === '"') return { end: skipQuoted(text, i, '"', false), comment: false };
  if (text.startsWith('--', i)) {
    const end = text.indexOf('\n', i);
    return { end: end === -1 ? text.length : end + 1, comment: true };
  }
  if (text.startsWith('/*', i)) return { end: skipBlockComment(text, i), comment: true };
  if (ch === '$' && !IDENT_CHAR.test(text[i - 1] ?? ' ')) {
    // `$1` is a placeholder, not a tag: a tag's first character is never a digit.
    const tag = DOLLAR_TAG.exec(text.slice(i, i + 64));
    if (tag) {
      const end = text.indexOf(tag[0], i + tag[0].length);
      return { end: end === -1 ? text.length : end + tag[0].length, comment: false };
    }
  }
  return undefined;
}

/** Index just past a quoted run that starts at `start` (`quote` doubled inside = literal). */
function skipQuoted(text: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i];
    if (backslashEscapes && ch === '\\') i += 2;
    else if (ch === quote && text[i + 1] === quote) i += 2;
    else if (ch === quote) return i + 1;
    else i += 1;
  }
  return text.length;
}

/** Index just past a (nestable) block comment starting at `start`. */
function skipBlockComment(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    if (text.startsWith('/*', i)) {
      depth += 1;
      i += 2;
    } else if (text.startsWith('*/', i)) {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else i += 1;
  }
  return text.length;
}
