import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Logger, makeWorkerUtils, run, type WorkerUtils } from 'graphile-worker';
import { PgBoss } from 'pg-boss';
import { adminQuery, TEST_DATABASE_URL } from '#test/support/pg-server.ts';
import { drive, nowMs } from './stats.ts';

/**
 * The job queues people would otherwise pick, run on the same server in the same rounds as the
 * store and its raw floor, each in a database of its own (dropped at the end), with the
 * workloads of `peers.md`: single enqueues from N producers, a per-job drain by N workers (one
 * job per fetch, completed one by one) and a batched drain (pg-boss: fetch and complete a batch
 * per call; graphile-worker: its documented fast settings, a local queue of 500 and batched
 * completions). Handlers do nothing.
 */
export interface Peers {
  readonly graphile: { readonly url: string; readonly database: string };
  readonly pgBoss: { readonly url: string; readonly database: string };
  drop(): Promise<void>;
}

const QUEUE = 'bench';

function urlOf(database: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Two fresh databases, migrated by each library once (outside any timing). */
export async function createPeers(): Promise<Peers> {
  const suffix = randomBytes(4).toString('hex');
  const graphile = { database: `bench_graphile_${suffix}`, url: '' };
  const pgBoss = { database: `bench_pgboss_${suffix}`, url: '' };
  graphile.url = urlOf(graphile.database);
  pgBoss.url = urlOf(pgBoss.database);
  await adminQuery(`create database ${graphile.database}`);
  await adminQuery(`create database ${pgBoss.database}`);
  const drop = async () => {
    await adminQuery(`drop database if exists ${graphile.database} with (force)`);
    await adminQuery(`drop database if exists ${pgBoss.database} with (force)`);
  };
  try {
    const utils = await makeWorkerUtils({ connectionString: graphile.url });
    await utils.migrate();
    await utils.release();
    const boss = await startBoss(pgBoss.url, 2);
    await boss.createQueue(QUEUE);
    await boss.stop({ graceful: false, close: true });
  } catch (error) {
    await drop();
    throw error;
  }
  return { graphile, pgBoss, drop };
}

async function startBoss(url: string, max: number): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: url, max, supervise: false, schedule: false });
  boss.on('error', () => {});
  await boss.start();
  return boss;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU (µs) so far of every server process connected to `database`, from /proc. */
export async function databaseCpu(database: string): Promise<Map<number, number>> {
  const result = await adminQuery(
    `select pid from pg_stat_activity where datname = '${database.replace(/'/g, '')}'`,
  );
  const cpu = new Map<number, number>();
  for (const { pid } of result.rows as { pid: number }[]) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpu.set(pid, ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND) * 1e6);
    } catch {
      // Gone or elsewhere.
    }
  }
  return cpu;
}

async function emptyGraphile(url: string): Promise<void> {
  const utils = await makeWorkerUtils({ connectionString: url });
  try {
    await utils.withPgClient((c) => c.query('delete from graphile_worker._private_jobs'));
  } finally {
    await utils.release();
  }
}

async function seedGraphile(url: string, n: number): Promise<void> {
  await emptyGraphile(url);
  const utils: WorkerUtils = await makeWorkerUtils({ connectionString: url });
  try {
    for (let i = 0; i < n; i += 1000) {
      const count = Math.min(1000, n - i);
      await utils.addJobs(
        Array.from({ length: count }, (_, k) => ({ identifier: QUEUE, payload: { i: i + k } })),
      );
    }
  } finally {
    await utils.release();
  }
}

/**
 * graphile-worker single enqueues (`addJob`) from `producers` concurrent callers; timing covers
 * the calls only. `begin`/`end` bracket the CPU accounting.
 */
export async function graphileEnqueue(
  url: string,
  n: number,
  producers: number,
  meter: { begin(): Promise<void>; end(): Promise<void> },
): Promise<{ ops: number; elapsedMs: number }> {
  await emptyGraphile(url);
  const utils = await makeWorkerUtils({ connectionString: url });
  try {
    await meter.begin();
    const { elapsedMs, done } = await drive(producers, n, async (_w, i) => {
      await utils.addJob(QUEUE, { i });
    });
    await meter.end();
    return { ops: done, elapsedMs };
  } finally {
    await utils.release();
  }
}

/**
 * graphile-worker draining `n` seeded jobs with `workers` concurrent workers; `batched` turns on
 * its documented fast settings. Timing runs from the runner's start to the last handler call
 * (its start-up, a pool and a check of its schema, is in; its shutdown is not).
 */
export async function graphileDrain(
  url: string,
  n: number,
  workers: number,
  batched: boolean,
  meter: { begin(): Promise<void>; end(): Promise<void> },
): Promise<{ ops: number; elapsedMs: number }> {
  await seedGraphile(url, n);
  let count = 0;
  let last = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  await meter.begin();
  const start = nowMs();
  const runner = await run({
    connectionString: url,
    concurrency: workers,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: quietLogger,
    taskList: {
      [QUEUE]: async () => {
        count += 1;
        if (count === n) {
          last = nowMs();
          finish();
        }
      },
    },
    ...(batched
      ? {
          preset: {
            worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 },
          },
        }
      : {}),
  });
  await finished;
  // Before the stop, while its connections (and their CPU figures) are still there.
  await meter.end();
  await runner.stop();
  return { ops: count, elapsedMs: last - start };
}

/** pg-boss single enqueues (`send`) from `producers` concurrent callers. */
export async function pgBossEnqueue(
  url: string,
  n: number,
  producers: number,
  meter: { begin(): Promise<void>; end(): Promise<void> },
): Promise<{ ops: number; elapsedMs: number }> {
  const boss = await startBoss(url, producers + 2);
  try {
    await boss.deleteAllJobs(QUEUE);
    await meter.begin();
    const { elapsedMs, done } = await drive(producers, n, async (_w, i) => {
      await boss.send(QUEUE, { i });
    });
    await meter.end();
    return { ops: done, elapsedMs };
  } finally {
    await boss.stop({ graceful: false, close: true });
  }
}

/** pg-boss draining `n` seeded jobs: `fetch` then `complete`, `batch` jobs per call. */
export async function pgBossDrain(
  url: string,
  n: number,
  workers: number,
  batch: number,
  meter: { begin(): Promise<void>; end(): Promise<void> },
): Promise<{ ops: number; elapsedMs: number }> {
  const boss = await startBoss(url, workers + 2);
  try {
    await boss.deleteAllJobs(QUEUE);
    for (let i = 0; i < n; i += 1000) {
      const count = Math.min(1000, n - i);
      await boss.insert(
        QUEUE,
        Array.from({ length: count }, (_, k) => ({ data: { i: i + k } })),
      );
    }
    let processed = 0;
    await meter.begin();
    const { elapsedMs } = await drive(workers, n + workers * 2, async () => {
      const jobs = await boss.fetch(QUEUE, { batchSize: batch });
      if (jobs.length === 0) return false;
      await boss.complete(
        QUEUE,
        jobs.map((j) => j.id),
      );
      processed += jobs.length;
      return true;
    });
    await meter.end();
    if (processed !== n) throw new Error(`pg-boss drained ${processed} of ${n}`);
    return { ops: processed, elapsedMs };
  } finally {
    await boss.stop({ graceful: false, close: true });
  }
}

// graphile-worker logs every start and stop; the bench has no use for those lines.
const quietLogger = new Logger(() => () => {});
