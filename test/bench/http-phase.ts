import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { appendMessages } from '#shared/store/messages.ts';
import { createTask } from '#shared/store/tasks.ts';
import { npmStartArgv } from '#test/support/npm-start.ts';
import type { BenchSchema } from './bench-db.ts';
import {
  type ChildServer,
  memoryOf,
  processCpuUs,
  sampleMemory,
  startChildServer,
} from './child-server.ts';
import { type LoadRequest, type LoadResult, runLoad } from './load.ts';
import type { BenchOptions } from './options.ts';
import { type Summary, summarize, summarizeEach } from './stats.ts';

/** Messages on the task the GET fetches: a typical small task. */
export const HTTP_TASK_MESSAGES = 10;
const PREFIX = '/api/v1.0';
const MESSAGE_BODY = JSON.stringify({
  message: 'Node n1 step finished',
  error: false,
  context_type: 'node',
  context: 'n1',
});

export interface LoadSummary {
  readonly requestsPerSec: Summary;
  readonly p50Ms: Summary;
  readonly p95Ms: Summary;
  readonly p99Ms: Summary;
  readonly requests: number;
  readonly failures: number;
  /** CPU µs per request of the server process alone (the database's own CPU not included). */
  readonly serverCpuUs: Summary;
}

export interface HttpCaseResult {
  readonly id: string;
  readonly label: string;
  readonly service: LoadSummary;
  readonly bare: LoadSummary;
  /** node:http + the same store call (pg adapter) + JSON.stringify: the database's share. */
  readonly bareStore: LoadSummary;
  /** Per-round requests/s of the service divided by the bare server's. */
  readonly ratio: Summary;
  /** Per-round requests/s of the service divided by bare + store's: our HTTP stack's share. */
  readonly ratioToBareStore: Summary;
  /**
   * Per round, node:http + store's server CPU per request divided by the service's: the same
   * share measured in CPU, which a machine busy with other work disturbs far less than req/s.
   */
  readonly cpuRatioToBareStore: Summary;
  readonly responseBytes: number;
}

export interface MemoryResult {
  readonly idleKiB: number;
  /** VmHWM at the end: the peak resident set since the process started. */
  readonly peakKiB: number;
  /** The highest VmRSS sampled (every 50 ms) while under load. */
  readonly maxSampledKiB: number;
}

/** One start of the local server, as `npm start` runs it, to its first answer. */
export interface StartupResult {
  /** Wall time from spawning the process to the first answer of `GET /api/v1.0/tasks`. */
  readonly firstAnswerMs: number;
  /** CPU the server process had used by then (less sensitive to a busy machine than wall time). */
  readonly cpuMs: number;
  /** Resident memory 2 s after that answer, with nothing to do. */
  readonly idleKiB: number;
}

/** Each kind of start, measured once a round: medians of the rounds (one start is mostly noise). */
export interface StartupSummary {
  readonly firstAnswerMs: Summary;
  readonly cpuMs: Summary;
  readonly idleKiB: Summary;
}

/** Issue targets for `npm start` on PGlite. */
export const STARTUP_TARGETS = { maxIdleKiB: 200 * 1024, maxFreshMs: 5_000, maxRestartMs: 1_000 };

export interface StartupsResult {
  /** A fresh (empty) PGlite folder, seeded from the template: a new folder each round. */
  readonly pgliteFresh: StartupSummary;
  /** That round's folder again. */
  readonly pgliteRestart: StartupSummary;
  /** The pg driver against the bench's Postgres. */
  readonly pg: StartupSummary;
  /** Building the PGlite template first (`npm ci` does it), when it was missing: ms, else null. */
  readonly templateBuildMs: number | null;
}

export interface HttpPhaseResult {
  readonly startups?: StartupsResult;
  readonly connections: number;
  readonly secondsPerRound: number;
  /** Untimed load each server took per request before the rounds. */
  readonly warmupSeconds: number;
  readonly serverDriver: string;
  readonly cases: HttpCaseResult[];
  readonly memory: {
    readonly service: MemoryResult;
    readonly bare: MemoryResult;
    readonly bareStore: MemoryResult;
  };
}

interface Canned {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const SKIPPED_HEADERS = new Set([
  'date',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
]);

/** One real answer of the service, to be replayed byte for byte by the bare server. */
async function capture(
  url: string,
  method: 'GET' | 'POST',
  path: string,
  body?: string,
): Promise<Canned> {
  const response = await request(`${url}${path}`, {
    method,
    ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}),
  });
  const text = await response.body.text();
  if (response.statusCode >= 300)
    throw new Error(`${method} ${path} answered ${response.statusCode}: ${text}`);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (!SKIPPED_HEADERS.has(name) && typeof value === 'string') headers[name] = value;
  }
  return { status: response.statusCode, headers, body: text };
}

type MeasuredLoad = LoadResult & { readonly serverCpuUs: number };

function summarizeLoads(runs: readonly MeasuredLoad[]): LoadSummary {
  return {
    ...summarizeEach(runs, ['serverCpuUs', 'requestsPerSec', 'p50Ms', 'p95Ms', 'p99Ms']),
    requests: runs.reduce((n, r) => n + r.requests, 0),
    failures: runs.reduce((n, r) => n + r.failures, 0),
  };
}

