import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql, statement } from '#shared/db/sql.ts';
import { abdicateLease } from '#shared/store/lease.ts';
import { appendMessages } from '#shared/store/messages.ts';
import { claimTasks, readQueueHealth } from '#shared/store/queue.ts';
import { createTask, updateTask } from '#shared/store/tasks.ts';
import { ageTask, becomeLeader, queuedTask, resetTables } from '#test/support/store-fixtures.ts';
import { openTestDb, TEST_DRIVERS, type TestDb } from '#test/support/test-db.ts';

const HOUR = 3600;

describe.each(TEST_DRIVERS)('queue health on %s', (driver) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb(driver);
  });
  afterAll(async () => t.close());
  beforeEach(async () => resetTables(t.db));

  it('is empty on an empty database', async () => {
    const health = await readQueueHealth(t.db, { staleAfterSeconds: HOUR, listLimit: 10 });
    expect(health).toMatchObject({
      staleAfterSeconds: HOUR,
      leaseEpoch: null,
      queued: 0,
      oldestQueued: null,
      running: 0,
      stale: 0,
      stranded: 0,
      stuck: [],
    });
    expect(health.dbNow).toMatch(/Z$/);
  });

  it('counts the queue and names its oldest task with its age on the database clock', async () => {
    const first = await queuedTask(t.db, { action: 'prepare_site' });
    await ageTask(t.db, first.taskId, 2);
    await queuedTask(t.db);
    await queuedTask(t.db);
    const health = await readQueueHealth(t.db, { staleAfterSeconds: HOUR, listLimit: 10 });
    expect(health.queued).toBe(3);
    expect(health.oldestQueued).toMatchObject({ taskId: first.taskId, action: 'prepare_site' });
    // Two days, give or take the test's own run time.
    expect(health.oldestQueued?.ageSeconds).toBeGreaterThan(2 * 86_400 - 60);
    expect(health.oldestQueued?.ageSeconds).toBeLessThan(2 * 86_400 + 60);
  });

  it('reports running tasks that are stale or stranded by a dead epoch, longest idle first', async () => {
    const deadEpoch = await becomeLeader(t.db, 'orch-a');
    const [strandedTask, busyTask, quietTask] = await Promise.all([
      queuedTask(t.db),
      queuedTask(t.db),
      queuedTask(t.db),
    ]);
    const claimed = await claimTasks(t.db, { instanceId: 'orch-a', epoch: deadEpoch, limit: 3 });
    expect(claimed).toHaveLength(3);
    // orch-a dies; orch-b takes over: whatever orch-a claimed is stranded until requeued.
    await abdicateLease(t.db, { instanceId: 'orch-a', epoch: deadEpoch });
    const liveEpoch = await becomeLeader(t.db, 'orch-b');
    expect(liveEpoch).toBe(deadEpoch + 1);
    // Move two of them to the live epoch (as a requeue and reclaim would), then age them: one
    // keeps reporting messages (busy), the other has been silent for two hours (stale).
    await t.db.query(
      statement(
        {},
        sql`update tasks set claimed_epoch = ${liveEpoch}::bigint, updated = now() - interval '2 hours'
where task_id in (${busyTask?.taskId}::uuid, ${quietTask?.taskId}::uuid)`,
      ),
    );
    await appendMessages(t.db, busyTask?.taskId as string, [
      { message: 'still deploying', error: false, contextType: 'node', context: 'n1' },
    ]);
    // A subtask started by the live leader, silent for three hours: stale, not stranded.
    // (Registering it posts a message on its parent, the busy task.)
    const { task: subtask } = await createTask(t.db, {
      action: 'deploy_node',
      parentTaskId: busyTask?.taskId as string,
    });
    await updateTask(t.db, subtask.taskId, { status: 'running' }, { epoch: liveEpoch });
    await t.db.query(
      statement(
        {},
        sql`update tasks set updated = now() - interval '3 hours' where task_id = ${subtask.taskId}::uuid`,
      ),
    );
    await queuedTask(t.db);

    const health = await readQueueHealth(t.db, { staleAfterSeconds: HOUR, listLimit: 10 });
    expect(health).toMatchObject({ leaseEpoch: liveEpoch, queued: 1, running: 4 });
    expect(health.stale).toBe(2);
    expect(health.stranded).toBe(1);
    expect(health.stuck.map((task) => [task.taskId, task.stale, task.stranded])).toEqual([
      [subtask.taskId, true, false],
      [quietTask?.taskId, true, false],
      [strandedTask?.taskId, false, true],
    ]);
    expect(health.stuck[0]).toMatchObject({
      parentTaskId: busyTask?.taskId,
      action: 'deploy_node',
      status: 'running',
      // The orchestrator's update that started it stamped it with the live epoch.
      claimedEpoch: liveEpoch,
    });
    expect(health.stuck[0]?.idleSeconds).toBeGreaterThan(3 * HOUR - 60);
    expect(health.stuck[2]?.claimedEpoch).toBe(deadEpoch);

    // A looser bound leaves only the stranded one; the list limit caps the list, not the counts.
    const loose = await readQueueHealth(t.db, { staleAfterSeconds: 4 * HOUR, listLimit: 10 });
    expect(loose.stuck.map((task) => task.taskId)).toEqual([strandedTask?.taskId]);
    const capped = await readQueueHealth(t.db, { staleAfterSeconds: HOUR, listLimit: 1 });
    expect(capped.stuck).toHaveLength(1);
    expect(capped.stale).toBe(2);
  });
});
