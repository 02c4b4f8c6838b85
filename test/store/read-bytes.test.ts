import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDataApiClient,
  type DataApiClient,
  type ExecuteStatementOutput,
} from '#shared/db/data-api-client.ts';
import {
  messageAnswerBytes,
  READ_BUDGET_BYTES,
  ROW_FRAMING_BYTES,
  TASK_BOUNDS,
} from '#shared/store/bounds.ts';
import * as store from '#test/support/store.ts';
import { answerBytesOf, controlChars, queuedTask } from '#test/support/store-fixtures.ts';
import { openTestDb, TEST_DRIVERS, type TestDb } from '#test/support/test-db.ts';

/**
 * Reads count the bytes they return as the Data API carries them (values as JSON text, escaped
 * once, and each row's framing), so one read stays within `READ_BUDGET_BYTES` of a Data API
 * result whatever the values hold. Measured here through the emulator: the size of `records` in
 * each answer, against what the read counted.
 */

/**
 * A Data API client that measures the answers' `records` as JSON: the largest since `reset()`,
 * and how many answers that was over.
 */
function measuringClient(
  inner: DataApiClient,
): DataApiClient & { reset(): void; largest(): { bytes: number; answers: number } } {
  let largest = 0;
  let answers = 0;
  return {
    async executeStatement(input, options) {
      const out: ExecuteStatementOutput = await inner.executeStatement(input, options);
      largest = Math.max(largest, Buffer.byteLength(JSON.stringify(out.records ?? [])));
      answers += 1;
      return out;
    },
    beginTransaction: (input, options) => inner.beginTransaction(input, options),
    commitTransaction: (input, options) => inner.commitTransaction(input, options),
    rollbackTransaction: (input, options) => inner.rollbackTransaction(input, options),
    reset: () => {
      largest = 0;
      answers = 0;
    },
    largest: () => ({ bytes: largest, answers }),
  };
}

const tiny = { message: 'm', error: false, contextType: 'task', context: 'c' };
/** One read past the budget: the first row, returned even when alone past it, or a task row. */
const ONE_ROW = TASK_BOUNDS.rowBytes + ROW_FRAMING_BYTES.task;

