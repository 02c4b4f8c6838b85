import { beforeEach, describe, expect, it } from 'vitest';
import { generateBootActionKey, newBootActionId } from '#shared/bootactions/key.ts';
import { sql, statement } from '#shared/db/sql.ts';
import { LeaseLostError } from '#shared/errors.ts';
import { createPublisher } from '#shared/notify/publisher.ts';
import { createBootActionContext, reportBootAction } from '#shared/store/boot-actions.ts';
import { abdicateLease, claimLease, renewLease } from '#shared/store/lease.ts';
import {
  claimPendingEvents,
  markEventsPublished,
  purgePublishedEvents,
} from '#shared/store/outbox.ts';
import { claimTasks, completeTasks, requeueStrandedTasks } from '#shared/store/queue.ts';
import {
  createTask,
  retryTask,
  rollUpResults,
  terminateTask,
  updateTask,
} from '#shared/store/tasks.ts';
import { recordingSink } from '#test/support/recording-sink.ts';
import {
  becomeLeader,
  expireLease,
  queuedTask,
  resetTables,
} from '#test/support/store-fixtures.ts';
import { TEST_DRIVERS, type TestDb, testDatabase } from '#test/support/test-db.ts';

/** Every outbox row, oldest first. */
async function outbox(t: TestDb) {
  return t.db.query(
    statement(
      {
        id: 'int',
        type: 'text',
        taskId: 'uuid?',
        old: 'text?',
        status: 'text?',
        result: 'text?',
        version: 'int?',
        published: 'bool',
      },
      sql`select event_id as "id", detail_type as "type", task_id as "taskId", old_status as "old",
  new_status as "status", result_status as "result", version as "version", published_at is not null as "published"
from event_outbox order by event_id`,
    ),
  );
}

