import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

/** The fixture's stacks from its bundle in a fresh Node process. */
function stacksOf(nodeMapping: boolean): Record<string, string> {
  const bundle = pathToFileURL(join(outdir, 'index.mjs')).href;
  // With Node's mapping, the bundle's own hook is set aside once it is loaded: Node maps then.
  const script = `const m = await import(${JSON.stringify(bundle)});
${nodeMapping ? 'Error.prepareStackTrace = undefined;' : ''}
console.log(JSON.stringify(await m.stacks()));`;
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
        'alias',
        'all',
        'async',
        'callback',
        'caused',
        'coded',
        'construct',
        'load',
        'logged',
        'method',
        'node',
      ].sort(),
    );
    const source = `${PROJECT_ROOT}${ENTRY}`;
    for (const [name, stack] of Object.entries(mapped)) {
      // Every frame in the bundle's code points into the sources, none into the bundle.
      expect(stack, name).toContain(name === 'load' ? 'throws-at-load.ts:3:9' : `${source}:`);
      expect(stack, name).not.toMatch(/index\.mjs|chunks\//);
    }
    expect(mapped.method).toMatch(/^Error: no task t1\n {4}at \S+\.read \(.*entry\.ts:7:11\)/);
    expect(mapped.construct).toContain('at new ');
    expect(mapped.async).toContain('at async ');
    expect(mapped.node).toMatch(/^RangeError \[ERR_OUT_OF_RANGE\]: /);
    expect(mapped).toEqual(stacksOf(true));
  });
});
