import { beforeEach, describe, expect, it } from 'vitest';
import { sql, statement } from '#shared/db/sql.ts';
import { LeaseLostError, ValidationError } from '#shared/errors.ts';
import { abdicateLease } from '#shared/store/lease.ts';
import { appendMessages } from '#shared/store/messages.ts';
import { claimTasks, completeTasks, readQueueHealth } from '#shared/store/queue.ts';
import { createTask, getTask, updateTask } from '#shared/store/tasks.ts';
import {
  ageTask,
  answerBytesOf,
  becomeLeader,
  queuedTask,
  resetTables,
} from '#test/support/store-fixtures.ts';
import { TEST_DRIVERS, testDatabase } from '#test/support/test-db.ts';

const HOUR = 3600;

describe.each(TEST_DRIVERS)('queue health on %s', (driver) => {
  const t = testDatabase(driver);
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

describe.each(TEST_DRIVERS)('batched completion on %s', (driver) => {
  const t = testDatabase(driver);
  beforeEach(async () => resetTables(t.db));

  it('ends many tasks in one statement under one epoch, each with its outcome', async () => {
    const epoch = await becomeLeader(t.db, 'orch');
    const [a, b] = await claimTasks(t.db, {
      instanceId: 'orch',
      epoch,
      limit: 2,
      // claimed in creation order
    }).then(async (none) => {
      expect(none).toEqual([]);
      await queuedTask(t.db);
      await queuedTask(t.db);
      return claimTasks(t.db, { instanceId: 'orch', epoch, limit: 2 });
    });
    const waiting = await queuedTask(t.db);
    const missing = '00000000-0000-4000-8000-000000000001';
    const batch = [
      {
        taskId: a?.taskId as string,
        result: { status: 'success' as const, message: 'done', addSuccesses: ['n1', 'n2'] },
      },
      { taskId: b?.taskId as string, status: 'terminated' as const },
      { taskId: waiting.taskId },
      { taskId: missing },
    ];
    const first = await completeTasks(t.db, { epoch, tasks: batch });
    expect(first.outcomes.map((o) => [o.outcome, o.status])).toEqual([
      ['completed', 'complete'],
      ['completed', 'terminated'],
      ['refused', 'queued'],
      ['missing', null],
    ]);
    expect(first.outcomes[0]?.version).toBe((a?.version ?? 0) + 1);
    const done = await getTask(t.db, a?.taskId as string);
    expect(done).toMatchObject({
      status: 'complete',
      resultStatus: 'success',
      resultMessage: 'done',
      resultSuccesses: ['n1', 'n2'],
    });
    // A replay moves nothing again.
    const again = await completeTasks(t.db, { epoch, tasks: batch.slice(0, 2) });
    expect(again.outcomes.map((o) => o.outcome)).toEqual(['already', 'already']);
    expect(again.outcomes[0]?.version).toBe(first.outcomes[0]?.version);
    // The finished ones left the queue table; the waiting one is still claimable.
    const [next] = await claimTasks(t.db, { instanceId: 'orch', epoch });
    expect(next?.taskId).toBe(waiting.taskId);
  });

  it('writes nothing under a stale epoch, applies an event once and refuses a task twice', async () => {
    const old = await becomeLeader(t.db, 'orch-a');
    await queuedTask(t.db);
    await queuedTask(t.db);
    const [x, y] = await claimTasks(t.db, { instanceId: 'orch-a', epoch: old, limit: 2 });
    await abdicateLease(t.db, { instanceId: 'orch-a', epoch: old });
    const live = await becomeLeader(t.db, 'orch-b');
    const tasks = [{ taskId: x?.taskId as string }, { taskId: y?.taskId as string }];
    await expect(completeTasks(t.db, { epoch: old, tasks })).rejects.toBeInstanceOf(LeaseLostError);
    expect((await getTask(t.db, x?.taskId as string)).status).toBe('running');
    const once = await completeTasks(t.db, {
      epoch: live,
      tasks: tasks.slice(0, 1),
      eventKey: 'e1',
    });
    expect(once).toMatchObject({ duplicate: false, outcomes: [{ outcome: 'completed' }] });
    const replay = await completeTasks(t.db, { epoch: live, tasks, eventKey: 'e1' });
    expect(replay.duplicate).toBe(true);
    expect(replay.outcomes.map((o) => o.outcome)).toEqual(['already', 'refused']);
    expect((await getTask(t.db, y?.taskId as string)).status).toBe('running');
    await expect(
      completeTasks(t.db, { epoch: live, tasks: [tasks[0], tasks[0]] as typeof tasks }),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});

describe.each(TEST_DRIVERS)('the size of a claimed row on %s', (driver) => {
  const t = testDatabase(driver);
  beforeEach(async () => resetTables(t.db));

  const sizeOf = (taskId: string) => answerBytesOf(t.db, taskId);
  /** The size as the trigger computes it from every field: written wrong, then read back. */
  const recomputed = async (taskId: string) => {
    await t.db.query(
      statement({}, sql`update tasks set answer_bytes = -1 where task_id = ${taskId}::uuid`),
    );
    return sizeOf(taskId);
  };
  /**
   * A claim with the size trigger off, so the size stored is the claim's own figure: with it on, a
   * wrong figure would fail the trigger's check and be recomputed, and the test could not see it.
   */
  const claimWithoutTrigger = async (request: Parameters<typeof claimTasks>[1]) => {
    await t.db.query(
      statement({}, sql`alter table tasks disable trigger tasks_answer_bytes_update`),
    );
    try {
      return await claimTasks(t.db, request);
    } finally {
      await t.db.query(
        statement({}, sql`alter table tasks enable trigger tasks_answer_bytes_update`),
      );
    }
  };

  it('is the trigger’s own figure after a claim writes it, and after a stamp or size written by hand', async () => {
    // A stamp JSON escapes (quote, newline, a control character) and one longer than the last.
    const first = 'orch "a"\n\u0001';
    const second = `orch-b-${'é'.repeat(40)}`;
    const epoch = await becomeLeader(t.db, first);
    const task = await queuedTask(t.db);
    const [claimed] = await claimWithoutTrigger({ instanceId: first, epoch, limit: 1 });
    expect(claimed?.claimedBy).toBe(first);
    const stamped = await sizeOf(task.taskId);
    expect(stamped).toBe(await recomputed(task.taskId));
    // Requeued, then claimed by a successor with a longer stamp.
    await t.db.query(
      statement({}, sql`update tasks set status = 'queued' where task_id = ${task.taskId}::uuid`),
    );
    await abdicateLease(t.db, { instanceId: first, epoch });
    const next = await becomeLeader(t.db, second);
    await claimWithoutTrigger({ instanceId: second, epoch: next, limit: 1 });
    const restamped = await sizeOf(task.taskId);
    // Each stamp as JSON text, as the size trigger counts it (to_json escapes as JSON.stringify).
    const bytes = (stamp: string) => Buffer.byteLength(JSON.stringify(stamp));
    expect(restamped).toBe((stamped as number) - bytes(first) + bytes(second));
    expect(restamped).toBe(await recomputed(task.taskId));
    // A stamp changed without the size, and a size written by hand: the trigger recomputes.
    await t.db.query(
      statement({}, sql`update tasks set claimed_by = 'x' where task_id = ${task.taskId}::uuid`),
    );
    const handStamped = await sizeOf(task.taskId);
    expect(handStamped).toBe(await recomputed(task.taskId));
    await t.db.query(
      statement({}, sql`update tasks set answer_bytes = 5 where task_id = ${task.taskId}::uuid`),
    );
    expect(await sizeOf(task.taskId)).toBe(handStamped);
  });
});