async function timeStartup(env: NodeJS.ProcessEnv): Promise<StartupResult> {
  const started = performance.now();
  // As `npm start` runs it: package.json's command, the lease schedule on (its first tick a
  // second after listening, so within the idle wait below).
  const { LOCAL_SCHEDULE: _scheduleSetting, ...asRun } = env;
  const server = await startChildServer(
    npmStartArgv(),
    { ...asRun, HOST: '127.0.0.1', PORT: '0' },
    // A generous bound: the figure is measured, not asserted, and a busy machine is slow.
    180_000,
  );
  try {
    const response = await request(`${server.url}${PREFIX}/tasks`);
    await response.body.text();
    if (response.statusCode !== 200) throw new Error(`first answer ${response.statusCode}`);
    const firstAnswerMs = performance.now() - started;
    const cpuMs = processCpuUs(server.pid) / 1000;
    // The bench may wait (tests may not): memory that grows after the answer (background
    // compilation) counts as idle memory too.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    return { firstAnswerMs, cpuMs, idleKiB: memoryOf(server.pid)?.rssKiB ?? Number.NaN };
  } finally {
    await server.stop();
  }
}

const summarizeStartups = (runs: readonly StartupResult[]): StartupSummary =>
  summarizeEach(runs, ['firstAnswerMs', 'cpuMs', 'idleKiB']);

/**
 * `npm start` on a fresh PGlite folder, restarted on it, and on the pg driver, once each per
 * round (a new folder each round), so that each figure is a median like the bench's others: one
 * start of about a second moves by a few hundred milliseconds with whatever else the two cores do.
 */
