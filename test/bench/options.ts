import { parseArgs } from 'node:util';
import { LIMITS } from '#shared/limits.ts';

/** The phases of a run, in the order they execute. */
export const PHASES = [
  'store',
  'build-data',
  'statements',
  'events',
  'http',
  'bundles',
  'design',
  'input-gate',
] as const;
export type Phase = (typeof PHASES)[number];

export interface BenchOptions {
  /** Rounds per measured pair (raw and store alternate, order rotated per round). */
  readonly rounds: number;
  /** Concurrent producers / workers / readers in the store phases. */
  readonly workers: number;
  /** Tasks created per round and variant (one per call). */
  readonly creates: number;
  /** Tasks drained per round and variant, one per claim. */
  readonly claims: number;
  /** Tasks drained per round and variant with batched claims. */
  readonly batchedClaims: number;
  /** Tasks per batched claim (at most the claim's own bound, `LIMITS.claim`). */
  readonly claimBatch: number;
  /** Append statements per round and variant (single and batch-of-10 alike). */
  readonly appends: number;
  /** Reads of a task with its messages per round and variant. */
  readonly reads: number;
  /** Messages on the task read by the "get task" phase. */
  readonly messagesPerTask: number;
  /** build_data rows seeded for the latest-per-generator query. */
  readonly buildRows: number;
  /** Rows of the one node with a deep history (the same generators, many more collections). */
  readonly buildDeepRows: number;
  /** Latest-per-generator queries per round and variant (sequential, one connection). */
  readonly buildQueries: number;
  /** Seconds of load per HTTP target and round. */
  readonly httpSeconds: number;
  /**
   * Untimed seconds of load per HTTP target and server before the rounds: the local server,
   * with far more code on a request's path than the bare servers, reaches its steady rate only
   * after about ten seconds of load (V8 still compiling), the bare servers after five or so.
   */
  readonly httpWarmupSeconds: number;
  /** Concurrent keep-alive connections of the HTTP load generator. */
  readonly httpConnections: number;
  /** Cold imports per bundle (each in a fresh process). */
  readonly initRuns: number;
  /** Nodes of the generated site the design phase validates. */
  readonly designNodes: number;
  /** Keys of the largest accepted design whose parse time the design phase reports. */
  readonly designKeys: number;
  /** Whether the design phase times each worst case of the design tables. */
  readonly designWorstCases: boolean;
  /** Lambda entries to bundle (names from FUNCTION_ENTRIES), or all of them. */
  readonly functions: readonly string[] | 'all';
  /** Cases of the store phase to run (ids such as `claim-complete`), or all of them. */
  readonly storeCases: readonly string[] | 'all';
  readonly phases: readonly Phase[];
  /** Where the raw figures go (a timestamped file under test/bench/results by default). */
  readonly out: string | undefined;
  /** Whether the run's Markdown also replaces test/bench/RESULTS.md (the results kept in git). */
  readonly writeResults: boolean;
  readonly quiet: boolean;
}

export const DEFAULTS: BenchOptions = {
  rounds: 5,
  workers: 8,
  creates: 3_000,
  claims: 2_000,
  batchedClaims: 6_000,
  // The most one claim takes (`LIMITS.claim`), for the raw floor, pg-boss and the store alike;
  // graphile-worker's batched mode fetches 500 into its local queue.
  claimBatch: LIMITS.claim,
  appends: 2_000,
  reads: 1_000,
  messagesPerTask: 100,
  buildRows: 1_000_000,
  buildDeepRows: 100_000,
  buildQueries: 2_000,
  httpSeconds: 3,
  httpWarmupSeconds: 12,
  httpConnections: 8,
  initRuns: 5,
  designNodes: 500,
  designKeys: 370_000,
  designWorstCases: true,
  functions: 'all',
  storeCases: 'all',
  phases: PHASES,
  out: undefined,
  writeResults: false,
  quiet: false,
};

/** Sizes small enough for `npm test`: every phase runs, in a few seconds, proving nothing about speed. */
export const SMOKE: BenchOptions = {
  ...DEFAULTS,
  rounds: 1,
  workers: 2,
  creates: 20,
  claims: 20,
  batchedClaims: 40,
  claimBatch: 5,
  appends: 20,
  reads: 10,
  messagesPerTask: 5,
  buildRows: 2_000,
  buildDeepRows: 1_000,
  buildQueries: 10,
  httpSeconds: 0.3,
  httpWarmupSeconds: 0.3,
  httpConnections: 2,
  initRuns: 1,
  designNodes: 20,
  designKeys: 2_000,
  designWorstCases: false,
  // One esbuild run per function is most of a smoke run's time: one function proves the path.
  functions: ['health'],
  quiet: true,
};

