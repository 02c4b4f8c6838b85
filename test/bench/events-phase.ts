/**
 * The cost of events and waits: what one `?wait=` costs per waiting second (reads of the task
 * row, each one Data API call on AWS, and their time), and what the outbox row adds to a create
 * and to an update (the same statement with and without its `event_outbox` CTE, on one
 * connection, alternating).
 */
import type { Db } from '#shared/db/port.ts';
import { WAIT_BACKOFF_MS, type WaitClock, waitFor } from '#shared/notify/wait.ts';
import { createTask } from '#shared/store/tasks.ts';
import { readTaskMark } from '#shared/store/wait.ts';
import type { BenchSchema } from './bench-db.ts';
import type { BenchOptions } from './options.ts';
import { emulateBenchSchema } from './statements-phase.ts';
import { nowMs, type Summary, summarize } from './stats.ts';

export interface EventsPhaseResult {
  /** The wait measured: seconds, reads, and the backoff used. */
  readonly wait: {
    readonly seconds: number;
    readonly reads: number;
    readonly readsPerSecond: number;
    readonly backoffMs: readonly number[];
    /** Time of one read of the task row, ms, on the pg adapter and through the Data API emulator. */
    readonly readMsPg: Summary;
    readonly readMsDataApi: Summary | null;
    /** Data API calls per read (from the emulator's count). */
    readonly dataApiCallsPerRead: number | null;
  };
  /** Microseconds per statement without and with the outbox row, and their ratio. */
  readonly outbox: readonly {
    readonly id: 'create' | 'update';
    readonly plainUs: Summary;
    readonly withOutboxUs: Summary;
    readonly ratio: Summary;
  }[];
}

const WAIT_SECONDS = 25;

/** A clock that moves at once: the reads of a whole wait without waiting it. */
function instantClock(): WaitClock {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
  };
}

async function timeReads(db: Db, taskId: string, n: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = nowMs();
    await readTaskMark(db, taskId);
    samples.push(nowMs() - t0);
  }
  return samples;
}

const CREATE_PLAIN = `insert into tasks (action, status, design_ref) values ('deploy_nodes', 'queued', 'x') returning task_id`;
const CREATE_OUTBOX = `with t as (
  insert into tasks (action, status, design_ref) values ('deploy_nodes', 'queued', 'x') returning *
), events as (
  insert into event_outbox (detail_type, task_id, parent_task_id, action, old_status, new_status, result_status, epoch, version)
  select 'Task Status Change', t.task_id, t.parent_task_id, t.action, null, t.status, t.result_status, t.claimed_epoch, t.version from t
)
select task_id from t`;
const UPDATE_PLAIN = `update tasks set result_status = case when result_status = 'success' then 'failure' else 'success' end,
  version = version + 1, updated = now() where task_id = $1 returning version`;
const UPDATE_OUTBOX = `with prev as (
  select task_id as prev_id, status as old_status, result_status as old_result from tasks where task_id = $1 for update
), upd as (
  update tasks set result_status = case when result_status = 'success' then 'failure' else 'success' end,
    version = version + 1, updated = now()
  from prev where prev.prev_id = tasks.task_id returning tasks.*, prev.old_status, prev.old_result
), events as (
  insert into event_outbox (detail_type, task_id, parent_task_id, action, old_status, new_status, result_status, epoch, version)
  select 'Task Status Change', n.task_id, n.parent_task_id, n.action, n.old_status, n.status, n.result_status, n.claimed_epoch, n.version
  from upd n where n.old_status is distinct from n.status or n.old_result is distinct from n.result_status
)
select version from upd`;

