import type pg from 'pg';
import type { Db } from '#shared/db/port.ts';
import { LIMITS } from '#shared/limits.ts';
import { claimLease } from '#shared/store/lease.ts';
import { appendMessages } from '#shared/store/messages.ts';
import { claimTasks, completeTasks } from '#shared/store/queue.ts';
import { createTask, getTask, updateTask } from '#shared/store/tasks.ts';
import type { NewMessage } from '#shared/store/types.ts';
import type { BenchSchema } from './bench-db.ts';
import {
  type CaseResult,
  type CaseSpec,
  type Meter,
  measureCase,
  type RunResult,
} from './measure.ts';
import type { BenchOptions } from './options.ts';
import {
  createPeers,
  databaseCpu,
  graphileDrain,
  graphileEnqueue,
  type Peers,
  pgBossDrain,
  pgBossEnqueue,
} from './peers.ts';
import { RAW, rawQuery } from './raw-sql.ts';
import { drive } from './stats.ts';

const DESIGN_REF = 'deckhand+https://deckhand.example.com/api/v1.0/revisions/1/rendered-documents';
const INSTANCE = 'bench-leader';

const message = (i: number): NewMessage => ({
  message: `Node n${i % 50} step ${i} finished`,
  error: i % 7 === 0,
  contextType: 'node',
  context: `n${i % 50}`,
});

const scaled = (n: number, scale: number) => Math.max(1, Math.round(n * scale));

interface Fixture {
  readonly schema: BenchSchema;
  readonly raw: pg.Client[];
  readonly store: Db;
  readonly epoch: number;
  readonly options: BenchOptions;
  readonly peers: Peers;
}

const GRAPHILE = 'graphile-worker';
const PG_BOSS = 'pg-boss';

/** What graphile-worker and pg-boss do in a case run against them, and how each variant is named. */
interface PeerWork {
  /** Operations in a run at scale 1 (the case's own count). */
  readonly ops: number;
  /**
   * Absent: the peers enqueue that many jobs. Present: they drain that many seeded jobs, pg-boss
   * `batch` per fetch, graphile-worker with its documented fast settings when `batched`.
   */
  readonly drain?: { readonly batch: number; readonly batched: boolean };
  readonly graphileLabel: string;
  readonly pgBossLabel: string;
}

/**
 * A case of the store against graphile-worker and pg-boss: the peers' variants after the case's
 * own, the store at least level with each, each peer's CPU that of its own database's server
 * processes. The case's `run` serves its own variants only.
 */
function againstPeers(f: Fixture, peers: PeerWork, own: CaseSpec): CaseSpec {
  const { workers } = f.options;
  const runPeer = (variant: string, n: number, meter: Meter) => {
    const { drain } = peers;
    if (variant === GRAPHILE) {
      const { url } = f.peers.graphile;
      return drain
        ? graphileDrain(url, n, workers, drain.batched, meter)
        : graphileEnqueue(url, n, workers, meter);
    }
    const { url } = f.peers.pgBoss;
    return drain
      ? pgBossDrain(url, n, workers, drain.batch, meter)
      : pgBossEnqueue(url, n, workers, meter);
  };
  return {
    ...own,
    variants: [
      ...own.variants,
      { id: GRAPHILE, label: peers.graphileLabel },
      { id: PG_BOSS, label: peers.pgBossLabel },
    ],
    versus: [
      { variant: 'store', over: GRAPHILE, atLeast: 1 },
      { variant: 'store', over: PG_BOSS, atLeast: 1 },
    ],
    serverCpu: (variant) =>
      variant === GRAPHILE
        ? databaseCpu(f.peers.graphile.database)
        : variant === PG_BOSS
          ? databaseCpu(f.peers.pgBoss.database)
          : undefined,
    run(variant, scale, progress, meter) {
      return variant === GRAPHILE || variant === PG_BOSS
        ? runPeer(variant, scaled(peers.ops, scale), meter)
        : own.run(variant, scale, progress, meter);
    },
  };
}

/**
 * The timed part of every run: `op` from each worker, `total` calls at the most (fewer when an
 * op returns false), between the meter's marks.
 */
async function timedDrive(
  f: Fixture,
  meter: Meter,
  total: number,
  op: (worker: number, index: number) => Promise<unknown>,
  onProgress: (done: number) => void,
): Promise<{ elapsedMs: number; done: number }> {
  await meter.begin();
  const result = await drive(f.options.workers, total, op, onProgress);
  await meter.end();
  return result;
}

