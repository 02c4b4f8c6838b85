import { createDataApiDb } from '#shared/db/data-api.ts';
import type { Db } from '#shared/db/port.ts';
import { postBuildData, queryBuildData } from '#shared/store/build-data.ts';
import { checkDatabase } from '#shared/store/health.ts';
import {
  abdicateLease,
  claimLease,
  claimMaintenance,
  readLease,
  renewLease,
} from '#shared/store/lease.ts';
import { appendMessages, listMessages } from '#shared/store/messages.ts';
import { claimTasks, requeueStrandedTasks } from '#shared/store/queue.ts';
import { purgeFinishedTasks } from '#shared/store/retention.ts';
import {
  createTask,
  getTask,
  getTaskTree,
  listSubtasks,
  listTasks,
  rollUpResults,
  terminateTask,
  updateTask,
} from '#shared/store/tasks.ts';
import { countingDb } from '#test/support/counting-db.ts';
import {
  type DataApiEmulator,
  startDataApiEmulator,
  TEST_CREDENTIALS,
  TEST_REGION,
  TEST_SECRET_ARN,
  testClusterArn,
} from '#test/support/data-api-emulator/index.ts';
import { urlWithSchema } from '#test/support/pg-server.ts';
import type { BenchSchema } from './bench-db.ts';

/** Statements (pg, counted by the wrapper) and Data API calls (counted by the emulator) per store operation. */
export interface OperationCount {
  readonly operation: string;
  readonly pgStatements: number;
  readonly dataApiCalls: number | null;
}

const MSG = { message: 'step done', error: false, contextType: 'node', context: 'n1' };

/**
 * Every store operation the API and the event consumers call, in an order where each one finds
 * the state it needs (a leader, a queued task, a parent with a subtask…). Run once per driver on
 * an emptied schema.
 */
type State = Record<string, string | number>;

interface Operation {
  readonly name: string;
  /** Uncounted preparation (the first call of a replay). */
  readonly setup?: (db: Db, s: State) => Promise<unknown>;
  readonly run: (db: Db, s: State) => Promise<unknown>;
}

function operations(): Operation[] {
  const id = (s: Record<string, string | number>, key: string) => s[key] as string;
  return [
    {
      name: 'claimLease',
      run: async (db, s) => {
        s.epoch = (await claimLease(db, { instanceId: 'bench', graceSeconds: 600 })).epoch;
      },
    },
    {
      name: 'renewLease',
      run: (db, s) =>
        renewLease(db, { instanceId: 'bench', epoch: s.epoch as number, graceSeconds: 600 }),
    },
    { name: 'readLease', run: (db) => readLease(db) },
    {
      name: 'createTask',
      run: async (db, s) => {
        s.task = (
          await createTask(db, {
            action: 'deploy_nodes',
            status: 'queued',
            designRef: 'https://d/1',
          })
        ).task.taskId;
      },
    },
    {
      name: 'createTask (idempotent replay)',
      setup: (db) => createTask(db, { action: 'deploy_nodes', status: 'queued', requestKey: 'k1' }),
      run: (db) => createTask(db, { action: 'deploy_nodes', status: 'queued', requestKey: 'k1' }),
    },
    {
      name: 'createTask (subtask of a parent)',
      run: async (db, s) => {
        s.sub = (
          await createTask(db, {
            action: 'prepare_nodes',
            parentTaskId: id(s, 'task'),
            epoch: s.epoch as number,
          })
        ).task.taskId;
      },
    },
    { name: 'getTask (with messages)', run: (db, s) => getTask(db, id(s, 'task')) },
    {
      name: 'getTaskTree (layers -1)',
      run: (db, s) => getTaskTree(db, id(s, 'task'), { layers: -1 }),
    },
    { name: 'listTasks', run: (db) => listTasks(db, { limit: 50 }) },
    { name: 'listSubtasks', run: (db, s) => listSubtasks(db, id(s, 'task'), 'all') },
    {
      name: 'claimTasks (limit 1)',
      run: (db, s) => claimTasks(db, { instanceId: 'bench', epoch: s.epoch as number, limit: 1 }),
    },
    {
      name: 'claimTasks (limit 20)',
      run: (db, s) => claimTasks(db, { instanceId: 'bench', epoch: s.epoch as number, limit: 20 }),
    },
    {
      name: 'updateTask (status, fenced)',
      run: (db, s) =>
        updateTask(db, id(s, 'sub'), { status: 'running' }, { epoch: s.epoch as number }),
    },
    { name: 'appendMessages (1)', run: (db, s) => appendMessages(db, id(s, 'task'), [MSG]) },
    {
      name: 'appendMessages (10)',
      run: (db, s) =>
        appendMessages(
          db,
          id(s, 'task'),
          Array.from({ length: 10 }, () => MSG),
        ),
    },
    {
      name: 'appendMessages (replay by key)',
      setup: (db, s) => appendMessages(db, id(s, 'task'), [{ ...MSG, idempotencyKey: 'm1' }]),
      run: (db, s) => appendMessages(db, id(s, 'task'), [{ ...MSG, idempotencyKey: 'm1' }]),
    },
    {
      name: 'listMessages',
      run: (db, s) => listMessages(db, id(s, 'task'), { after: 0, limit: 100 }),
    },
    {
      name: 'postBuildData (1)',
      run: (db, s) =>
        postBuildData(db, [
          {
            nodeName: 'n1',
            taskId: id(s, 'task'),
            generator: 'lshw',
            dataFormat: 'text/plain',
            dataElement: 'x'.repeat(30_000),
          },
        ]),
    },
    {
      name: 'queryBuildData (latest, verbosity 1)',
      run: (db) => queryBuildData(db, { nodeName: 'n1', latest: true, verbosity: 1 }),
    },
    {
      name: 'queryBuildData (node, verbosity 2)',
      run: (db) => queryBuildData(db, { nodeName: 'n1', verbosity: 2 }),
    },
    {
      name: 'terminateTask (recursive)',
      run: (db, s) => terminateTask(db, id(s, 'task'), { terminatedBy: 'bench', recursive: true }),
    },
    {
      name: 'rollUpResults',
      run: (db, s) =>
        rollUpResults(db, id(s, 'task'), { bubble: {}, align: {}, epoch: s.epoch as number }),
    },
    {
      name: 'requeueStrandedTasks',
      run: (db, s) => requeueStrandedTasks(db, { epoch: s.epoch as number, limit: 100 }),
    },
    {
      name: 'purgeFinishedTasks',
      run: (db) => purgeFinishedTasks(db, { olderThanDays: 1, batchSize: 100 }),
    },
    {
      name: 'claimMaintenance',
      run: (db) => claimMaintenance(db, { job: 'retention', intervalSeconds: 60 }),
    },
    { name: 'checkDatabase (health)', run: (db) => checkDatabase(db) },
    {
      name: 'abdicateLease',
      run: (db, s) => abdicateLease(db, { instanceId: 'bench', epoch: s.epoch as number }),
    },
  ];
}

