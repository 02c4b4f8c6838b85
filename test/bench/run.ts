// `npm run bench`: how close the service is to the floor Postgres sets, as ratios measured in one
// run on the local server. See USAGE in options.ts for sizes and phases; test/README.md "Benchmarks".
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, type as osType, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { runApiCallsPhase } from './api-calls-phase.ts';
import { type BenchSchema, createBenchSchema, serverInfo } from './bench-db.ts';
import { runBuildDataPhase } from './build-data-phase.ts';
import { runBundlesPhase } from './bundles-phase.ts';
import { ROOT } from './child-server.ts';
import { runDesignPhase } from './design-phase.ts';
import { runEventsPhase } from './events-phase.ts';
import { runHttpPhase } from './http-phase.ts';
import { runInputGatePhase } from './input-gate-phase.ts';
import { type BenchOptions, type Phase, parseOptions, USAGE } from './options.ts';
import { type BenchMeta, type BenchResults, renderMarkdown, renderResultsPage } from './report.ts';
import { runStatementsPhase } from './statements-phase.ts';
import { createProgress } from './stats.ts';
import { runStorePhase } from './store-phase.ts';

function packageVersion(name: string): string {
  try {
    const file = join(ROOT, 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'n/a';
  }
}

async function meta(): Promise<BenchMeta> {
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    machine: {
      cpu: cpu[0]?.model.trim() ?? 'unknown',
      cores: cpu.length,
      memoryGiB: totalmem() / 1024 ** 3,
      os: `${osType()} ${release()}`,
    },
    node: process.version,
    postgres: await serverInfo(),
    packages: Object.fromEntries(
      [
        'pg',
        'undici',
        'esbuild',
        'aws-cdk-lib',
        '@aws-sdk/client-rds-data',
        'js-yaml',
        // The peers and the local database, whose versions the ratios depend on.
        'graphile-worker',
        'pg-boss',
        '@electric-sql/pglite',
      ].map((p) => [p, packageVersion(p)]),
    ),
  };
}

/** Runs the selected phases on one fresh schema; a phase that throws is recorded, the rest still run. */
export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const started = Date.now();
  const progress = createProgress(options.quiet);
  const results: BenchResults = { meta: await meta(), options, errors: {} };
  const schema: BenchSchema = await createBenchSchema();
  const onSignal = () => {
    progress.done('interrupted: dropping the bench schema');
    void schema.drop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  const phases: Record<Phase, () => Promise<void>> = {
    store: async () => {
      results.store = await runStorePhase(schema, options, progress.update);
    },
    'build-data': async () => {
      results.buildData = await runBuildDataPhase(schema, options, progress.update);
    },
    statements: async () => {
      const store = await runStatementsPhase(schema);
      const api = await runApiCallsPhase(schema, progress.update);
      results.statements = { store, api };
    },
    events: async () => {
      results.events = await runEventsPhase(schema, options, progress.update);
    },
    http: async () => {
      results.http = await runHttpPhase(schema, options, progress.update);
    },
    bundles: async () => {
      results.bundles = await runBundlesPhase(options, progress.update);
    },
    design: async () => {
      results.design = await runDesignPhase(options, progress.update);
    },
    'input-gate': async () => {
      results.inputGate = await runInputGatePhase(options, progress.update);
    },
  };
  try {
    for (const phase of options.phases) {
      const t0 = Date.now();
      progress.update(`${phase}: starting`);
      try {
        await phases[phase]();
        progress.done(`${phase}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        results.errors[phase] = message.split('\n').slice(0, 6).join(' | ');
        progress.done(`${phase}: FAILED ${message}`);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    await schema.drop();
  }
  results.meta = { ...results.meta, durationMs: Date.now() - started };
  return results;
}

/** Writes the JSON (and the Markdown next to it) and returns the JSON path. */
export function writeResults(results: BenchResults, out: string | undefined): string {
  const file =
    out ??
    join(ROOT, 'test/bench/results', `bench-${results.meta.date.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(file.replace(/\.json$/, '.md'), `${renderMarkdown(results)}\n`);
  return file;
}

/** Replaces test/bench/RESULTS.md with this run, formatted by Biome as `npm run check` expects. */
export function writeResultsPage(results: BenchResults): string {
  const page = join(ROOT, 'test/bench/RESULTS.md');
  writeFileSync(page, `${renderResultsPage(results)}\n`);
  execFileSync(join(ROOT, 'node_modules/.bin/biome'), ['format', '--write', page], {
    cwd: ROOT,
    stdio: 'ignore',
  });
  return page;
}

if (import.meta.main) {
  const options = parseOptions(process.argv.slice(2));
  if (options === 'help') {
    process.stdout.write(USAGE);
  } else {
    const results = await runBench(options);
    const file = writeResults(results, options.out);
    process.stdout.write(`${renderMarkdown(results)}\n\nRaw figures: ${file}\n`);
    if (options.writeResults) process.stdout.write(`Results page: ${writeResultsPage(results)}\n`);
    if (Object.keys(results.errors).length > 0) process.exitCode = 1;
  }
}
