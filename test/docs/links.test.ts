// Every relative link and anchor in every Markdown file of the repository points at something
// that exists: a file or folder, and for `file.md#anchor` (or `#anchor`) a heading of that file,
// slugged the way GitHub renders it. Offline and fast: no URL with a scheme is followed.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Tracked Markdown files, and new ones not ignored yet (node_modules and results are ignored). */
function markdownFiles(): string[] {
  const out = execFileSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', '--', '*.md'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return [...new Set(out.split('\n').filter((f) => f !== '' && existsSync(join(ROOT, f))))];
}

/** The lines outside fenced code blocks, with inline code spans blanked. */
function proseLines(text: string): { line: string; number: number }[] {
  const lines: { line: string; number: number }[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((raw, index) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(raw)?.[1];
    if (marker && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      return;
    }
    if (fence === undefined)
      lines.push({ line: raw.replace(/`+[^`]*`+/g, '``'), number: index + 1 });
  });
  return lines;
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  let fence: string | undefined;
  for (const raw of text.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(raw)?.[1];
    if (marker && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      continue;
    }
    const heading = fence === undefined ? /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw)?.[1] : undefined;
    if (heading === undefined) continue;
    const rendered = heading
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/`([^`]*)`/g, '$1')
      .replace(/<[^>]+>/g, '');
    const base = rendered
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** Link targets on one prose line: inline links and images, reference definitions, HTML href/src. */
function targets(line: string): string[] {
  const found: string[] = [];
  for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
    found.push(m[1] ?? '');
  const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
  if (definition?.[1]) found.push(definition[1]);
  for (const m of line.matchAll(/\b(?:href|src)="([^"]+)"/g)) found.push(m[1] ?? '');
  return found.filter((t) => t !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

const anchorCache = new Map<string, Set<string>>();
function anchorsOf(file: string): Set<string> {
  let set = anchorCache.get(file);
  if (!set) {
    set = anchors(readFileSync(file, 'utf8'));
    anchorCache.set(file, set);
  }
  return set;
}

/** What is wrong with each relative link of one file (empty when every link resolves). */
function brokenLinks(file: string): string[] {
  const absolute = join(ROOT, file);
  const broken: string[] = [];
  for (const { line, number } of proseLines(readFileSync(absolute, 'utf8'))) {
    for (const target of targets(line)) {
      const [pathPart = '', anchor] = target.split('#', 2);
      const path = decodeURIComponent(pathPart.split('?')[0] ?? '');
      const goal =
        path === ''
          ? absolute
          : path.startsWith('/')
            ? join(ROOT, path)
            : resolve(dirname(absolute), path);
      const where = `${file}:${number} ${target}`;
      if (!existsSync(goal)) {
        broken.push(`${where}: no such file ${relative(ROOT, goal)}`);
      } else if (anchor !== undefined && anchor !== '' && goal.endsWith('.md')) {
        if (!anchorsOf(goal).has(decodeURIComponent(anchor).toLowerCase())) {
          broken.push(`${where}: no heading #${anchor} in ${relative(ROOT, goal)}`);
        }
      }
    }
  }
  return broken;
}

describe('Markdown links', () => {
  it('slugs headings as GitHub does', () => {
    const slugs = anchors(
      [
        '# The functions: every route',
        "## What Drydock's orchestrator calls, and what it calls here",
        '## Roll-up (`rollUpResults`, `POST /tasks/{id}/rollup`)',
        '```sh',
        '# not a heading',
        '```',
        '### Settings',
        '### Settings',
      ].join('\n'),
    );
    expect([...slugs]).toEqual([
      'the-functions-every-route',
      'what-drydocks-orchestrator-calls-and-what-it-calls-here',
      'roll-up-rollupresults-post-tasksidrollup',
      'settings',
      'settings-1',
    ]);
  });

  const files = markdownFiles();
  it('finds the Markdown files, the root README among them', () => {
    expect(files).toContain('README.md');
  });

  it.each(files)('%s: every relative link and anchor resolves', (file) => {
    expect(brokenLinks(file)).toEqual([]);
  });
});
