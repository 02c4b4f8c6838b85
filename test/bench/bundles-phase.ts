import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { ROOT } from './child-server.ts';
import type { BenchOptions } from './options.ts';
import { type Summary, summarize } from './stats.ts';

const run = promisify(execFile);

/** What makes up a bundle's init code: bytes of output per package (or project folder). */
export interface BundlePart {
  readonly name: string;
  readonly bytes: number;
}

export interface BundleResult {
  readonly name: string;
  readonly entry: string;
  /** The code a cold start evaluates: `index.mjs` and the chunks it imports statically. */
  readonly bytes: number;
  /** The same, gzipped file by file and summed. */
  readonly gzipBytes: number;
  /** `index.mjs` alone. */
  readonly entryBytes: number;
  /** Every `.mjs` of the asset, including chunks only some paths load (`pg`, credential providers). */
  readonly assetBytes: number;
  /** Files (`.mjs`) in the asset, and how many of them init loads. */
  readonly files: number;
  readonly initFiles: number;
  readonly sourceMapBytes: number;
  /** The largest contributors to the init code, from esbuild's metafile. */
  readonly composition: readonly BundlePart[];
  /** The largest contributors to the lazily loaded chunks. */
  readonly lazyComposition: readonly BundlePart[];
  /**
   * Module initialisation (import of the bundle) in a fresh process, as deployed: stack traces
   * mapped when one is formatted (`shared/stack-traces.ts`), no `--enable-source-maps`.
   */
  readonly initMs: Summary;
  /** The same with Node's `--enable-source-maps` (every map read at start), to show what it costs. */
  readonly initEagerSourceMapsMs: Summary;
  /** CPU used by the import as deployed (all threads): steadier than wall time on a busy machine. */
  readonly initCpuMs: Summary;
  readonly rssDeltaKiB: number;
}

/** Issue targets: init code per function (report units: 1 kB = 1,024 bytes) and init over the minimal handler. */
export const BUNDLE_TARGETS = { maxInitBytes: 350 * 1024, maxInitOverMinimalMs: 80 } as const;

export interface BundlesPhaseResult {
  /** How the bundles were built. */
  readonly builtBy: string;
  readonly baseline: BundleResult;
  readonly functions: BundleResult[];
}

// The environment a deployed container gives the function: configuration is read on first
// invocation, but a module that read it at import time would need it, so it is there.
const LAMBDA_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  DB_DRIVER: 'data-api',
  DB_CLUSTER_ARN: 'arn:aws:rds:us-east-1:123456789012:cluster:bench',
  DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-AbCdEf',
  DB_NAME: 'drydock',
  LOG_LEVEL: 'INFO',
};

/**
 * Bundles every Lambda entry with the service's own `ServiceFunction` construct (so esbuild runs
 * with exactly the options a deploy uses), plus a minimal handler through the same construct.
 * Returns the index.mjs of each asset.
 */
async function bundleWithConstruct(
  outdir: string,
  entries: Readonly<Record<string, string>>,
): Promise<{ name: string; entry: string; dir: string }[]> {
  const { App, Stack } = await import('aws-cdk-lib');
  const { ServiceFunction } = await import('#infra/constructs/service-function.ts');
  const { resolveStageConfig } = await import('#infra/config/stage-config.ts');
  const app = new App({ outdir, context: { stage: 'dev' } });
  const stack = new Stack(app, 'BenchBundles');
  const config = resolveStageConfig(app.node);
  const built: { name: string; entry: string; dir: string }[] = [];
  for (const [name, entry] of Object.entries(entries)) {
    const before = new Set(readdirSync(outdir));
    new ServiceFunction(stack, `Fn${built.length}`, { entry, description: name, config });
    const added = readdirSync(outdir).filter((d) => !before.has(d) && d.startsWith('asset.'));
    if (added.length !== 1) throw new Error(`bundling ${entry} produced ${added.length} assets`);
    built.push({ name, entry, dir: join(outdir, added[0] as string) });
  }
  return built;
}

/** `node_modules/@scope/pkg/...` → `@scope/pkg`; a project file → its folder (`shared/store`). */
function partOf(input: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (pkg) return pkg[1] as string;
  return input
    .split('/')
    .slice(0, input.startsWith('functions/') ? 1 : 2)
    .join('/');
}

function topParts(totals: Map<string, number>, count: number): BundlePart[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, bytes]) => ({ name, bytes }));
}

/**
 * Re-runs esbuild with the construct's own options (`bundleOptions`) for its metafile, checks
 * that it describes the files the construct wrote byte for byte, and splits them into what init
 * loads (the entry and its static imports) and what is loaded later, if ever.
 */