/**
 * Seeds `n` queued tasks and has every worker call `claimAndComplete` until the queue is empty;
 * it returns how many tasks it completed, 0 when it found none. `total` bounds the calls only
 * to stop a runaway loop. Throws unless exactly the `n` tasks were completed.
 */
async function drainQueue(
  f: Fixture,
  n: number,
  total: number,
  claimAndComplete: (worker: number) => Promise<number>,
  progress: (text: string) => void,
  meter: Meter,
): Promise<RunResult> {
  await seedQueued(f.schema, n);
  let processed = 0;
  const { elapsedMs } = await timedDrive(
    f,
    meter,
    total,
    async (w) => {
      const completed = await claimAndComplete(w);
      processed += completed;
      return completed > 0;
    },
    () => progress(`${processed}/${n}`),
  );
  const completed = await countCompleted(f.schema);
  if (processed !== n || completed !== n) {
    throw new Error(`drained ${processed} tasks, ${completed} complete, of ${n} seeded`);
  }
  return { ops: processed, elapsedMs };
}

/**
 * Every case starts from empty tables, the outbox included: the store's writes add event rows
 * that nobody publishes here, and an outbox grown by the cases before would make each later
 * store variant insert into a larger pending index than the raw floor, which writes none.
 */
async function truncate(schema: BenchSchema): Promise<void> {
  await schema.query(
    'truncate tasks, result_message, applied_event, boot_action, boot_action_status, event_outbox',
  );
}

/** N queued tasks in one statement, then VACUUM ANALYZE so both sides start from the same table. */
async function seedQueued(schema: BenchSchema, n: number): Promise<void> {
  await truncate(schema);
  await schema.query(
    `insert into tasks (action, status, design_ref, created_by)
     select 'deploy_nodes', 'queued', $1, 'bench' from generate_series(1, $2::int)`,
    [DESIGN_REF, n],
  );
  await schema.query('vacuum analyze tasks, task_queue');
}

async function seedTasks(schema: BenchSchema, n: number, messagesEach: number): Promise<string[]> {
  await truncate(schema);
  const tasks = await schema.query(
    `insert into tasks (action, status, design_ref, created_by, message_seq)
     select 'deploy_nodes', 'running', $1, 'bench', $3::int from generate_series(1, $2::int)
     returning task_id`,
    [DESIGN_REF, n, messagesEach],
  );
  const ids = tasks.rows.map((r: { task_id: string }) => r.task_id);
  if (messagesEach > 0) {
    await schema.query(
      `insert into result_message (task_id, sequence, message, error, context_type, context, extra)
       select t, s, 'Node n' || (s % 50) || ' step ' || s || ' finished', s % 7 = 0, 'node', 'n' || (s % 50),
         jsonb_build_object('attempt', 1)
       from unnest($1::uuid[]) t, generate_series(1, $2::int) s`,
      [ids, messagesEach],
    );
  }
  await schema.query('vacuum analyze tasks, result_message');
  return ids;
}

async function countCompleted(schema: BenchSchema): Promise<number> {
  const r = await schema.query(`select count(*)::int as n from tasks where status = 'complete'`);
  return (r.rows[0] as { n: number }).n;
}

function createCase(f: Fixture): CaseSpec {
  const peers = {
    ops: f.options.creates,
    graphileLabel: 'graphile-worker addJob',
    pgBossLabel: 'pg-boss send',
  };
  return againstPeers(f, peers, {
    id: 'create',
    label: `create task, 1 per call ×${f.options.workers}`,
    unit: 'tasks',
    variants: [
      { id: 'raw', label: 'raw INSERT … RETURNING task_id' },
      { id: 'store', label: 'store createTask' },
    ],
    target: { variant: 'store', atLeast: 0.8, text: '≥ 0.8×' },
    async run(variant, scale, progress, meter) {
      const n = scaled(f.options.creates, scale);
      await truncate(f.schema);
      const op =
        variant === 'raw'
          ? (w: number) =>
              rawQuery(f.raw[w] as pg.Client, RAW.createTask, ['deploy_nodes', DESIGN_REF, 'bench'])
          : () =>
              createTask(f.store, {
                action: 'deploy_nodes',
                designRef: DESIGN_REF,
                status: 'queued',
                createdBy: 'bench',
              });
      const { elapsedMs, done } = await timedDrive(f, meter, n, op, (d) => progress(`${d}/${n}`));
      return { ops: done, elapsedMs };
    },
  });
}

