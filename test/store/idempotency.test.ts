import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConflictError, UnprocessableError } from '#shared/errors.ts';
import { postBuildData, queryBuildData } from '#shared/store/build-data.ts';
import { createTask, getTask, listSubtasks, updateTask } from '#shared/store/tasks.ts';
import type { NewBuildData } from '#shared/store/types.ts';
import { queuedTask } from '#test/support/store-fixtures.ts';
import { TEST_DRIVERS, testDatabase } from '#test/support/test-db.ts';

const item = (over: Partial<NewBuildData> = {}): NewBuildData => ({
  nodeName: 'n1',
  taskId: randomUUID(),
  generator: 'lshw',
  dataFormat: 'text/xml',
  dataElement: '<x/>',
  ...over,
});

describe.each(TEST_DRIVERS)('scoped idempotency keys on %s', (driver) => {
  const t = testDatabase(driver);

  it('keeps a task key per parent: a top-level key never answers for a subtask', async () => {
    const key = `k-${randomUUID()}`;
    const top = await queuedTask(t.db, { requestKey: key, requestHash: 'h1' });
    const parent = await queuedTask(t.db);
    const sub = await createTask(t.db, {
      parentTaskId: parent.taskId,
      action: 'noop',
      requestKey: key,
      requestHash: 'h1',
    });
    expect(sub.created).toBe(true);
    expect(sub.task.taskId).not.toBe(top.taskId);
    expect(sub.task.parentTaskId).toBe(parent.taskId);
    const again = await createTask(t.db, {
      parentTaskId: parent.taskId,
      action: 'noop',
      requestKey: key,
      requestHash: 'h1',
    });
    expect([again.created, again.task.taskId]).toEqual([false, sub.task.taskId]);
  });

  it('refuses a key replayed with another request (422) and writes nothing', async () => {
    const key = `k-${randomUUID()}`;
    const first = await queuedTask(t.db, { requestKey: key, requestHash: 'h1' });
    await expect(
      createTask(t.db, {
        action: 'deploy_nodes',
        designRef: 'https://designs.example.com/other.yaml',
        status: 'queued',
        requestKey: key,
        requestHash: 'h2',
      }),
    ).rejects.toBeInstanceOf(UnprocessableError);
    // Keys stored before fingerprints existed replay as before.
    const legacy = await queuedTask(t.db, { requestKey: `legacy-${key}` });
    const replay = await createTask(t.db, {
      action: 'deploy_nodes',
      status: 'queued',
      requestKey: `legacy-${key}`,
      requestHash: 'h9',
    });
    expect([replay.created, replay.task.taskId]).toEqual([false, legacy.taskId]);
    expect((await getTask(t.db, first.taskId)).version).toBe(1);
  });

  it('refuses a subtask id that exists under another parent (409)', async () => {
    const [a, b] = [await queuedTask(t.db), await queuedTask(t.db)];
    const id = randomUUID();
    const register = (parent: string) =>
      createTask(t.db, {
        taskId: id,
        parentTaskId: parent,
        action: 'noop',
        requestKey: `subtask:${id}`,
        requestHash: 'h',
      });
    expect((await register(a.taskId)).created).toBe(true);
    expect((await register(a.taskId)).created).toBe(false);
    await expect(register(b.taskId)).rejects.toBeInstanceOf(ConflictError);
    expect(await listSubtasks(t.db, b.taskId, 'all')).toEqual([]);
  });

  it('keeps a build-data key per node and refuses one replayed with another payload', async () => {
    const key = `k-${randomUUID()}`;
    const taskId = randomUUID();
    const a = await postBuildData(t.db, [
      item({ nodeName: 'node-a', taskId, idempotencyKey: key }),
    ]);
    const b = await postBuildData(t.db, [
      item({ nodeName: 'node-b', taskId, idempotencyKey: key }),
    ]);
    expect([a.inserted.length, b.inserted.length]).toEqual([1, 1]);
    const replay = await postBuildData(t.db, [
      item({ nodeName: 'node-a', taskId, idempotencyKey: key }),
    ]);
    expect(replay).toEqual({ inserted: [], duplicates: 1 });
    for (const batch of [
      [item({ nodeName: 'node-a', taskId, idempotencyKey: key, dataElement: '<y/>' })],
      [
        item({ nodeName: 'node-c', taskId, idempotencyKey: `${key}-2` }),
        item({ nodeName: 'node-c', taskId, idempotencyKey: `${key}-2`, generator: 'other' }),
      ],
      [
        item({ nodeName: 'node-d', taskId }),
        item({ nodeName: 'node-a', taskId, idempotencyKey: key, dataFormat: 'text/plain' }),
      ],
    ]) {
      await expect(postBuildData(t.db, batch)).rejects.toBeInstanceOf(UnprocessableError);
    }
    const stored = await queryBuildData(t.db, { taskId, verbosity: 1 });
    expect(stored.map((s) => s.nodeName).sort()).toEqual(['node-a', 'node-b']);
  });

  it('refuses an applied event key that comes back with another change', async () => {
    const task = await queuedTask(t.db);
    const key = `sqs:${task.taskId}:${randomUUID()}`;
    const change = { result: { addSuccesses: ['n1'] } };
    await updateTask(t.db, task.taskId, change, { eventKey: key, eventHash: 'h1' });
    const again = await updateTask(t.db, task.taskId, change, { eventKey: key, eventHash: 'h1' });
    expect(again.version).toBe(2);
    await expect(
      updateTask(t.db, task.taskId, { retry: 3 }, { eventKey: key, eventHash: 'h2' }),
    ).rejects.toBeInstanceOf(UnprocessableError);
    expect((await getTask(t.db, task.taskId)).retry).toBe(0);
  });
});
