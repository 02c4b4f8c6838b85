import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublisher } from '#shared/notify/publisher.ts';
import { EVENT_SOURCE, eventBridgeSink } from '#shared/notify/sinks.ts';
import { claimTasks } from '#shared/store/queue.ts';
import { updateTask } from '#shared/store/tasks.ts';
import {
  type EventBridgeStandIn,
  startEventBridgeStandIn,
} from '#test/support/eventbridge-stand-in.ts';
import { becomeLeader, queuedTask, resetTables } from '#test/support/store-fixtures.ts';
import { openTestDb, type TestDb } from '#test/support/test-db.ts';

/** The real SDK client against the stand-in, as a Lambda reaches EventBridge. */
function client(endpoint: string) {
  const sdk = new EventBridgeClient({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
  });
  return {
    send: (command: { input: ConstructorParameters<typeof PutEventsCommand>[0] }) =>
      sdk.send(new PutEventsCommand(command.input)),
  };
}

describe('EventBridge publishing', () => {
  let t: TestDb;
  let bridge: EventBridgeStandIn;
  beforeAll(async () => {
    t = await openTestDb('pglite');
    bridge = await startEventBridgeStandIn();
  });
  afterAll(async () => {
    await bridge.close();
    await t.close();
  });

  it('puts each event with the source, detail type and detail, up to ten per call, and keeps refused entries pending', async () => {
    await resetTables(t.db);
    const epoch = await becomeLeader(t.db);
    const tasks = [];
    for (let i = 0; i < 11; i++) tasks.push(await queuedTask(t.db));
    const [first] = await claimTasks(t.db, { instanceId: 'leader-a', epoch });
    await updateTask(
      t.db,
      first?.taskId ?? '',
      { status: 'complete', result: { status: 'failure' } },
      { epoch },
    );
    const publisher = createPublisher({
      db: t.db,
      sink: eventBridgeSink('drydock-test-events', client(bridge.endpoint)),
      mode: 'none',
    });
    bridge.refuse = new Set(['Lease Takeover']);
    // The takeover is refused: it stays pending (the rest of its call went through; the calls
    // after it wait for the next run).
    expect(await publisher.drain()).toBe(9);
    bridge.refuse = new Set();
    expect(await publisher.drain()).toBe(5);
    expect(await publisher.drain()).toBe(0);
    expect(bridge.calls).toBe(2);
    expect(bridge.entries.length).toBe(14);
    const entry = bridge.entries.at(-1);
    expect(entry).toMatchObject({
      Source: EVENT_SOURCE,
      DetailType: 'Task Status Change',
      EventBusName: 'drydock-test-events',
    });
    const detail = JSON.parse(entry?.Detail ?? '{}');
    expect(Object.keys(detail).sort()).toEqual(
      [
        'action',
        'epoch',
        'new_status',
        'old_status',
        'parent_task_id',
        'result_status',
        'task_id',
        'time',
        'version',
      ].sort(),
    );
    expect(detail).toMatchObject({
      task_id: first?.taskId,
      parent_task_id: null,
      action: 'deploy_nodes',
      old_status: 'running',
      new_status: 'complete',
      result_status: 'failure',
      epoch,
    });
    expect(detail.version).toBe((first?.version ?? 0) + 1);
    expect(Number.isNaN(Date.parse(detail.time))).toBe(false);
  });
});