function claimCase(f: Fixture): CaseSpec {
  const peers = {
    ops: f.options.claims,
    drain: { batch: 1, batched: false },
    graphileLabel: 'graphile-worker run(), concurrency ×workers',
    pgBossLabel: 'pg-boss fetch + complete',
  };
  return againstPeers(f, peers, {
    id: 'claim-complete',
    label: `claim + complete, 1 per claim ×${f.options.workers}`,
    unit: 'tasks',
    variants: [
      { id: 'raw', label: 'raw claim (SKIP LOCKED) + complete' },
      { id: 'store', label: 'store claimTasks(limit 1) + completeTasks([1])' },
      { id: 'store-update', label: 'store claimTasks(limit 1) + updateTask({epoch})' },
    ],
    target: { variant: 'store', atLeast: 0.85, text: '≥ 0.85×' },
    async run(variant, scale, progress, meter) {
      const n = scaled(f.options.claims, scale);
      const claimAndComplete =
        variant === 'raw'
          ? async (w: number) => {
              const client = f.raw[w] as pg.Client;
              const claimed = await rawQuery(client, RAW.claimOne);
              const row = claimed.rows[0] as { task_id: string } | undefined;
              if (!row) return 0;
              await rawQuery(client, RAW.completeOne, [row.task_id]);
              return 1;
            }
          : async () => {
              const [task] = await claimTasks(f.store, {
                instanceId: INSTANCE,
                epoch: f.epoch,
                limit: 1,
              });
              if (!task) return 0;
              if (variant === 'store') {
                await completeTasks(f.store, { epoch: f.epoch, tasks: [{ taskId: task.taskId }] });
              } else {
                await updateTask(f.store, task.taskId, { status: 'complete' }, { epoch: f.epoch });
              }
              return 1;
            };
      return drainQueue(f, n, n * 2 + f.options.workers, claimAndComplete, progress, meter);
    },
  });
}

function batchedClaimCase(f: Fixture): CaseSpec {
  const batch = f.options.claimBatch;
  const peers = {
    ops: f.options.batchedClaims,
    drain: { batch, batched: true },
    graphileLabel: 'graphile-worker run(), local queue 500, batched completion',
    pgBossLabel: `pg-boss fetch(batchSize ${batch}) + complete(ids)`,
  };
  return againstPeers(f, peers, {
    id: 'claim-batched',
    label: `claim ${batch} per statement + complete them ×${f.options.workers}`,
    unit: 'tasks',
    variants: [
      { id: 'raw', label: `raw claim ${batch} + one UPDATE … = any($1)` },
      { id: 'raw-each', label: `raw claim ${batch} + ${batch} single completes` },
      { id: 'store', label: `store claimTasks(limit ${batch}) + completeTasks(${batch})` },
    ],
    target: { variant: 'store', atLeast: 0.8, text: '≥ 0.8×' },
    note:
      "graphile-worker's batched drain uses its documented fast settings (a local queue of 500, " +
      `completions coalesced), so bigger fetches than the ${batch} per claim of raw, pg-boss and the ` +
      `store (${LIMITS.claim} is the most one claim takes)`,
    async run(variant, scale, progress, meter) {
      const n = scaled(f.options.batchedClaims, scale);
      const claimAndComplete = async (w: number) => {
        const client = f.raw[w] as pg.Client;
        if (variant === 'store') {
          const tasks = await claimTasks(f.store, {
            instanceId: INSTANCE,
            epoch: f.epoch,
            limit: batch,
          });
          if (tasks.length === 0) return 0;
          await completeTasks(f.store, {
            epoch: f.epoch,
            tasks: tasks.map((task) => ({ taskId: task.taskId })),
          });
          return tasks.length;
        }
        const claimed = await rawQuery(client, RAW.claimMany, [batch]);
        const ids = claimed.rows.map((r: { task_id: string }) => r.task_id);
        if (ids.length === 0) return 0;
        if (variant === 'raw') await rawQuery(client, RAW.completeMany, [ids]);
        else for (const id of ids) await rawQuery(client, RAW.completeOne, [id]);
        return ids.length;
      };
      return drainQueue(f, n, n + f.options.workers * 2, claimAndComplete, progress, meter);
    },
  });
}

