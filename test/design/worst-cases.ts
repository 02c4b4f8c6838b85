/**
 * Hostile and very large design files, generated (they would be megabytes as fixtures): each
 * is a row of the design tables, with what the service must answer. Used by the
 * responsiveness test and by the bench.
 */
export type WorstCase = {
  name: string;
  /** The design text. */
  text: () => string;
  /** `accepted`: parsed and judged (200/400 Status); otherwise the refusal's message. */
  outcome: 'accepted' | RegExp;
};

const head = 'schema: other/Keys/v1\nmetadata: {name: keys}\ndata:\n';

/** One mapping of `n` distinct keys (`k0: 0` …, base 36), about 10 bytes a key. */
export function manyKeys(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(` k${i.toString(36)}: ${i % 10}`);
  return `${head}${lines.join('\n')}\n`;
}

/** A mapping with the same key `n` times. */
export function repeatedKey(n: number): string {
  return `${head}${' dup: 1\n'.repeat(n)}`;
}

/** `<<: *big` `merges` times over an anchor of `keys` keys. */
export function mergeBomb(keys: number, merges: number): string {
  const big: string[] = ['big: &big'];
  for (let i = 0; i < keys; i++) big.push(`  k${i}: ${i % 10}`);
  const refs: string[] = [];
  for (let i = 0; i < merges; i++) refs.push(`m${i}:\n  <<: *big`);
  return `${big.join('\n')}\n${refs.join('\n')}\n`;
}

/** `documents` documents, each with `aliases` aliases to a list of `items` strings. */
export function aliasFanOut(documents: number, aliases: number, items: number): string {
  const out: string[] = [];
  for (let d = 0; d < documents; d++) {
    const list: string[] = [];
    for (let i = 0; i < items; i++) list.push(`  - item-${d}-${i}-${'x'.repeat(40)}`);
    out.push(
      `---\nitems: &items\n${list.join('\n')}\nrefs: [${Array(aliases).fill('*items').join(', ')}]\n`,
    );
  }
  return out.join('');
}

/** Ten levels of ten aliases each: 10^10 strings if expanded. */
export function billionLaughs(): string {
  const lines = ['l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i <= 9; i++)
    lines.push(
      `l${i}: &l${i} [${Array(10)
        .fill(`*l${i - 1}`)
        .join(', ')}]`,
    );
  return `${lines.join('\n')}\n`;
}

/** Flow lists nested `depth` deep. */
export function deepNesting(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}\n`;
}

/** `n` small documents. */
export function manyDocuments(n: number): string {
  return 'a: 1\n---\n'.repeat(n - 1).concat('a: 1\n');
}

/** Drydock's own sizes of the reported stalls, under the 4 MiB design cap. */
export const WORST_CASES: readonly WorstCase[] = [
  { name: 'a mapping of 20,000 keys', text: () => manyKeys(20_000), outcome: 'accepted' },
  {
    name: 'a design of 370,000 keys, near the 4 MiB cap',
    text: () => manyKeys(370_000),
    outcome: 'accepted',
  },
  { name: 'one key repeated 20,000 times', text: () => repeatedKey(20_000), outcome: 'accepted' },
  {
    name: '<<: *big ×99 over a 20,000-key anchor',
    text: () => mergeBomb(20_000, 99),
    outcome: /merge keys exceeded maxTotalMergeKeys \(200000\)/,
  },
  {
    name: '55 documents of 99 aliases to a 1,000-item list',
    text: () => aliasFanOut(55, 99, 1_000),
    outcome: /expands to more than 16777216 characters of keys and strings/,
  },
  {
    name: 'billion laughs (10 levels of 10 aliases)',
    text: billionLaughs,
    outcome: /expands to more than 2000000 values/,
  },
  {
    name: 'lists nested 10,000 deep',
    text: () => deepNesting(10_000),
    outcome: /nesting exceeded maxDepth \(64\)/,
  },
  {
    name: '10,001 documents',
    text: () => manyDocuments(10_001),
    outcome: /more than 10000 documents/,
  },
];