describe.skipIf(!TEST_DRIVERS.includes('data-api'))('read sizes on the Data API', () => {
  let t: TestDb;
  let client: ReturnType<typeof measuringClient>;
  let db: TestDb['db'];
  const framing: Record<string, number> = {};

  beforeAll(async () => {
    t = await openTestDb('data-api');
    const options = t.dataApi?.adapterOptions() ?? {};
    client = measuringClient(createDataApiClient(options));
    db = t.dataApi?.open({ client }) as TestDb['db'];
  });
  afterAll(async () => {
    console.log(`row framing measured on the Data API emulator: ${JSON.stringify(framing)}`);
    await t.close();
  });

  /**
   * Bytes of `records` in the largest answer of `read`'s statements; a read that never reached
   * the measuring client fails here rather than passing on an earlier read's size.
   */
  async function measure(read: () => Promise<unknown>): Promise<number> {
    client.reset();
    await read();
    const { bytes, answers } = client.largest();
    expect(answers).toBeGreaterThan(0);
    return bytes;
  }

  const answerBytes = (taskId: string) => answerBytesOf(t.db, taskId);

  it('counts at least the framing each shape of row has', async () => {
    const task = await queuedTask(t.db, { action: 'verify_site' });
    const alone = await measure(() => store.getTask(db, task.taskId));
    await store.appendMessages(
      t.db,
      task.taskId,
      Array.from({ length: 500 }, () => tiny),
    );
    const embedded = await measure(() => store.getTask(db, task.taskId));
    framing.embeddedMessage = (embedded - alone) / 500 - messageAnswerBytes(tiny);
    const tree = await measure(() => store.getTaskTree(db, task.taskId, { layers: -1 }));
    framing.treeMessage = (tree - alone) / 500 - messageAnswerBytes(tiny);
    const page = await measure(() => store.listMessages(db, task.taskId, { after: 0, limit: 500 }));
    framing.message = page / 500 - messageAnswerBytes(tiny);
    const ofTasks = await measure(() =>
      store.listMessagesOfTasks(db, [{ taskId: task.taskId, from: 1, to: 500 }], {
        maxBytes: READ_BUDGET_BYTES,
      }),
    );
    framing.messageOfTasks = ofTasks / 500 - messageAnswerBytes(tiny);
    // The every-task listing's first statement: the task rows, then the message rows.
    const listed = await measure(() =>
      store.listTasksWithin(
        db,
        { status: 'queued', action: 'verify_site' },
        { maxTasks: 1, maxBytes: READ_BUDGET_BYTES },
        { perTask: 500, rows: 500, maxBytes: READ_BUDGET_BYTES },
      ),
    );
    const listedAlone = await measure(() =>
      store.listTasksWithin(
        db,
        { status: 'queued', action: 'verify_site' },
        { maxTasks: 1, maxBytes: READ_BUDGET_BYTES },
      ),
    );
    framing.listedMessage = (listed - listedAlone) / 500 - messageAnswerBytes(tiny);

    const parent = await queuedTask(t.db);
    for (let i = 0; i < 20; i += 1) {
      await store.createTask(t.db, { action: 'prepare_nodes', parentTaskId: parent.taskId });
    }
    const subtasks = await store.listSubtasks(t.db, parent.taskId, 'all');
    const child = await answerBytes(subtasks[0]?.taskId as string);
    framing.task = (await measure(() => store.listSubtasks(db, parent.taskId, 'all'))) / 20 - child;
    framing.taskPage =
      (await measure(() => store.listTasks(db, { parentTaskId: parent.taskId, limit: 20 }))) / 20 -
      child;

    const item = {
      nodeName: 'framing-node',
      taskId: task.taskId,
      generator: 'lshw',
      dataFormat: 'text/plain',
      dataElement: 'x'.repeat(120_000),
    };
    await store.postBuildData(t.db, [item]);
    const chunks = await measure(() =>
      store.queryBuildData(db, { nodeName: item.nodeName, verbosity: 2 }),
    );
    // Ten chunk rows, each with the metadata; the payload once, as JSON text.
    framing.buildData =
      (chunks - (120_000 + 2)) / 10 -
      (JSON.stringify(item.nodeName).length +
        JSON.stringify(item.generator).length +
        JSON.stringify(item.dataFormat).length);

    expect(framing.embeddedMessage).toBeLessThanOrEqual(ROW_FRAMING_BYTES.embeddedMessage);
    expect(framing.treeMessage).toBeLessThanOrEqual(ROW_FRAMING_BYTES.embeddedMessage);
    expect(framing.message).toBeLessThanOrEqual(ROW_FRAMING_BYTES.message);
    expect(framing.messageOfTasks).toBeLessThanOrEqual(ROW_FRAMING_BYTES.listedMessage);
    expect(framing.listedMessage).toBeLessThanOrEqual(ROW_FRAMING_BYTES.listedMessage);
    expect(framing.task).toBeLessThanOrEqual(ROW_FRAMING_BYTES.task);
    expect(framing.taskPage).toBeLessThanOrEqual(ROW_FRAMING_BYTES.task);
    expect(framing.buildData).toBeLessThanOrEqual(ROW_FRAMING_BYTES.buildData);
  });

  it('keeps every read within its budget when values escape six times over', async () => {
    const task = await queuedTask(t.db);
    for (let i = 0; i < 3; i += 1) {
      await store.appendMessages(
        t.db,
        task.taskId,
        Array.from({ length: 10 }, () => ({ ...tiny, message: controlChars(10_000) })),
      );
    }
    const parent = await queuedTask(t.db);
    for (let i = 0; i < 24; i += 1) {
      const { task: sub } = await store.createTask(t.db, {
        action: 'prepare_nodes',
        parentTaskId: parent.taskId,
      });
      await store.updateTask(t.db, sub.taskId, { result: { message: controlChars(9_000) } });
      await store.appendMessages(t.db, sub.taskId, [{ ...tiny, message: controlChars(10_000) }]);
    }
    for (let batch = 0; batch < 3; batch += 1) {
      await store.postBuildData(
        t.db,
        Array.from({ length: 100 }, (_, i) => ({
          nodeName: 'escaped-node',
          taskId: task.taskId,
          generator: `${controlChars(1000)}${batch * 100 + i}`,
          dataFormat: controlChars(256),
          dataElement: 'x',
        })),
      );
    }
    const reads: [string, () => Promise<unknown>][] = [
      ['a task', () => store.getTask(db, task.taskId)],
      ['its messages', () => store.listMessages(db, task.taskId, { after: 0, limit: 1000 })],
      ['a tree', () => store.getTaskTree(db, parent.taskId, { layers: -1 })],
      ['subtasks', () => store.listSubtasks(db, parent.taskId, 'all')],
      ['a page of tasks', () => store.listTasks(db, { limit: 1000 })],
      [
        'every task with messages',
        () =>
          store.listTasksWithin(
            db,
            {},
            { maxTasks: 500, maxBytes: 384 * 1024 },
            { perTask: 1000, rows: 2000, maxBytes: 384 * 1024 },
          ),
      ],
      [
        'messages of tasks',
        () =>
          store.listMessagesOfTasks(db, [{ taskId: task.taskId, from: 1, to: 30 }], {
            maxBytes: READ_BUDGET_BYTES,
          }),
      ],
      ['build data', () => store.queryBuildData(db, { nodeName: 'escaped-node', verbosity: 1 })],
      [
        'latest build data',
        () => store.queryBuildData(db, { nodeName: 'escaped-node', latest: true, verbosity: 1 }),
      ],
      [
        'build data with payloads',
        () => store.queryBuildData(db, { nodeName: 'escaped-node', verbosity: 2 }),
      ],
      [
        'a recursive terminate',
        () => store.terminateTask(db, parent.taskId, { terminatedBy: 'tester', recursive: true }),
      ],
    ];
    // Names the API accepts fill the budget long before the limit on `latest` too (300
    // generators, about 7,900 bytes each as the read counts them): nothing bounds the kept rows'
    // metadata, so that read cannot leave its running size out.
    const latest = await store.queryBuildData(db, {
      nodeName: 'escaped-node',
      latest: true,
      verbosity: 1,
    });
    expect(latest.length).toBeLessThan(100);
    expect(latest.nextCursor).not.toBeNull();
    for (const [name, read] of reads) {
      // The every-task listing's first statement has two budgets: its tasks, then their messages.
      const bound =
        name === 'every task with messages' ? 2 * 384 * 1024 : READ_BUDGET_BYTES + ONE_ROW;
      expect(await measure(read), name).toBeLessThanOrEqual(bound);
    }
  });
});
