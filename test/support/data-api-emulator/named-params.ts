/**
 * `:name` → `$n` for the emulator, the inverse of what the adapter does. Written separately from
 * the adapter's tokenizer on purpose: a shared bug would otherwise cancel out in the tests.
 */

/** Where the run of SQL text that starts at `i` ends, or -1 when `i` starts ordinary text. */
function skipOpaque(sql: string, i: number): number {
  const ch = sql[i];
  const rest2 = sql.slice(i, i + 2);
  if (ch === "'" || ch === '"') {
    const escapes = ch === "'" && /[Ee]/.test(sql[i - 1] ?? '') && !/[\w$]/.test(sql[i - 2] ?? ' ');
    let j = i + 1;
    for (;;) {
      if (j >= sql.length) return sql.length;
      if (escapes && sql[j] === '\\') j += 2;
      else if (sql[j] === ch && sql[j + 1] === ch) j += 2;
      else if (sql[j] === ch) return j + 1;
      else j += 1;
    }
  }
  if (rest2 === '--') {
    const end = sql.indexOf('\n', i);
    return end === -1 ? sql.length : end + 1;
  }
  if (rest2 === '/*') {
    let depth = 0;
    let j = i;
    while (j < sql.length) {
      if (sql.startsWith('/*', j)) {
        depth += 1;
        j += 2;
      } else if (sql.startsWith('*/', j)) {
        depth -= 1;
        j += 2;
        if (depth === 0) return j;
      } else j += 1;
    }
    return sql.length;
  }
  if (ch === '$' && !/[\w$]/.test(sql[i - 1] ?? ' ')) {
    const tag = /^\$([A-Za-z_][\w]*)?\$/.exec(sql.slice(i, i + 64));
    if (tag) {
      const end = sql.indexOf(tag[0], i + tag[0].length);
      return end === -1 ? sql.length : end + tag[0].length;
    }
  }
  if (rest2 === '::') return i + 2;
  return -1;
}

/**
 * Rewrites named parameters to positional ones. The same name used twice maps to one `$n`.
 * @returns the text and the names in `$n` order.
 */
export function toPositional(sql: string): { text: string; names: string[] } {
  const names: string[] = [];
  let text = '';
  let i = 0;
  while (i < sql.length) {
    const opaqueEnd = skipOpaque(sql, i);
    if (opaqueEnd !== -1) {
      text += sql.slice(i, opaqueEnd);
      i = opaqueEnd;
      continue;
    }
    const named = sql[i] === ':' ? /^:([A-Za-z_]\w*)/.exec(sql.slice(i, i + 200)) : null;
    if (named) {
      const name = named[1] as string;
      let n = names.indexOf(name);
      if (n === -1) n = names.push(name) - 1;
      text += `$${n + 1}`;
      i += named[0].length;
      continue;
    }
    text += sql[i];
    i += 1;
  }
  return { text, names };
}
