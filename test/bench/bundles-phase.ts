import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { ROOT } from './child-server.ts';
import type { BenchOptions } from './options.ts';
import { type Summary, summarize } from './stats.ts';

const run = promisify(execFile);

export interface BundleResult {
  readonly name: string;
  readonly entry: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly sourceMapBytes: number;
  /** Module initialisation (import of the bundle) in a fresh process, as deployed (--enable-source-maps). */
  readonly initMs: Summary;
  /** The same without source-map support, to show what that option costs. */
  readonly initNoSourceMapsMs: Summary;
  readonly rssDeltaKiB: number;
}

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

async function timeImports(file: string, runs: number, sourceMaps: boolean) {
  const samples: number[] = [];
  let rssDeltaKiB = 0;
  for (let i = 0; i < runs; i += 1) {
    const { stdout } = await run(process.execPath, ['test/bench/import-timer.ts', file], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        ...LAMBDA_ENV,
        ...(sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
      },
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1) as string) as {
      importMs: number;
      rssDeltaKiB: number;
    };
    samples.push(result.importMs);
    rssDeltaKiB = result.rssDeltaKiB;
  }
  return { summary: summarize(samples), rssDeltaKiB };
}

/** Bundle size and cold module initialisation of every function, against a minimal handler. */
export async function runBundlesPhase(
  options: BenchOptions,
  progress: (text: string) => void,
): Promise<BundlesPhaseResult> {
  const { FUNCTION_ENTRIES, KEYSTONE_AUTHORIZER_ENTRY } = await import(
    '#infra/stacks/stateless-stack.ts'
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
      const withMaps = await timeImports(file, options.initRuns, true);
      const withoutMaps = await timeImports(file, options.initRuns, false);
      results.push({
        name: b.name,
        entry: b.entry,
        bytes: statSync(file).size,
        gzipBytes: gzipSync(readFileSync(file)).length,
        sourceMapBytes: statSync(`${file}.map`).size,
        initMs: withMaps.summary,
        initNoSourceMapsMs: withoutMaps.summary,
        rssDeltaKiB: withMaps.rssDeltaKiB,
      });
    }
    const [baseline, ...functions] = results;
    return {
      builtBy:
        'infra/constructs/service-function.ts ServiceFunction (NodejsFunction, local esbuild)',
      baseline: baseline as BundleResult,
      functions,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