async function reset(schema: BenchSchema): Promise<void> {
  await schema.query(
    'truncate tasks, result_message, build_data, active_instance, applied_event, maintenance_claim, boot_action, boot_action_status',
  );
}

async function countEach(
  schema: BenchSchema,
  db: Db,
  count: () => number,
  resetCount: () => void,
): Promise<Map<string, number>> {
  await reset(schema);
  const state: Record<string, string | number> = {};
  const counts = new Map<string, number>();
  for (const op of operations()) {
    await op.setup?.(db, state);
    resetCount();
    await op.run(db, state);
    counts.set(op.name, count());
  }
  return counts;
}

/** The local Data API emulator over the bench schema, with a cluster ARN of its own. */
export async function startEmulatorFor(
  schema: BenchSchema,
): Promise<{ emulator: DataApiEmulator; resourceArn: string; database: string }> {
  const emulator = await startDataApiEmulator({
    secrets: { [TEST_SECRET_ARN]: { username: 'postgres' } },
  });
  const resourceArn = testClusterArn(`drydock-${schema.name.replaceAll('_', '-')}`);
  emulator.addCluster(resourceArn, {
    connectionString: urlWithSchema(schema.name, { TimeZone: 'UTC' }),
    maxConnections: 8,
  });
  return { emulator, resourceArn, database: new URL(schema.url).pathname.slice(1) };
}

/**
 * Runs every store operation once through the counting wrapper on the `pg` adapter and once
 * through the `data-api` adapter against the emulator, and reports what each one cost.
 */
export async function runStatementsPhase(schema: BenchSchema): Promise<OperationCount[]> {
  const pg = countingDb(schema.storeDb(2));
  const pgCounts = await countEach(
    schema,
    pg,
    () => pg.statements,
    () => pg.reset(),
  );

  const { emulator, resourceArn, database } = await startEmulatorFor(schema);
  let apiCounts: Map<string, number>;
  try {
    const dataApi = createDataApiDb({
      resourceArn,
      secretArn: TEST_SECRET_ARN,
      database,
      endpoint: emulator.endpoint,
      region: TEST_REGION,
      credentials: TEST_CREDENTIALS,
    });
    try {
      apiCounts = await countEach(
        schema,
        dataApi,
        () => emulator.calls(resourceArn).total,
        () => emulator.resetCalls(resourceArn),
      );
    } finally {
      await dataApi.close();
    }
  } finally {
    await emulator.close();
  }
  await reset(schema);
  return operations().map(({ name }) => ({
    operation: name,
    pgStatements: pgCounts.get(name) ?? Number.NaN,
    dataApiCalls: apiCounts.get(name) ?? null,
  }));
}
