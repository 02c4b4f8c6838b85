import { beforeEach, describe, expect, it } from 'vitest';
import { sql, statement } from '#shared/db/sql.ts';
import { ValidationError } from '#shared/errors.ts';
import { appendMessages } from '#shared/store/messages.ts';
import { purgeFinishedTasks } from '#shared/store/retention.ts';
import { createTask, getTask } from '#shared/store/tasks.ts';
import { ageTask, forceTask, queuedTask, resetTables } from '#test/support/store-fixtures.ts';
import { TEST_DRIVERS, testDatabase } from '#test/support/test-db.ts';

describe.each(TEST_DRIVERS)('retention on %s', (driver) => {
  const t = testDatabase(driver);
  beforeEach(async () => resetTables(t.db));

  // Lifecycle rules are tested elsewhere: here tasks are simply put in the state retention sees.
  async function finish(taskId: string, status: 'complete' | 'terminated' = 'complete') {
    await forceTask(t.db, taskId, { status });
  }

  const count = async (table: 'tasks' | 'result_message') =>
    (
      await t.db.query(
        statement(
          { n: 'int' },
          sql`select count(*)::int as n from ${table === 'tasks' ? sql`tasks` : sql`result_message`}`,
        ),
      )
    )[0]?.n;

  it('deletes old finished trees with every subtask and message, in bounded batches', async () => {
    for (let i = 0; i < 5; i += 1) {
      const root = await queuedTask(t.db);
      const child = (await createTask(t.db, { parentTaskId: root.taskId, action: 'deploy_node' }))
        .task;
      const grandchild = (
        await createTask(t.db, { parentTaskId: child.taskId, action: 'deploy_node' })
      ).task;
      await appendMessages(t.db, grandchild.taskId, [
        { message: 'm', error: false, contextType: 'node', context: 'n' },
      ]);
      for (const id of [grandchild.taskId, child.taskId, root.taskId]) {
        await forceTask(t.db, id, { status: 'running' });
        await finish(id);
        await ageTask(t.db, id, 120);
      }
    }
    const young = await queuedTask(t.db);
    await finish(young.taskId, 'terminated');
    expect(await count('tasks')).toBe(16);

    const first = await purgeFinishedTasks(t.db, { olderThanDays: 90, batchSize: 2 });
    expect(first).toEqual({ deletedTasks: 2, more: true });
    expect(await count('tasks')).toBe(10);
    await purgeFinishedTasks(t.db, { olderThanDays: 90, batchSize: 2 });
    const last = await purgeFinishedTasks(t.db, { olderThanDays: 90, batchSize: 2 });
    expect(last).toEqual({ deletedTasks: 1, more: false });
    expect(await count('tasks')).toBe(1);
    expect(await count('result_message')).toBe(0);
    expect((await getTask(t.db, young.taskId)).status).toBe('terminated');
  });

  it('never deletes a running task, nor a finished tree with an unfinished subtask', async () => {
    const running = await queuedTask(t.db);
    await forceTask(t.db, running.taskId, { status: 'running' });
    await ageTask(t.db, running.taskId, 365);
    const root = await queuedTask(t.db);
    const child = (await createTask(t.db, { parentTaskId: root.taskId, action: 'deploy_node' }))
      .task;
    await forceTask(t.db, child.taskId, { status: 'running' });
    await forceTask(t.db, root.taskId, { status: 'running' });
    await finish(root.taskId);
    await ageTask(t.db, root.taskId, 365);
    expect(await purgeFinishedTasks(t.db, { olderThanDays: 1, batchSize: 100 })).toEqual({
      deletedTasks: 0,
      more: false,
    });
    expect(await count('tasks')).toBe(3);
  });

  it('refuses days below one (Drydock accepted 0 and negatives)', async () => {
    await expect(
      purgeFinishedTasks(t.db, { olderThanDays: 0, batchSize: 10 }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      purgeFinishedTasks(t.db, { olderThanDays: -5, batchSize: 10 }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      purgeFinishedTasks(t.db, { olderThanDays: 1.5, batchSize: 10 }),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});
