import { resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { bundleOptions } from '#infra/constructs/service-function.ts';
import { FUNCTION_ENTRIES, KEYSTONE_AUTHORIZER_ENTRY } from '#infra/stacks/function-entries.ts';

/**
 * What a cold start evaluates, per function: `index.mjs` and the chunks it imports statically,
 * from esbuild's metafile with the deploy's own options. Sizes and times are the bench's
 * (`npm run bench -- --phases bundles`); this only keeps out what must load on first use, so a
 * static import added somewhere does not quietly bring it back into every function's init.
 */
const LOADED_ON_FIRST_USE = [
  // The design fetcher's HTTP client and the S3 client: with the first http(s)/UCP or s3 reference.
  'node_modules/undici/',
  'node_modules/@aws-sdk/',
  'node_modules/@smithy/',
  // The pg driver: only where DB_DRIVER=pg.
  'node_modules/pg/',
  'node_modules/pg-pool/',
  // Templates and tarballs: with the first boot-action render; YAML: with the first design.
  'node_modules/nunjucks/',
  'node_modules/tar-stream/',
  'node_modules/js-yaml/',
  // zod's classic build (every validator uses the mini build through shared/zod.ts).
  'node_modules/zod/v4/classic/',
  // Browser-only code the SDK carries.
  'node_modules/bowser/',
];

/** The inputs of each entry's init code, from one esbuild run over every entry. */
async function initInputsByEntry(entries: Readonly<Record<string, string>>) {
  const first = Object.values(entries)[0] as string;
  const options = bundleOptions(first);
  const root = options.absWorkingDir as string;
  const outdir = resolve(root, 'cdk.out', 'bundle-test');
  // The construct's options with every entry at once: chunks are shared differently, but what
  // each entry loads statically is the same.
  const { metafile } = await build({
    ...options,
    entryPoints: Object.fromEntries(
      Object.entries(entries).map(([name, entry]) => [name, `${root}${entry}`]),
    ),
    outdir,
    write: false,
    metafile: true,
  });
  const outputs = new Map(
    Object.entries(metafile.outputs).map(([file, output]) => [resolve(root, file), output]),
  );
  const inputsOf = (name: string): string[] => {
    const init = new Set<string>();
    const pending = [resolve(outdir, `${name}.mjs`)];
    while (pending.length > 0) {
      const file = pending.pop() as string;
      if (init.has(file)) continue;
      init.add(file);
      for (const imported of outputs.get(file)?.imports ?? []) {
        if (imported.kind === 'import-statement' && !imported.external) {
          pending.push(resolve(root, imported.path));
        }
      }
    }
    return [...init].flatMap((file) => Object.keys(outputs.get(file)?.inputs ?? {}));
  };
  return Object.fromEntries(Object.keys(entries).map((name) => [name, inputsOf(name)]));
}

describe('the init code of every function', () => {
  const entries = { ...FUNCTION_ENTRIES, keystoneAuthorizer: KEYSTONE_AUTHORIZER_ENTRY };

  it('leaves the packages loaded on first use out', async () => {
    const inputs = await initInputsByEntry(entries);
    for (const [name, list] of Object.entries(inputs)) {
      // The handler itself is there: the walk found the entry's init code.
      expect(
        list.some((input) => input.startsWith('functions/')),
        name,
      ).toBe(true);
      const early = list.filter((input) => LOADED_ON_FIRST_USE.some((p) => input.includes(p)));
      expect(early, name).toEqual([]);
    }
  });
});
