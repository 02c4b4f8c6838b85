import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleOptions, PROJECT_ROOT } from '#infra/constructs/service-function.ts';

/**
 * A function bundle maps its stack traces to the TypeScript sources when a stack is formatted
 * (`shared/stack-traces.ts`, injected by the construct's esbuild options), without
 * `--enable-source-maps` at start: the same text as Node's own mapping, frame for frame.
 */
const ENTRY = 'test/fixtures/stack-traces/entry.ts';

let outdir: string;

/** The fixture's stacks (`stacks`, or another export) from its bundle in a fresh Node process. */
function stacksOf(nodeMapping: boolean, exported = 'stacks'): Record<string, string> {
  const bundle = pathToFileURL(join(outdir, 'index.mjs')).href;
  // With Node's mapping, the bundle's own hook is set aside once it is loaded: Node maps then.
  const script = `const m = await import(${JSON.stringify(bundle)});
${nodeMapping ? 'Error.prepareStackTrace = undefined;' : ''}
console.log(JSON.stringify(await m.${exported}()));`;
  const child = spawnSync(
    process.execPath,
    [...(nodeMapping ? ['--enable-source-maps'] : []), '--input-type=module', '-e', script],
    { encoding: 'utf8', env: { PATH: process.env.PATH } },
  );
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}');
}

describe('stack traces of a function bundle', () => {
  beforeAll(async () => {
    outdir = mkdtempSync(join(tmpdir(), 'drydock-stack-traces-'));
    await build({ ...bundleOptions(ENTRY), outdir });
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('name the sources, as Node writes them with --enable-source-maps', () => {
    const mapped = stacksOf(false);
    expect(Object.keys(mapped).sort()).toEqual(
      [
        'aggregate',
        'alias',
        'all',
        'async',
        'callback',
        'caused',
        'codeGetter',
        'coded',
        'construct',
        'evaluated',
        'inspected',
        'load',
        'logged',
        'method',
        'node',
      ].sort(),
    );
    const source = `${PROJECT_ROOT}${ENTRY}`;
    for (const [name, stack] of Object.entries(mapped)) {
      // Every frame in the bundle's code points into the sources, none into the bundle (but the
      // place an evaluated function's frame says it was evaluated at, which V8 writes).
      expect(stack, name).toContain(name === 'load' ? 'throws-at-load.ts:3:9' : `${source}:`);
      const own = name === 'evaluated' ? stack.replace(/\(eval at [^)]*\)/, '') : stack;
      expect(own, name).not.toMatch(/index\.mjs|chunks\//);
    }
    expect(mapped.inspected).toMatch(/\[errors\]: \[\n {4}TypeError: first\n {8}at /);
    expect(mapped.method).toMatch(/^Error: no task t1\n {4}at \S+\.read \(.*entry\.ts:8:11\)/);
    expect(mapped.construct).toContain('at new ');
    expect(mapped.async).toContain('at async ');
    expect(mapped.node).toMatch(/^RangeError \[ERR_OUT_OF_RANGE\]: /);
    expect(mapped).toEqual(stacksOf(true));
  });

  it('never throw out of a stack, where Node’s own formatting does', () => {
    expect(stacksOf(false, 'unformattable')).toEqual({
      name: expect.stringMatching(/^<error: TypeError: no name>\n {4}at /),
      symbol: expect.stringMatching(/^<error>\n {4}at /),
    });
    // Node's own formatting throws the getter's error out of `error.stack`.
    expect(stacksOf(true, 'unformattable')).toEqual({
      name: 'threw: TypeError: no name',
      symbol: 'threw: Symbol(not an error)',
    });
  });

  // Last: it removes the maps. A file whose map is missing keeps V8's own frames, as Node's.
  it('stay as V8 writes them where a map is missing, as Node’s do', () => {
    for (const dir of [outdir, join(outdir, 'chunks')]) {
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.map'))) {
        rmSync(join(dir, file));
      }
    }
    const unmapped = stacksOf(false);
    expect(unmapped.method).toMatch(/index\.mjs:\d+:\d+\)/);
    expect(unmapped).toEqual(stacksOf(true));
  });
});
