import type { ApiOperationCount } from './api-calls-phase.ts';
import type { BuildDataPhaseResult } from './build-data-phase.ts';
import {
  BUNDLE_TARGETS,
  type BundlePart,
  type BundleResult,
  type BundlesPhaseResult,
} from './bundles-phase.ts';
import type { DesignPhaseResult } from './design-phase.ts';
import { type EventsPhaseResult, eventsSection } from './events-phase.ts';
import {
  type HttpPhaseResult,
  STARTUP_TARGETS,
  type StartupSummary,
  type StartupsResult,
} from './http-phase.ts';
import { type InputGatePhaseResult, inputGateSection } from './input-gate-phase.ts';
import type { CaseResult } from './measure.ts';
import type { BenchOptions } from './options.ts';
import type { OperationCount } from './statements-phase.ts';
import type { Summary } from './stats.ts';

export interface BenchMeta {
  readonly date: string;
  readonly machine: {
    readonly cpu: string;
    readonly cores: number;
    readonly memoryGiB: number;
    readonly os: string;
  };
  readonly node: string;
  readonly postgres: Record<string, string>;
  readonly packages: Record<string, string>;
  readonly durationMs?: number;
}

/** Everything one run measured; written as JSON, rendered as Markdown. */
export interface BenchResults {
  meta: BenchMeta;
  options: BenchOptions;
  store?: { cases: CaseResult[] };
  buildData?: BuildDataPhaseResult;
  statements?: { store: OperationCount[]; api: ApiOperationCount[] };
  http?: HttpPhaseResult;
  bundles?: BundlesPhaseResult;
  design?: DesignPhaseResult;
  inputGate?: InputGatePhaseResult;
  events?: EventsPhaseResult;
  /** Phases that could not run, with why. */
  errors: Record<string, string>;
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const fixed = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const spread = (s: Summary, f: (n: number) => string) =>
  s.samples.length > 1 ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : f(s.median);
const ratio = (s: Summary) => `${spread(s, (n) => fixed(n))}×`;
const kib = (n: number) => `${fixed(n / 1024, 1)} MiB`;
const bytes = (n: number) =>
  n >= 1024 * 1024 ? `${fixed(n / 1024 / 1024, 2)} MB` : `${fixed(n / 1024, 1)} kB`;
const mark = (met: boolean | null) => (met === null ? '' : met ? '✔ met' : '✘ missed');

function storeTable(cases: readonly CaseResult[]): string[] {
  const lines = [
    '| operation | floor: raw node-postgres, /s | store (pg adapter), /s | store ÷ floor | target | |',
    '|---|---|---|---|---|---|',
  ];
  for (const c of cases) {
    const floor = c.variants[c.floor];
    if (!floor) continue;
    const others = Object.entries(c.variants).filter(([id]) => id !== c.floor);
    const store = c.variants.store;
    const items =
      c.itemsPerOp > 1
        ? ` (×${c.itemsPerOp} = ${int(floor.opsPerSec.median * c.itemsPerOp)} items/s)`
        : '';
    const storeItems =
      c.itemsPerOp > 1 && store ? ` (${int(store.opsPerSec.median * c.itemsPerOp)} items/s)` : '';
    lines.push(
      `| ${c.label} | ${spread(floor.opsPerSec, int)} ${c.unit}${items} | ${
        store ? `${spread(store.opsPerSec, int)}${storeItems}` : ''
      } | ${c.ratios.store ? ratio(c.ratios.store) : ''} | ${c.target?.text ?? ''} | ${mark(c.targetMet)} |`,
    );
    for (const [id, v] of others) {
      if (id === 'store') continue;
      const r = c.ratios[id];
      lines.push(`| ↳ ${v.label} | | ${spread(v.opsPerSec, int)} | ${r ? ratio(r) : ''} | | |`);
    }
    for (const v of c.versus ?? []) {
      lines.push(
        `| ↳ ${v.variant} ÷ ${v.over} | | | ${ratio(v.ratio)} | ≥ ${fixed(v.atLeast)}× | ${mark(v.met)} |`,
      );
    }
  }
  return lines;
}

/** CPU per operation: the box is CPU-bound, so these explain the ratios better than noisy rates. */
function cpuTable(cases: readonly CaseResult[]): string[] {
  const lines = [
    '| operation | variant | client CPU µs/op | server CPU µs/op (its own backends) |',
    '|---|---|---|---|',
  ];
  for (const c of cases) {
    for (const [id, v] of Object.entries(c.variants)) {
      lines.push(
        `| ${id === c.floor ? c.label : ''} | ${id} | ${spread(v.clientCpuUs, int)} | ${spread(v.serverCpuUs, int)} |`,
      );
    }
  }
  return lines;
}

function buildDataSection(b: BuildDataPhaseResult): string[] {
  const cases = b.shapes.map((s) => s.latest);
  const out = [...storeTable(cases), '', ...cpuTable(cases), ''];
  for (const shape of b.shapes) {
    const c = shape.latest;
    const ms = (id: string) => {
      const v = c.variants[id];
      return v ? `${fixed(1000 / v.opsPerSec.median, 3)} ms` : 'n/a';
    };
    // The fastest correct query at this depth, and the store's time over its time.
    const fastest = ['distinct-on', 'skip-scan'].reduce((a, b) =>
      (c.variants[b]?.opsPerSec.median ?? 0) > (c.variants[a]?.opsPerSec.median ?? 0) ? b : a,
    );
    const versus = c.versus.find((v) => v.over === fastest);
    const time = versus
      ? {
          ...versus.ratio,
          median: 1 / versus.ratio.median,
          min: 1 / versus.ratio.max,
          max: 1 / versus.ratio.min,
        }
      : undefined;
    const plan = shape.plan;
    out.push(
      `**${shape.shape}** (a node of ${int(shape.rowsPerNode)} rows): latency per query (1 / median rate): ` +
        `store ${ms('store')}, its statement bare ${ms('bare')}, DISTINCT ON ${ms('distinct-on')}, loose index scan ${ms('skip-scan')}, ` +
        `the kept newest items read bare ${ms('kept')}. ` +
        `Store time ÷ the fastest correct query's over the history (${fastest}): ${time ? ratio(time) : 'n/a'} ` +
        `(target ≤ 1.2×: ${versus ? mark(versus.met) : 'n/a'}).`,
      '',
      `Plan of the store's statement: ${plan.indexOnly ? '✔ index-only' : '✘ not index-only'} ` +
        `(${plan.scans.join('; ') || 'no scan of build_data or build_data_latest found'}), heap fetches ${plan.heapFetches}, ` +
        `buffers hit ${plan.sharedHitBlocks} read ${plan.sharedReadBlocks}, execution ${fixed(plan.executionMs, 3)} ms.`,
      '',
      `<details><summary>EXPLAIN (ANALYZE, BUFFERS), ${shape.shape}</summary>`,
      '',
      '```',
      plan.text,
      '```',
      '',
      '</details>',
      '',
    );
  }
  out.push(
    `Seeded ${int(b.rows)} rows (${int(b.nodes)} nodes × ${b.generators} generators) and one node of ${int(b.deepRows)} ` +
      `in ${fixed(b.seedMs / 1000, 1)} s, VACUUM ANALYZE ${fixed(b.vacuumMs / 1000, 1)} s.`,
  );
  return out;
}

function statementsSection(s: NonNullable<BenchResults['statements']>): string[] {
  const storeOnes = s.store.filter((o) => o.pgStatements === 1 && o.dataApiCalls === 1);
  const storeOthers = s.store.filter((o) => !(o.pgStatements === 1 && o.dataApiCalls === 1));
  const lines = [
    `Store operations: ${storeOnes.length} of ${s.store.length} take exactly 1 statement (counting wrapper on the pg adapter) ` +
      'and 1 Data API call (emulator counter).',
  ];
  for (const o of storeOthers) {
    lines.push(
      `- ✘ ${o.operation}: ${o.pgStatements} statements, ${o.dataApiCalls ?? 'n/a'} Data API calls`,
    );
  }
  const apiOnes = s.api.filter((o) => o.dataApiCalls === 1).length;
  const inlineOnes = s.api.filter((o) => o.inline.dataApiCalls === 1).length;
  const mark = (n: number) => `${n}${n === 1 ? '' : ' ✘'}`;
  lines.push(
    '',
    'HTTP API operations through the local server on the data-api driver, counted at the emulator: ' +
      `${apiOnes} of ${s.api.length} cost exactly 1 Data API call of their own (events left to the schedule, ` +
      '`EVENTS_PUBLISH=schedule`); ' +
      `${inlineOnes} of ${s.api.length} still cost exactly 1 with their events published inline before the answer, ` +
      'as a Lambda does (`EVENTS_SINK=eventbridge`, PutEvents to a stand-in).',
    '',
    '| API operation | status | Data API calls, its own | with events published inline: Data API calls | PutEvents |',
    '|---|---|---|---|---|',
    ...s.api.map(
      (o) =>
        `| ${o.operation} | ${o.status} | ${mark(o.dataApiCalls)} | ${mark(o.inline.dataApiCalls)} | ${o.inline.putEvents} |`,
    ),
  );
  return lines;
}

function startupSection(s: StartupsResult): string[] {
  const t = STARTUP_TARGETS;
  const row = (label: string, r: StartupSummary, maxMs: number | null, idleTarget: boolean) =>
    `| ${label} | ${spread(r.firstAnswerMs, int)} | ${spread(r.cpuMs, int)} | ${spread(r.idleKiB, kib)} | ${
      maxMs === null
        ? ''
        : `first answer ≤ ${int(maxMs)} ms: ${mark(r.firstAnswerMs.median <= maxMs)}${
            idleTarget
              ? `; idle ≤ ${kib(t.maxIdleKiB)}: ${mark(r.idleKiB.median <= t.maxIdleKiB)}`
              : ''
          }`
    } |`;
  const rounds = s.pgliteRestart.firstAnswerMs.samples.length;
  return [
    `\`npm start\` (package.json's command, lease schedule on) from spawn to its first answer (\`GET /api/v1.0/tasks\`), then resident memory 2 s later; each start ${rounds === 1 ? 'once' : `once a round, ${rounds} rounds (a fresh folder each round, then restarted on it): medians, min–max in brackets`}:`,
    '',
    '| start | first answer, ms | server CPU by then, ms | idle resident | targets |',
    '|---|---|---|---|---|',
    row('PGlite, fresh folder (seeded from the template)', s.pgliteFresh, t.maxFreshMs, true),
    row('PGlite, restart on that folder', s.pgliteRestart, t.maxRestartMs, true),
    row('pg driver (this Postgres)', s.pg, null, false),
    '',
    s.templateBuildMs === null
      ? 'The PGlite template already existed (`npm ci` builds it).'
      : `The PGlite template was missing and was built first in ${int(s.templateBuildMs)} ms (npm ci does this once per PGlite version and schema).`,
    '',
  ];
}

function httpSection(h: HttpPhaseResult): string[] {
  const pct = (l: HttpPhaseResult['cases'][number]['service']) =>
    `${fixed(l.p50Ms.median)} / ${fixed(l.p95Ms.median)} / ${fixed(l.p99Ms.median)}`;
  return [
    ...(h.startups ? startupSection(h.startups) : []),
    `${h.connections} keep-alive connections, closed loop, ${h.secondsPerRound} s per round after ${h.warmupSeconds} s of untimed load on each server and request; server database: ${h.serverDriver}.`,
    '',
    '| request | bare node:http, req/s | node:http + store call, req/s | local server, req/s | server ÷ bare | server ÷ (node:http + store) | same, by CPU per request | target ≥ 0.9× | p50 / p95 / p99 ms: server | node:http + store | bare | failures |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...h.cases.map(
      (c) =>
        `| ${c.label}, ${bytes(c.responseBytes)} answer | ${spread(c.bare.requestsPerSec, int)} | ${spread(
          c.bareStore.requestsPerSec,
          int,
        )} | ${spread(c.service.requestsPerSec, int)} | ${ratio(c.ratio)} | ${ratio(c.ratioToBareStore)} | ${c.cpuRatioToBareStore ? ratio(c.cpuRatioToBareStore) : 'n/a'} | ${mark(c.ratioToBareStore.median >= 0.9)} | ${pct(
          c.service,
        )} | ${pct(c.bareStore)} | ${pct(c.bare)} | ${c.service.failures + c.bare.failures + c.bareStore.failures} |`,
    ),
    '',
    "Server-process CPU per request, µs (median; the database's own CPU not included): " +
      h.cases
        .map(
          (c) =>
            `${c.id}: local server ${int(c.service.serverCpuUs.median)}, node:http + store ${int(
              c.bareStore.serverCpuUs.median,
            )}, bare ${int(c.bare.serverCpuUs.median)}`,
        )
        .join('; ') +
      '.',
    '',
    "Bare node:http replays the service's own answer bytes (no database); node:http + store makes the same store call " +
      'over the pg adapter (pool of 2) and JSON.stringify; so server ÷ bare is the whole cost of our stack including ' +
      'Postgres on the same cores, and server ÷ (node:http + store) is the share of our HTTP layer (API Gateway event, ' +
      'the handler kit, zod, logger, Drydock shapes).',
    '',
    `Memory (resident): local server ${kib(h.memory.service.idleKiB)} idle, peak ${kib(h.memory.service.peakKiB)} under load ` +
      `(VmHWM; highest 50 ms sample ${kib(h.memory.service.maxSampledKiB)}); bare server peak ${kib(h.memory.bare.peakKiB)}, ` +
      `node:http + store peak ${kib(h.memory.bareStore.peakKiB)}.`,
  ];
}