async function runStartups(
  databaseUrl: string,
  rounds: number,
  progress: (text: string) => void,
): Promise<StartupsResult> {
  const { ensurePgliteTemplate, templateFolder } = await import('#infra/local/pglite-template.ts');
  let templateBuildMs: number | null = null;
  if (!existsSync(join(templateFolder(), 'PG_VERSION'))) {
    progress('building the PGlite template (npm ci does it; once per PGlite version and schema)');
    const t0 = performance.now();
    await ensurePgliteTemplate();
    templateBuildMs = performance.now() - t0;
  }
  const fresh: StartupResult[] = [];
  const restart: StartupResult[] = [];
  const pg: StartupResult[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    const dir = mkdtempSync(join(tmpdir(), 'drydock-bench-pglite-'));
    const pglite = { ...process.env, DB_DRIVER: 'pglite', PGLITE_DATA_DIR: join(dir, 'data') };
    try {
      progress(`round ${round}/${rounds}: npm start on a fresh PGlite folder`);
      fresh.push(await timeStartup(pglite));
      progress(`round ${round}/${rounds}: npm start again on that folder`);
      restart.push(await timeStartup(pglite));
      progress(`round ${round}/${rounds}: npm start on the pg driver`);
      pg.push(await timeStartup({ ...process.env, DB_DRIVER: 'pg', DATABASE_URL: databaseUrl }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return {
    pgliteFresh: summarizeStartups(fresh),
    pgliteRestart: summarizeStartups(restart),
    pg: summarizeStartups(pg),
    templateBuildMs,
  };
}

/**
 * The local HTTP server (`npm start`'s stack over the `pg` adapter, as a child process) against a
 * bare Node server replaying the same bytes, both under the same closed-loop load; plus the
 * service process's peak resident memory under that load.
 */
export async function runHttpPhase(
  schema: BenchSchema,
  options: BenchOptions,
  progress: (text: string) => void,
): Promise<HttpPhaseResult> {
  await schema.query(
    'truncate tasks, result_message, applied_event, boot_action, boot_action_status',
  );
  const db = schema.storeDb(2);
  const readTask = (
    await createTask(db, { action: 'deploy_nodes', status: 'queued', designRef: 'https://d/1' })
  ).task;
  await appendMessages(
    db,
    readTask.taskId,
    Array.from({ length: HTTP_TASK_MESSAGES }, (_, i) => ({
      message: `Node n${i} step finished`,
      error: false,
      contextType: 'node',
      context: `n${i}`,
    })),
  );
  // One task per connection for the appends, so they measure the stack, not one row's lock.
  const postTasks: string[] = [];
  for (let i = 0; i < options.httpConnections + 1; i += 1) {
    postTasks.push(
      (await createTask(db, { action: 'deploy_nodes', status: 'queued' })).task.taskId,
    );
  }

  const startups = await runStartups(schema.url, options.rounds, progress);
  progress('starting the local server');
  const service = await startChildServer(npmStartArgv(), {
    ...process.env,
    DB_DRIVER: 'pg',
    DATABASE_URL: schema.url,
    HOST: '127.0.0.1',
    PORT: '0',
    LOCAL_SCHEDULE: 'off',
  });
  const dir = mkdtempSync(join(tmpdir(), 'drydock-bench-'));
  let bare: ChildServer | undefined;
  let bareStore: ChildServer | undefined;
  try {
    const idle = memoryOf(service.pid);
    const getPath = `${PREFIX}/tasks/${readTask.taskId}`;
    const postPath = (i: number) =>
      `${PREFIX}/tasks/${postTasks[(i % options.httpConnections) + 1]}/messages`;
    const canned = {
      GET: await capture(service.url, 'GET', getPath),
      POST: await capture(
        service.url,
        'POST',
        `${PREFIX}/tasks/${postTasks[0]}/messages`,
        MESSAGE_BODY,
      ),
    };
    const file = join(dir, 'responses.json');
    writeFileSync(file, JSON.stringify(canned));
    bare = await startChildServer(['test/bench/bare-server.ts', file], process.env);
    bareStore = await startChildServer(['test/bench/store-server.ts'], {
      ...process.env,
      DATABASE_URL: schema.url,
    });
    const bareIdle = memoryOf(bare.pid);
    const bareStoreIdle = memoryOf(bareStore.pid);
    const stopService = sampleMemory(service.pid);
    const stopBare = sampleMemory(bare.pid);
    const stopBareStore = sampleMemory(bareStore.pid);

    const targets: { id: string; label: string; req: LoadRequest; bytes: number }[] = [
      {
        id: 'get-task',
        label: `GET /tasks/{id} (${HTTP_TASK_MESSAGES} messages)`,
        req: { method: 'GET', path: () => getPath },
        bytes: Buffer.byteLength(canned.GET.body),
      },
      {
        id: 'post-message',
        label: 'POST /tasks/{id}/messages (1 message)',
        req: { method: 'POST', path: postPath, body: MESSAGE_BODY },
        bytes: Buffer.byteLength(canned.POST.body),
      },
    ];
    const servers = { service, bare, bareStore } as const;
    const runs: Record<string, MeasuredLoad[]> = {};
    const slots = targets.flatMap((t) =>
      (['service', 'bare', 'bareStore'] as const).map((s) => ({ t, s })),
    );
    for (const { t, s } of slots) {
      progress(`http warm-up ${t.id} ${s} (${options.httpWarmupSeconds} s)`);
      await runLoad(servers[s].url, t.req, options.httpConnections, options.httpWarmupSeconds);
    }
    for (let round = 0; round < options.rounds; round += 1) {
      for (let k = 0; k < slots.length; k += 1) {
        const { t, s } = slots[(k + round) % slots.length] as (typeof slots)[number];
        progress(
          `http round ${round + 1}/${options.rounds} ${t.id} ${s} (${options.httpSeconds} s)`,
        );
        const cpuBefore = processCpuUs(servers[s].pid);
        const result = await runLoad(
          servers[s].url,
          t.req,
          options.httpConnections,
          options.httpSeconds,
        );
        const serverCpuUs = (processCpuUs(servers[s].pid) - cpuBefore) / result.requests;
        runs[`${t.id}/${s}`] ??= [];
        runs[`${t.id}/${s}`]?.push({ ...result, serverCpuUs });
      }
    }
    const serviceMemory = stopService();
    const bareMemory = stopBare();
    const bareStoreMemory = stopBareStore();
    const cases = targets.map((t): HttpCaseResult => {
      const svc = runs[`${t.id}/service`] ?? [];
      const raw = runs[`${t.id}/bare`] ?? [];
      const withStore = runs[`${t.id}/bareStore`] ?? [];
      return {
        id: t.id,
        label: t.label,
        service: summarizeLoads(svc),
        bare: summarizeLoads(raw),
        bareStore: summarizeLoads(withStore),
        ratio: summarize(
          svc.map((r, i) => r.requestsPerSec / (raw[i]?.requestsPerSec ?? Number.NaN)),
        ),
        ratioToBareStore: summarize(
          svc.map((r, i) => r.requestsPerSec / (withStore[i]?.requestsPerSec ?? Number.NaN)),
        ),
        cpuRatioToBareStore: summarize(
          svc.map((r, i) => (withStore[i]?.serverCpuUs ?? Number.NaN) / r.serverCpuUs),
        ),
        responseBytes: t.bytes,
      };
    });
    return {
      startups,
      connections: options.httpConnections,
      secondsPerRound: options.httpSeconds,
      warmupSeconds: options.httpWarmupSeconds,
      serverDriver: 'pg (pool of 2, as createDb builds it for a Lambda container)',
      cases,
      memory: {
        service: {
          idleKiB: idle?.rssKiB ?? Number.NaN,
          peakKiB: serviceMemory.peakKiB,
          maxSampledKiB: serviceMemory.maxRssKiB,
        },
        bare: {
          idleKiB: bareIdle?.rssKiB ?? Number.NaN,
          peakKiB: bareMemory.peakKiB,
          maxSampledKiB: bareMemory.maxRssKiB,
        },
        bareStore: {
          idleKiB: bareStoreIdle?.rssKiB ?? Number.NaN,
          peakKiB: bareStoreMemory.peakKiB,
          maxSampledKiB: bareStoreMemory.maxRssKiB,
        },
      },
    };
  } finally {
    await service.stop();
    await bare?.stop();
    await bareStore?.stop();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