const FLAGS = {
  rounds: 'BENCH_ROUNDS',
  workers: 'BENCH_WORKERS',
  creates: 'BENCH_CREATES',
  claims: 'BENCH_CLAIMS',
  'batched-claims': 'BENCH_BATCHED_CLAIMS',
  'claim-batch': 'BENCH_CLAIM_BATCH',
  appends: 'BENCH_APPENDS',
  reads: 'BENCH_READS',
  'messages-per-task': 'BENCH_MESSAGES_PER_TASK',
  'build-rows': 'BENCH_BUILD_ROWS',
  'build-deep-rows': 'BENCH_BUILD_DEEP_ROWS',
  'build-queries': 'BENCH_BUILD_QUERIES',
  'http-seconds': 'BENCH_HTTP_SECONDS',
  'http-warmup-seconds': 'BENCH_HTTP_WARMUP_SECONDS',
  'http-connections': 'BENCH_HTTP_CONNECTIONS',
  'init-runs': 'BENCH_INIT_RUNS',
  'design-nodes': 'BENCH_DESIGN_NODES',
  'design-keys': 'BENCH_DESIGN_KEYS',
} as const satisfies Record<string, string>;

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export const USAGE = `npm run bench -- [options]   (every option also reads BENCH_<NAME> from the environment)

  --smoke                 tiny sizes (what npm test runs); other flags still apply on top
  --phases a,b            subset of: ${PHASES.join(', ')}
  --rounds N              rounds per measurement (default ${DEFAULTS.rounds})
  --workers N             concurrent workers in the store phases (default ${DEFAULTS.workers})
  --creates N             tasks created per round and variant (default ${DEFAULTS.creates})
  --claims N              tasks drained one per claim (default ${DEFAULTS.claims})
  --batched-claims N      tasks drained with batched claims (default ${DEFAULTS.batchedClaims})
  --claim-batch N         tasks per batched claim (default ${DEFAULTS.claimBatch})
  --appends N             append statements per round and variant (default ${DEFAULTS.appends})
  --reads N               reads of a task with its messages (default ${DEFAULTS.reads})
  --messages-per-task N   messages on that task (default ${DEFAULTS.messagesPerTask})
  --build-rows N          build_data rows seeded (default ${DEFAULTS.buildRows})
  --build-deep-rows N     rows of the one node with a deep history (default ${DEFAULTS.buildDeepRows})
  --build-queries N       latest-per-generator queries (default ${DEFAULTS.buildQueries})
  --http-seconds S        load per HTTP target and round (default ${DEFAULTS.httpSeconds})
  --http-warmup-seconds S untimed load per HTTP target and server first (default ${DEFAULTS.httpWarmupSeconds})
  --http-connections N    keep-alive connections of the load generator (default ${DEFAULTS.httpConnections})
  --init-runs N           cold imports per bundle (default ${DEFAULTS.initRuns})
  --design-nodes N        nodes of the generated site the design phase validates (default ${DEFAULTS.designNodes})
  --design-keys N         keys of the largest design whose parse is timed (default ${DEFAULTS.designKeys})
  --functions a,b         Lambda entries to bundle, by FUNCTION_ENTRIES name or keystoneAuthorizer (default all)
  --store-cases a,b       store cases to run: create, claim-complete, claim-batched, append-1, append-10, get-task (default all)
  --out FILE              JSON output (default test/bench/results/bench-<timestamp>.json)
  --write-results         also write the Markdown to test/bench/RESULTS.md (the results kept in git)
  --quiet                 no progress lines
`;

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

/** Options from flags, then `BENCH_*` environment variables, then the defaults (or smoke sizes). */
export function parseOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }])),
      smoke: { type: 'boolean' },
      phases: { type: 'string' },
      functions: { type: 'string' },
      'store-cases': { type: 'string' },
      out: { type: 'string' },
      'write-results': { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const base = values.smoke || env.BENCH_SMOKE === '1' ? SMOKE : DEFAULTS;
  const sized: Record<string, number> = {};
  for (const [flag, envName] of Object.entries(FLAGS)) {
    const text = (values as Record<string, unknown>)[flag] ?? env[envName];
    if (typeof text === 'string') {
      const value = positive(flag, text);
      sized[camel(flag)] = flag.endsWith('-seconds') ? value : Math.round(value);
    }
  }
  const phasesText = values.phases ?? env.BENCH_PHASES;
  let phases: readonly Phase[] = base.phases;
  if (typeof phasesText === 'string' && phasesText !== '') {
    const asked = phasesText.split(',').map((p) => p.trim());
    for (const p of asked) {
      if (!(PHASES as readonly string[]).includes(p)) {
        throw new Error(`unknown phase ${p}; phases: ${PHASES.join(', ')}`);
      }
    }
    phases = PHASES.filter((p) => asked.includes(p));
  }
  const functionsText = values.functions ?? env.BENCH_FUNCTIONS;
  const functions =
    typeof functionsText === 'string' && functionsText !== '' && functionsText !== 'all'
      ? functionsText.split(',').map((f) => f.trim())
      : typeof functionsText === 'string'
        ? 'all'
        : base.functions;
  const casesText = values['store-cases'] ?? env.BENCH_STORE_CASES;
  const storeCases =
    typeof casesText === 'string' && casesText !== '' && casesText !== 'all'
      ? casesText.split(',').map((c) => c.trim())
      : base.storeCases;
  return {
    ...base,
    ...sized,
    functions,
    storeCases,
    phases,
    out: values.out ?? env.BENCH_OUT ?? undefined,
    writeResults: values['write-results'] === true || env.BENCH_WRITE_RESULTS === '1',
    quiet: values.quiet === true || base.quiet,
  };
}