function bundlesSection(b: BundlesPhaseResult): string[] {
  const base = b.baseline;
  const over = (r: BundleResult) => r.initMs.median - base.initMs.median;
  // Results written before CPU was recorded have none.
  const cpu = (r: BundleResult) => r.initCpuMs?.median ?? Number.NaN;
  const overCpu = (r: BundleResult) => cpu(r) - cpu(base);
  // Each target on its own: a bundle small enough but slow to start says where the time goes.
  const sizeMet = (r: BundleResult) => r.bytes <= BUNDLE_TARGETS.maxInitBytes;
  const initMet = (r: BundleResult) =>
    (Number.isFinite(overCpu(r)) ? overCpu(r) : over(r)) <= BUNDLE_TARGETS.maxInitOverMinimalMs;
  const row = (r: BundleResult) =>
    `| ${r.name} (\`${r.entry}\`) | ${bytes(r.bytes)} | ${bytes(r.gzipBytes)} | ${bytes(r.entryBytes)} | ${bytes(
      r.assetBytes,
    )} (${r.initFiles} of ${r.files} files at init) | ${bytes(r.sourceMapBytes)} | ${spread(
      r.initMs,
      (n) => fixed(n, 0),
    )} | ${spread(r.initEagerSourceMapsMs, (n) => fixed(n, 0))} | ${fixed(cpu(r), 0)} | ${
      r === base ? '' : `+${fixed(over(r), 0)} ms (CPU +${fixed(overCpu(r), 0)} ms)`
    } | ${r === base ? '' : mark(sizeMet(r))} | ${r === base ? '' : mark(initMet(r))} |`;
  const parts = (list: readonly BundlePart[]) =>
    list.map((p) => `${p.name} ${bytes(p.bytes)}`).join(', ');
  const largest = [...b.functions].sort((x, y) => y.bytes - x.bytes)[0];
  const lines = [
    `Built by ${b.builtBy}: ESM split at dynamic imports, minified, linked source maps without sources (read when a stack trace is formatted, not at start), the AWS SDK clients (S3, Secrets Manager, EventBridge) bundled in chunks loaded on first use, ` +
      'target node24. Init code = `index.mjs` and the chunks it imports statically (what a cold start evaluates); ' +
      'the asset adds chunks only some paths load. Init = import of the bundle in a fresh Node process (median of ' +
      'repeated cold imports).',
    '',
    `Targets: init code ≤ ${bytes(BUNDLE_TARGETS.maxInitBytes)} and init ≤ ${BUNDLE_TARGETS.maxInitOverMinimalMs} ms over the minimal handler ` +
      "(judged on the import's CPU, which other work on the machine disturbs far less than wall time).",
    '',
    `| function | init code | gzip | index.mjs | whole asset | source maps | init ms, as deployed | init ms, with --enable-source-maps | init CPU ms, as deployed | init over minimal | init code ≤ ${bytes(BUNDLE_TARGETS.maxInitBytes)} | init ≤ +${BUNDLE_TARGETS.maxInitOverMinimalMs} ms (CPU) |`,
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    row(base),
    ...b.functions.map(row),
  ];
  if (largest) {
    lines.push(
      '',
      `What makes up the largest, ${largest.name} (esbuild metafile, bytes of minified output): at init ${parts(
        largest.composition,
      )}; loaded later if at all: ${parts(largest.lazyComposition)}.`,
    );
  }
  return lines;
}

