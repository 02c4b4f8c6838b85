// The benchmark at smoke sizes, so its code cannot rot: every phase must run and produce numbers.
// Speed is never asserted (the box is shared and noisy); structure and the one-round-trip
// contract of the store are.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_SERVER } from '#test/support/pg-server.ts';
import { DEFAULTS, PHASES, parseOptions, SMOKE } from './options.ts';
import { type BenchResults, renderMarkdown, renderResultsPage } from './report.ts';
import { runBench, writeResults } from './run.ts';
import type { Summary } from './stats.ts';

const positive = (s: Summary) => {
  expect(s.samples.length).toBeGreaterThan(0);
  expect(Number.isFinite(s.median)).toBe(true);
  expect(s.median).toBeGreaterThan(0);
};

describe('bench options', () => {
  it('reads flags over BENCH_* variables over the defaults', () => {
    const options = parseOptions(['--rounds', '2', '--phases', 'http,store'], {
      BENCH_ROUNDS: '9',
      BENCH_APPENDS: '50',
    });
    expect(options).toMatchObject({ rounds: 2, appends: 50, creates: DEFAULTS.creates });
    expect(options !== 'help' && options.phases).toEqual(['store', 'http']);
    expect(parseOptions(['--smoke'], {})).toMatchObject({ rounds: SMOKE.rounds, quiet: true });
    expect(() => parseOptions(['--phases', 'nope'], {})).toThrow(/unknown phase/);
    expect(() => parseOptions(['--rounds', '0'], {})).toThrow(/positive/);
    expect(parseOptions([], {})).toMatchObject({ writeResults: false });
    expect(parseOptions(['--write-results'], {})).toMatchObject({ writeResults: true });
  });

  it('keeps fractions of seconds and rounds counts', () => {
    expect(
      parseOptions(
        ['--http-warmup-seconds', '0.5', '--http-seconds', '1.5', '--rounds', '2.6'],
        {},
      ),
    ).toMatchObject({ httpWarmupSeconds: 0.5, httpSeconds: 1.5, rounds: 3 });
    expect(parseOptions([], { BENCH_HTTP_WARMUP_SECONDS: '2.5' })).toMatchObject({
      httpWarmupSeconds: 2.5,
    });
    expect(() => parseOptions(['--http-warmup-seconds', '0'], {})).toThrow(/positive/);
  });
});