export async function runEventsPhase(
  schema: BenchSchema,
  options: BenchOptions,
  progress: (line: string) => void,
): Promise<EventsPhaseResult> {
  const db = schema.storeDb(1);
  const { task } = await createTask(db, { action: 'deploy_nodes', status: 'queued' });
  const reads = Math.max(20, Math.min(options.reads, 500));

  // A wait that times out: the most reads a wait can cost.
  const outcome = await waitFor({
    taskId: task.taskId,
    waitMs: WAIT_SECONDS * 1000,
    clock: instantClock(),
    check: async () => ((await readTaskMark(db, task.taskId)) ? undefined : 'gone'),
  });
  progress(`events: a ${WAIT_SECONDS} s wait reads the row ${outcome.reads} times`);
  const readMsPg = summarize(await timeReads(db, task.taskId, reads));

  let readMsDataApi: Summary | null = null;
  let dataApiCallsPerRead: number | null = null;
  const emulated = await emulateBenchSchema(schema);
  try {
    const dataApi = emulated.open();
    await readTaskMark(dataApi, task.taskId);
    emulated.resetCalls();
    const n = Math.max(10, Math.floor(reads / 5));
    readMsDataApi = summarize(await timeReads(dataApi, task.taskId, n));
    dataApiCallsPerRead = emulated.calls().total / n;
  } finally {
    await emulated.close();
  }

  // The outbox's added cost: the same write with and without its event row, alternating per round.
  const pg = await schema.rawClients(1, 'drydock-bench-events');
  const client = pg[0];
  if (!client) throw new Error('no bench client');
  const n = Math.max(20, Math.min(options.creates, 2000));
  const perOp = async (text: string, values: unknown[] = []) => {
    const t0 = nowMs();
    for (let i = 0; i < n; i++) await client.query(text, values);
    return ((nowMs() - t0) * 1000) / n;
  };
  const target = (await client.query(CREATE_PLAIN)).rows[0]?.task_id as string;
  const cases: EventsPhaseResult['outbox'][number][] = [];
  for (const [id, plain, withOutbox, values] of [
    ['create', CREATE_PLAIN, CREATE_OUTBOX, []],
    ['update', UPDATE_PLAIN, UPDATE_OUTBOX, [target]],
  ] as const) {
    const a: number[] = [];
    const b: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      progress(`events: outbox ${id}, round ${round + 1}/${options.rounds}`);
      // Order rotated per round, so neither variant always runs on a warmer cache.
      if (round % 2 === 0) {
        a.push(await perOp(plain, [...values]));
        b.push(await perOp(withOutbox, [...values]));
      } else {
        b.push(await perOp(withOutbox, [...values]));
        a.push(await perOp(plain, [...values]));
      }
    }
    cases.push({
      id,
      plainUs: summarize(a),
      withOutboxUs: summarize(b),
      ratio: summarize(a.map((x, i) => (b[i] ?? Number.NaN) / x)),
    });
  }
  return {
    wait: {
      seconds: WAIT_SECONDS,
      reads: outcome.reads,
      readsPerSecond: outcome.reads / WAIT_SECONDS,
      backoffMs: WAIT_BACKOFF_MS,
      readMsPg,
      readMsDataApi,
      dataApiCallsPerRead,
    },
    outbox: cases,
  };
}

const fixed = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const med = (s: Summary | null, d = 2) =>
  s
    ? s.samples.length > 1
      ? `${fixed(s.median, d)} (${fixed(s.min, d)}–${fixed(s.max, d)})`
      : fixed(s.median, d)
    : 'n/a';

/** The phase's Markdown section. */
export function eventsSection(r: EventsPhaseResult): string[] {
  const w = r.wait;
  const busyDataApi = w.readMsDataApi ? (w.reads * w.readMsDataApi.median) / 1000 : Number.NaN;
  return [
    `A wait of ${w.seconds} s that times out reads the task row ${w.reads} times ` +
      `(${fixed(w.readsPerSecond)} reads per waiting second; backoff ${w.backoffMs.join(', ')} ms, then every ${w.backoffMs.at(-1)} ms): ` +
      `${fixed(w.dataApiCallsPerRead ?? Number.NaN)} Data API call per read, so ${w.reads} calls per full wait.`,
    '',
    '| per read of the task row | pg adapter, ms | Data API (local emulator), ms |',
    '|---|---|---|',
    `| one read | ${med(w.readMsPg, 3)} | ${med(w.readMsDataApi, 3)} |`,
    '',
    `The Lambda is billed for the whole wait (${w.seconds} s × its memory, e.g. ${fixed((w.seconds * 512) / 1024, 1)} GB-s at 512 MB) ` +
      `while the reads keep it busy about ${fixed(busyDataApi, 2)} s of it here.`,
    '',
    '| outbox | without the event row, µs/op | with it, µs/op | with ÷ without |',
    '|---|---|---|---|',
    ...r.outbox.map(
      (c) => `| ${c.id} | ${med(c.plainUs, 0)} | ${med(c.withOutboxUs, 0)} | ${med(c.ratio)}× |`,
    ),
  ];
}
