import { beforeEach, describe, expect, it } from 'vitest';
import { completeBatch } from '#shared/api/tasks.ts';
import { createPublisher } from '#shared/notify/publisher.ts';
import { claimTasks } from '#shared/store/queue.ts';
import { recordingSink } from '#test/support/recording-sink.ts';
import { becomeLeader, queuedTask, resetTables } from '#test/support/store-fixtures.ts';
import { TEST_DRIVERS, testDatabase } from '#test/support/test-db.ts';

/**
 * A Lambda freezes once it answers, so a write's events must be delivered before the use case
 * returns (`announced`), not left for the schedule. Checked here for the batched completion,
 * whose statement writes one event per task it finishes.
 */
describe.each(TEST_DRIVERS)('events published inline after a write on %s', (driver) => {
  const t = testDatabase(driver);
  beforeEach(async () => resetTables(t.db));

  it('a batched completion delivers its events before it answers', async () => {
    const sink = recordingSink();
    const events = createPublisher({ db: t.db, sink, mode: 'inline' });
    const epoch = await becomeLeader(t.db);
    await queuedTask(t.db);
    const [task] = await claimTasks(t.db, { instanceId: 'leader-a', epoch });
    const taskId = task?.taskId ?? '';
    await events.drain(); // what the create and the claim wrote, so only the batch's event is left
    sink.got.length = 0;

    const answer = await completeBatch(
      { db: t.db, events, telemetry: undefined },
      { epoch, tasks: [{ task_id: taskId, status: 'complete' }] },
    );

    expect(answer.tasks).toMatchObject([{ task_id: taskId, outcome: 'completed' }]);
    expect(sink.got.map((e) => [e.detailType, e.detail.task_id, e.detail.new_status])).toEqual([
      ['Task Status Change', taskId, 'complete'],
    ]);
  });
});