describe.skipIf(SKIP_SERVER)('bench smoke run', () => {
  let results: BenchResults;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'drydock-bench-test-'));
    results = await runBench(SMOKE);
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ran every phase without an error', () => {
    expect(results.errors).toEqual({});
    expect(results.options.phases).toEqual(PHASES);
    expect(results.meta.machine.cores).toBeGreaterThan(0);
    expect(results.meta.postgres.version).toMatch(/^\d+/);
  });

  it('measured every store case, raw and store, with a ratio per variant', () => {
    const ids = results.store?.cases.map((c) => c.id);
    expect(ids).toEqual([
      'create',
      'claim-complete',
      'claim-batched',
      'append-1',
      'append-10',
      'get-task',
    ]);
    for (const c of results.store?.cases ?? []) {
      expect(Object.keys(c.variants)).toContain('store');
      for (const v of Object.values(c.variants)) {
        positive(v.opsPerSec);
        positive(v.clientCpuUs);
        // The server's CPU is read from /proc: present whenever Postgres runs on this machine.
        expect(Number.isFinite(v.serverCpuUs.median)).toBe(true);
      }
      for (const r of Object.values(c.ratios)) positive(r);
      if (c.target) expect(typeof c.targetMet).toBe('boolean');
    }
  });

  it('queried the latest build data and explained the plan', () => {
    const b = results.buildData;
    expect(b?.rows).toBe(SMOKE.buildRows);
    expect(b?.shapes.map((s) => s.shape)).toEqual(['shallow', 'deep']);
    for (const shape of b?.shapes ?? []) {
      for (const v of Object.values(shape.latest.variants)) positive(v.opsPerSec);
      expect(shape.latest.versus.map((v) => v.over)).toEqual(['distinct-on', 'skip-scan', 'kept']);
      expect(shape.plan.scans.length).toBeGreaterThan(0);
      expect(shape.plan.text).toMatch(/Execution Time/);
    }
  });

  it('counted one statement and one Data API call per store operation', () => {
    const store = results.statements?.store ?? [];
    expect(store.length).toBeGreaterThan(20);
    for (const op of store) {
      expect({ op: op.operation, pg: op.pgStatements, dataApi: op.dataApiCalls }).toEqual({
        op: op.operation,
        pg: 1,
        dataApi: 1,
      });
    }
    // Through the HTTP stack the count is reported (an operation may compose several store
    // calls); it must at least have reached the emulator.
    const api = results.statements?.api ?? [];
    expect(api.length).toBeGreaterThan(20);
    for (const op of api) expect(op.dataApiCalls).toBeGreaterThanOrEqual(1);
  });

  it('measured what a wait costs per waiting second and what the outbox adds to a write', () => {
    const e = results.events;
    expect(e?.wait.reads).toBe(16);
    expect(e?.wait.dataApiCallsPerRead).toBe(1);
    positive(e?.wait.readMsPg as Summary);
    positive(e?.wait.readMsDataApi as Summary);
    expect(e?.outbox.map((c) => c.id)).toEqual(['create', 'update']);
    for (const c of e?.outbox ?? []) positive(c.ratio);
  });

  it('loaded the local server and the bare server, and sampled the server memory', () => {
    const h = results.http;
    expect(h?.cases.map((c) => c.id)).toEqual(['get-task', 'post-message']);
    for (const c of h?.cases ?? []) {
      positive(c.service.requestsPerSec);
      positive(c.bare.requestsPerSec);
      positive(c.bareStore.requestsPerSec);
      positive(c.ratio);
      positive(c.ratioToBareStore);
      positive(c.service.serverCpuUs);
      expect(c.service.failures + c.bare.failures + c.bareStore.failures).toBe(0);
      expect(c.responseBytes).toBeGreaterThan(0);
    }
    expect(h?.memory.service.peakKiB).toBeGreaterThan(0);
    // The report says how warm the servers were when the rounds began.
    expect(h?.warmupSeconds).toBe(SMOKE.httpWarmupSeconds);
    expect(renderMarkdown(results)).toContain(
      `after ${SMOKE.httpWarmupSeconds} s of untimed load on each server and request`,
    );
  });

  it('started npm start on a fresh PGlite folder, again on it, and on the pg driver, each round', () => {
    const s = results.http?.startups;
    for (const start of [s?.pgliteFresh, s?.pgliteRestart, s?.pg]) {
      expect(start?.firstAnswerMs.samples).toHaveLength(SMOKE.rounds);
      positive(start?.firstAnswerMs as Summary);
      positive(start?.cpuMs as Summary);
      positive(start?.idleKiB as Summary);
    }
  });

  it('bundled functions with the construct and timed cold imports against the minimal handler', () => {
    const b = results.bundles;
    expect(b?.baseline.name).toBe('minimal');
    expect(b?.functions.map((f) => f.name)).toEqual(SMOKE.functions);
    for (const f of [b?.baseline, ...(b?.functions ?? [])]) {
      expect(f?.bytes).toBeGreaterThan(0);
      expect(f?.sourceMapBytes).toBeGreaterThan(0);
      if (f) positive(f.initMs);
    }
    expect(b?.functions[0]?.bytes).toBeGreaterThan(b?.baseline.bytes ?? 0);
  });

  it('timed the input gate against JSON.parse for every body', () => {
    const g = results.inputGate;
    expect(g?.bodies.map((b) => b.bytes).every((n) => n > 0)).toBe(true);
    for (const b of g?.bodies ?? []) {
      positive(b.parseUs);
      positive(b.gateUs);
      positive(b.ratio);
    }
    expect(g?.bodies).toHaveLength(4);
  });

  it('validated a generated site stage by stage against parsing alone', () => {
    const d = results.design;
    expect(d?.nodes).toBe(SMOKE.designNodes);
    expect(d?.documents).toBeGreaterThan(SMOKE.designNodes);
    for (const s of [
      d?.parseAlone,
      d?.stages.fetch,
      d?.stages.parse,
      d?.stages.total,
      d?.largest.parseMs,
    ]) {
      if (s) positive(s);
    }
    if (d) positive(d.ratios.total);
    expect(d?.largest.keys).toBe(SMOKE.designKeys);
    expect(d?.worstCases).toEqual([]);
  });

  it('writes the raw figures as JSON and the table as Markdown', () => {
    const file = writeResults(results, join(dir, 'bench.json'));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ options: { rounds: 1 } });
    const markdown = readFileSync(file.replace(/\.json$/, '.md'), 'utf8');
    expect(markdown).toBe(`${renderMarkdown(results)}\n`);
    for (const heading of [
      'Store against the raw floor',
      'Latest build data',
      'Round trips',
      'Local HTTP server',
      'Lambda bundles',
      'Design validation',
    ]) {
      expect(markdown).toContain(heading);
    }
    // RESULTS.md: the same run, its headings one level up under the page's title.
    const page = renderResultsPage(results);
    expect(page.startsWith('# Latest benchmark results\n')).toBe(true);
    expect(page).toContain(`\n## Benchmark run ${results.meta.date}\n`);
    expect(page).toContain('\n### Store against the raw floor\n');
  });
});