function appendCase(f: Fixture, size: 1 | 10): CaseSpec {
  return {
    id: size === 1 ? 'append-1' : 'append-10',
    label:
      size === 1
        ? `append 1 message ×${f.options.workers}`
        : `append a batch of 10 in one statement ×${f.options.workers}`,
    unit: 'calls',
    itemsPerOp: size,
    variants: [
      {
        id: 'raw',
        label:
          size === 1
            ? 'raw counter bump + INSERT (one statement)'
            : 'raw bump + INSERT … unnest(arrays)',
      },
      { id: 'store', label: `store appendMessages(${size})` },
    ],
    ...(size === 1 ? { target: { variant: 'store', atLeast: 0.8, text: '≥ 0.8×' } } : {}),
    async run(variant, scale, progress, meter) {
      // One task per worker, so the measurement is the statement, not row-lock queueing.
      const ids = await seedTasks(f.schema, f.options.workers, 0);
      const n = scaled(f.options.appends, scale);
      const batchOf = (i: number) => Array.from({ length: size }, (_, k) => message(i * size + k));
      const op = async (w: number, i: number) => {
        const taskId = ids[w] as string;
        const batch = batchOf(i);
        if (variant === 'store') {
          const result = await appendMessages(f.store, taskId, batch);
          if (result.appended.length !== size) throw new Error('append lost messages');
          return;
        }
        const client = f.raw[w] as pg.Client;
        if (size === 1) {
          const m = batch[0] as NewMessage;
          await rawQuery(client, RAW.appendOne, [
            taskId,
            m.message,
            m.error,
            m.contextType,
            m.context,
            m.error ? 1 : 0,
          ]);
        } else {
          await rawQuery(client, RAW.appendMany, [
            taskId,
            batch.map((m) => m.message),
            batch.map((m) => m.error),
            batch.map((m) => m.contextType),
            batch.map((m) => m.context),
          ]);
        }
      };
      const { elapsedMs, done } = await timedDrive(f, meter, n, op, (d) => progress(`${d}/${n}`));
      const stored = await f.schema.query('select count(*)::int as n from result_message');
      if ((stored.rows[0] as { n: number }).n !== n * size)
        throw new Error('append count mismatch');
      return { ops: done, elapsedMs };
    },
  };
}

function getTaskCase(f: Fixture): CaseSpec {
  const m = f.options.messagesPerTask;
  return {
    id: 'get-task',
    label: `get a task with its ${m} messages ×${f.options.workers}`,
    unit: 'reads',
    variants: [
      { id: 'raw', label: 'raw t.* LEFT JOIN messages' },
      { id: 'store', label: 'store getTask' },
    ],
    async run(variant, scale, progress, meter) {
      const ids = await seedTasks(f.schema, f.options.workers, m);
      const n = scaled(f.options.reads, scale);
      const op = async (w: number) => {
        const taskId = ids[w] as string;
        if (variant === 'store') {
          const task = await getTask(f.store, taskId);
          if (task.messages.length !== m) throw new Error('getTask lost messages');
        } else {
          const rows = await rawQuery(f.raw[w] as pg.Client, RAW.getTaskWithMessages, [taskId]);
          if (rows.rowCount !== m) throw new Error('raw read lost messages');
        }
      };
      const { elapsedMs, done } = await timedDrive(f, meter, n, op, (d) => progress(`${d}/${n}`));
      return { ops: done, elapsedMs };
    },
  };
}

export interface StorePhaseResult {
  readonly cases: CaseResult[];
}

/** Raw node-postgres floor against the store through the `pg` adapter, case by case. */
export async function runStorePhase(
  schema: BenchSchema,
  options: BenchOptions,
  progress: (text: string) => void,
): Promise<StorePhaseResult> {
  const raw = await schema.rawClients(options.workers);
  const store = schema.storeDb(options.workers);
  const lease = await claimLease(store, { instanceId: INSTANCE, graceSeconds: 3_600 });
  if (!lease.held) throw new Error('the bench could not take the lease in its own schema');
  const peers = await createPeers();
  const f: Fixture = { schema, raw, store, epoch: lease.epoch, options, peers };
  const specs = [
    createCase(f),
    claimCase(f),
    batchedClaimCase(f),
    appendCase(f, 1),
    appendCase(f, 10),
    getTaskCase(f),
  ].filter((spec) => options.storeCases === 'all' || options.storeCases.includes(spec.id));
  const cases: CaseResult[] = [];
  try {
    for (const spec of specs) cases.push(await measureCase(spec, options.rounds, progress, schema));
  } finally {
    await peers.drop();
  }
  await truncate(schema);
  return { cases };
}

export type { RunResult };