async function analyseBundle(entry: string, dir: string) {
  const { build } = await import('esbuild');
  const { bundleOptions } = await import('#infra/constructs/service-function.ts');
  const options = bundleOptions(entry);
  const { metafile } = await build({ ...options, outdir: dir, write: false, metafile: true });
  const root = options.absWorkingDir as string;
  const outputs = new Map(
    Object.entries(metafile.outputs)
      .filter(([file]) => file.endsWith('.mjs'))
      .map(([file, output]) => [relative(dir, resolve(root, file)), output]),
  );
  const onDisk = (readdirSync(dir, { recursive: true }) as string[]).filter((f) =>
    f.endsWith('.mjs'),
  );
  for (const file of onDisk) {
    if (outputs.get(file)?.bytes !== statSync(join(dir, file)).size) {
      throw new Error(`${entry}: ${file} differs from what bundleOptions() builds`);
    }
  }
  if (onDisk.length !== outputs.size) throw new Error(`${entry}: the asset has other files`);
  const init = new Set<string>();
  const pending = ['index.mjs'];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (init.has(file)) continue;
    init.add(file);
    for (const imported of outputs.get(file)?.imports ?? []) {
      const target = relative(dir, resolve(root, imported.path));
      if (imported.kind === 'import-statement' && outputs.has(target)) pending.push(target);
    }
  }
  const initParts = new Map<string, number>();
  const lazyParts = new Map<string, number>();
  for (const [file, output] of outputs) {
    const parts = init.has(file) ? initParts : lazyParts;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const part = partOf(input);
      parts.set(part, (parts.get(part) ?? 0) + bytesInOutput);
    }
  }
  const size = (file: string) => statSync(join(dir, file)).size;
  const sum = (files: Iterable<string>, f: (file: string) => number) =>
    [...files].reduce((total, file) => total + f(file), 0);
  const maps = (readdirSync(dir, { recursive: true }) as string[]).filter((f) =>
    f.endsWith('.map'),
  );
  return {
    bytes: sum(init, size),
    gzipBytes: sum(init, (file) => gzipSync(readFileSync(join(dir, file))).length),
    entryBytes: size('index.mjs'),
    assetBytes: sum(outputs.keys(), size),
    files: outputs.size,
    initFiles: init.size,
    sourceMapBytes: sum(maps, size),
    composition: topParts(initParts, 12),
    lazyComposition: topParts(lazyParts, 6),
  };
}

/** Cold imports of a bundle, as deployed or with Node's `--enable-source-maps` (`eagerMaps`). */
async function timeImports(file: string, runs: number, eagerMaps: boolean) {
  const samples: number[] = [];
  const cpuSamples: number[] = [];
  let rssDeltaKiB = 0;
  for (let i = 0; i < runs; i += 1) {
    const { stdout } = await run(process.execPath, ['test/bench/import-timer.ts', file], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        ...LAMBDA_ENV,
        ...(eagerMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
      },
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1) as string) as {
      importMs: number;
      importCpuMs: number;
      rssDeltaKiB: number;
    };
    samples.push(result.importMs);
    cpuSamples.push(result.importCpuMs);
    rssDeltaKiB = result.rssDeltaKiB;
  }
  return { summary: summarize(samples), cpu: summarize(cpuSamples), rssDeltaKiB };
}

/** Bundle size and cold module initialisation of every function, against a minimal handler. */
export async function runBundlesPhase(
  options: BenchOptions,
  progress: (text: string) => void,
): Promise<BundlesPhaseResult> {
  const { FUNCTION_ENTRIES, KEYSTONE_AUTHORIZER_ENTRY } = await import(
    '#infra/stacks/function-entries.ts'
  );
  // The authoriser is deployed only with Keystone tokens on, and measured always.
  const entries = { ...FUNCTION_ENTRIES, keystoneAuthorizer: KEYSTONE_AUTHORIZER_ENTRY };
  const outdir = mkdtempSync(join(tmpdir(), 'drydock-bench-cdk-'));
  try {
    progress('bundling with the ServiceFunction construct (esbuild)');
    const wanted = Object.entries(entries).filter(
      ([name]) => options.functions === 'all' || options.functions.includes(name),
    );
    if (wanted.length === 0) throw new Error(`no function named ${String(options.functions)}`);
    const built = await bundleWithConstruct(outdir, {
      minimal: 'test/bench/minimal-handler.ts',
      ...Object.fromEntries(wanted),
    });
    const results: BundleResult[] = [];
    for (const b of built) {
      progress(`cold imports of ${b.name} (${options.initRuns} × 2 fresh processes)`);
      const file = join(b.dir, 'index.mjs');
      const deployed = await timeImports(file, options.initRuns, false);
      const eagerMaps = await timeImports(file, options.initRuns, true);
      results.push({
        name: b.name,
        entry: b.entry,
        ...(await analyseBundle(b.entry, b.dir)),
        initMs: deployed.summary,
        initEagerSourceMapsMs: eagerMaps.summary,
        initCpuMs: deployed.cpu,
        rssDeltaKiB: deployed.rssDeltaKiB,
      });
    }
    const [baseline, ...functions] = results;
    return {
      builtBy:
        'infra/constructs/service-function.ts ServiceFunction (bundleOptions(), local esbuild)',
      baseline: baseline as BundleResult,
      functions,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