function designSection(d: DesignPhaseResult): string[] {
  const ms = (s: Summary) => spread(s, (n) => fixed(n, 1));
  const lines = [
    `A generated site of ${int(d.nodes)} nodes (${int(d.documents)} documents, ${bytes(d.bytes)}) validated in the calling thread, per stage; ` +
      `parsing alone (\`parseYamlDocuments\`) takes ${ms(d.parseAlone)} ms.`,
    '',
    '| stage | ms | ÷ parsing alone |',
    '|---|---|---|',
    `| fetch (file://, UTF-8) | ${ms(d.stages.fetch)} | |`,
    `| parse (YAML and document schemas) | ${ms(d.stages.parse)} | ${ratio(d.ratios.parse)} |`,
    `| compile (inheritance, aliases, boot-action targets, route domains) | ${ms(d.stages.compile)} | ${ratio(d.ratios.compile)} |`,
    `| rules (18) | ${ms(d.stages.rules)} | ${ratio(d.ratios.rules)} |`,
    `| **total** | **${ms(d.stages.total)}** | ${ratio(d.ratios.total)} |`,
    '',
    `Target: a ${int(d.nodes)}-node site within ${int(d.targetMs)} ms: ${mark(d.met)}. ` +
      `Largest accepted design (${int(d.largest.keys)} keys, ${bytes(d.largest.bytes)}): parsed in ${ms(d.largest.parseMs)} ms.`,
  ];
  if (d.worstCases.length > 0) {
    lines.push('', '| worst case | size | ms | answer |', '|---|---|---|---|');
    for (const c of d.worstCases) {
      lines.push(`| ${c.name} | ${bytes(c.bytes)} | ${fixed(c.ms, 0)} | ${c.outcome} |`);
    }
  }
  return lines;
}