describe.each(TEST_DRIVERS)('event outbox on %s', (driver) => {
  const t = testDatabase(driver);
  beforeEach(async () => resetTables(t.db));

  it('writes one event per status or result change, with the version, in the same statement', async () => {
    const epoch = await becomeLeader(t.db);
    const task = await queuedTask(t.db);
    const [claimed] = await claimTasks(t.db, { instanceId: 'leader-a', epoch });
    // A change of neither status nor result announces nothing.
    await updateTask(t.db, task.taskId, { result: { message: 'working' } }, { epoch });
    const sub = (
      await createTask(t.db, { action: 'deploy_node', parentTaskId: task.taskId, epoch })
    ).task;
    await updateTask(t.db, sub.taskId, { status: 'running' }, { epoch });
    await updateTask(
      t.db,
      sub.taskId,
      { status: 'complete', result: { status: 'failure', addFailures: ['n1'] } },
      { epoch },
    );
    await rollUpResults(t.db, task.taskId, { epoch, align: {}, bubble: {} });
    await updateTask(t.db, task.taskId, { status: 'complete' }, { epoch });
    await retryTask(t.db, task.taskId, { epoch });
    await terminateTask(t.db, task.taskId, { terminatedBy: 'op', recursive: true });

    const rows = (await outbox(t)).filter((r) => r.type === 'Task Status Change');
    const mine = rows.filter((r) => r.taskId === task.taskId);
    expect(mine.map((r) => [r.old, r.status, r.result])).toEqual([
      [null, 'queued', 'incomplete'],
      ['queued', 'running', 'incomplete'],
      ['running', 'running', 'failure'], // the roll-up
      ['running', 'complete', 'failure'],
      ['complete', 'running', 'incomplete'], // the retry
      ['running', 'terminating', 'incomplete'],
    ]);
    expect(claimed?.version).toBe(mine[1]?.version);
    // Order by version: a task's events come out in version order.
    const versions = mine.map((r) => r.version ?? 0);
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
    expect(new Set(versions).size).toBe(versions.length);
    expect(rows.filter((r) => r.taskId === sub.taskId).map((r) => [r.old, r.status])).toEqual([
      [null, 'requested'],
      ['requested', 'running'],
      ['running', 'complete'],
    ]);
  });

  it('writes one event per task a batched completion finishes', async () => {
    const epoch = await becomeLeader(t.db);
    await queuedTask(t.db);
    const [task] = await claimTasks(t.db, { instanceId: 'leader-a', epoch });
    await completeTasks(t.db, {
      epoch,
      tasks: [{ taskId: task?.taskId ?? '', status: 'complete', result: { status: 'success' } }],
    });
    const rows = (await outbox(t)).filter((r) => r.taskId === task?.taskId);
    expect(rows.map((r) => [r.old, r.status, r.result])).toEqual([
      [null, 'queued', 'incomplete'],
      ['queued', 'running', 'incomplete'],
      ['running', 'complete', 'success'],
    ]);
  });

  it('writes none for a change that did not commit', async () => {
    const epoch = await becomeLeader(t.db);
    const task = await queuedTask(t.db);
    const before = (await outbox(t)).length;
    // A fenced write (stale epoch) and a refused move write nothing, events included.
    await expect(
      updateTask(t.db, task.taskId, { status: 'running' }, { epoch: epoch + 1 }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    await expect(
      updateTask(t.db, task.taskId, { status: 'complete' }, { expectedVersion: 99 }),
    ).rejects.toThrow();
    // A change rolled back with its transaction.
    await expect(
      t.db.transaction(async (tx) => {
        await updateTask(
          tx,
          task.taskId,
          { status: 'terminated' },
          { expectedVersion: task.version },
        );
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await outbox(t)).length).toBe(before);
  });

  it('announces lease takeovers, not renewals', async () => {
    const a = await claimLease(t.db, { instanceId: 'a', graceSeconds: 60 });
    await claimLease(t.db, { instanceId: 'a', graceSeconds: 60 });
    await renewLease(t.db, { instanceId: 'a', epoch: a.epoch, graceSeconds: 60 });
    await abdicateLease(t.db, { instanceId: 'a', epoch: a.epoch });
    await claimLease(t.db, { instanceId: 'b', graceSeconds: 60 });
    const sink = recordingSink();
    await createPublisher({ db: t.db, sink, mode: 'none' }).drain();
    expect(
      sink.got.map((e) => [
        e.detailType,
        e.detail.epoch,
        e.detail.holder,
        e.detail.previous_holder,
      ]),
    ).toEqual([
      ['Lease Takeover', 1, 'a', null],
      ['Lease Takeover', 2, 'b', 'a'],
    ]);
  });

  it('delivers after a crash between commit and publish, once, and again after a crash before marking', async () => {
    const epoch = await becomeLeader(t.db);
    await queuedTask(t.db);
    await queuedTask(t.db);
    await claimTasks(t.db, { instanceId: 'leader-a', epoch, limit: 2 });
    // The writer "crashed" after its commit: nothing was published. A publisher that cannot
    // reach its sink leaves every event pending and gives its claim back.
    const sink = recordingSink();
    sink.down = true;
    const publisher = createPublisher({ db: t.db, sink, mode: 'none' });
    expect(await publisher.drain()).toBe(0);
    expect((await outbox(t)).every((r) => !r.published)).toBe(true);
    sink.down = false;
    expect(await publisher.drain()).toBe(5); // the takeover, two creates, two claims
    expect(await publisher.drain()).toBe(0);
    expect(sink.got.length).toBe(5);
    expect(new Set(sink.got.map((e) => e.eventId)).size).toBe(5);

    // A publisher that delivered and died before marking: its claim lapses and the rows go out
    // again (at least once); consumers de-duplicate on (task_id, version).
    await queuedTask(t.db);
    const claimed = await claimPendingEvents(t.db, { limit: 10, claimSeconds: 0 });
    expect(claimed.length).toBe(1);
    expect(await publisher.drain()).toBe(1);
    expect(sink.got.at(-1)?.eventId).toBe(claimed[0]?.eventId);
    expect(await markEventsPublished(t.db, [claimed[0]?.eventId ?? 0])).toBe(0);
  });

  it('never hands one row to two publishers at once', async () => {
    await queuedTask(t.db);
    const first = await claimPendingEvents(t.db, { limit: 10, claimSeconds: 60 });
    const second = await claimPendingEvents(t.db, { limit: 10, claimSeconds: 60 });
    expect(first.length).toBe(1);
    expect(second.length).toBe(0);
  });

  it("requeues and terminates a dead epoch's tasks with one event each", async () => {
    const epoch = await becomeLeader(t.db);
    const task = await queuedTask(t.db);
    await claimTasks(t.db, { instanceId: 'leader-a', epoch });
    await createTask(t.db, { action: 'deploy_node', parentTaskId: task.taskId, epoch });
    await expireLease(t.db);
    const done = await requeueStrandedTasks(t.db, { limit: 10 });
    expect(done).toEqual({ requeued: 1, terminated: 1 });
    const rows = (await outbox(t)).slice(-2);
    expect(rows.map((r) => [r.old, r.status]).sort()).toEqual([
      ['requested', 'terminated'],
      ['running', 'queued'],
    ]);
  });

  it.runIf(driver === 'pg')('NOTIFYs listeners only from sessions that ask for it', async () => {
    let heard = 0;
    let wake: () => void = () => {};
    const second = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const stop = await t.db.listen?.('drydock_events', () => {
      heard += 1;
      wake();
    });
    try {
      // A Lambda's session (no setting): the trigger returns at once.
      await queuedTask(t.db);
      // A local server's session.
      const local = t.connect({ 'drydock.notify': 'on' }, 1);
      await queuedTask(local);
      await second;
      // Notifications arrive in commit order: had the first write notified, it would be first.
      expect(heard).toBe(1);
    } finally {
      await stop?.();
    }
  });

  it("announces a boot action's final status once, with the action and the deploy task", async () => {
    const task = await queuedTask(t.db, { action: 'deploy_node' });
    const key = generateBootActionKey();
    const actionId = newBootActionId();
    await createBootActionContext(t.db, {
      nodeName: 'n1',
      taskId: task.taskId,
      identityKeyHash: key.hash,
      actions: [{ actionId, actionName: 'hello', actionStatus: 'incomplete' }],
    });
    const report = (status?: 'success') =>
      reportBootAction(t.db, {
        actionId,
        identityKeyHash: key.hash,
        ...(status ? { status } : {}),
        details: [{ message: 'step', error: false }],
      });
    await report();
    await report('success');
    await expect(report('success')).rejects.toThrow();
    const sink = recordingSink();
    await createPublisher({ db: t.db, sink, mode: 'none' }).drain();
    const boot = sink.got.filter((e) => e.detailType === 'Boot Action Status');
    expect(boot.map((e) => e.detail)).toEqual([
      expect.objectContaining({
        task_id: task.taskId,
        action: 'deploy_node',
        old_status: 'incomplete',
        new_status: 'success',
        version: task.version,
        action_id: actionId,
        action_name: 'hello',
        node_name: 'n1',
      }),
    ]);
  });

  it('keeps published rows a while, then drops them; reports the backlog', async () => {
    await queuedTask(t.db);
    await queuedTask(t.db);
    expect((await purgePublishedEvents(t.db, { keepSeconds: 0, limit: 10 })).pending).toBe(2);
    await createPublisher({ db: t.db, sink: recordingSink(), mode: 'none' }).drain();
    const backlog = await purgePublishedEvents(t.db, { keepSeconds: 0, limit: 10 });
    expect(backlog).toMatchObject({ pending: 0, oldestPendingSeconds: null, purged: 2 });
  });
});