/** The whole run as Markdown: machine and versions first, then one section per phase. */
export function renderMarkdown(r: BenchResults): string {
  const m = r.meta;
  const o = r.options;
  const out: string[] = [
    `### Benchmark run ${m.date}`,
    '',
    `Machine: ${m.machine.cpu}, ${m.machine.cores} cores, ${fixed(m.machine.memoryGiB, 0)} GiB, ${m.machine.os}. ` +
      `Node ${m.node}; PostgreSQL ${m.postgres.version ?? '?'} at ${m.postgres.host ?? '?'} (shared_buffers ${
        m.postgres.shared_buffers ?? '?'
      }, synchronous_commit ${m.postgres.synchronous_commit ?? '?'}, fsync ${m.postgres.fsync ?? '?'}); ` +
      Object.entries(m.packages)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') +
      '.',
    `Rounds ${o.rounds} (medians, min–max in brackets; ratios are per round, then the median), ${o.workers} workers, ` +
      `client and server on the same machine${m.durationMs ? `; the run took ${fixed(m.durationMs / 60_000, 1)} min` : ''}.`,
    '',
  ];
  if (r.store) {
    out.push('#### Store against the raw floor', '', ...storeTable(r.store.cases), '');
    out.push(
      'CPU per operation (per round, then the median; client = this process, server = the Postgres backends of the ' +
        "variant's own connections, from /proc):",
      '',
      ...cpuTable(r.store.cases),
      '',
    );
  }
  for (const c of r.store?.cases ?? []) if (c.note) out.push(`Note (${c.id}): ${c.note}.`, '');
  if (r.buildData)
    out.push('#### Latest build data per generator', '', ...buildDataSection(r.buildData), '');
  if (r.events) out.push('#### Events: waits and the outbox', '', ...eventsSection(r.events), '');
  if (r.statements)
    out.push('#### Round trips per operation', '', ...statementsSection(r.statements), '');
  if (r.http)
    out.push('#### Local HTTP server against a bare Node server', '', ...httpSection(r.http), '');
  if (r.bundles) out.push('#### Lambda bundles', '', ...bundlesSection(r.bundles), '');
  if (r.design) out.push('#### Design validation', '', ...designSection(r.design), '');
  if (r.inputGate) out.push('#### Input gate', '', ...inputGateSection(r.inputGate), '');
  const errors = Object.entries(r.errors);
  if (errors.length > 0) {
    out.push(
      '#### Phases that failed',
      '',
      ...errors.map(([phase, why]) => `- ${phase}: ${why}`),
      '',
    );
  }
  return out.join('\n');
}

/**
 * test/bench/RESULTS.md (`--write-results`): the latest run kept in the repository, its headings
 * one level up so the run is the page's first section.
 */
export function renderResultsPage(r: BenchResults): string {
  return [
    '# Latest benchmark results',
    '',
    'Written by `npm run bench -- --write-results` (see [`README.md`](../README.md#benchmarks) for how to',
    "read it); the run's raw figures go to `test/bench/results/` (git-ignored).",
    '',
    renderMarkdown(r).replace(/^#(#+) /gm, '$1 '),
  ].join('\n');
}
