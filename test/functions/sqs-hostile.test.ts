import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DRIVERS } from '#test/support/test-db.ts';
import {
  callHttp,
  deliverSqs,
  type LoadedService,
  loadService,
  postTask,
  snapshot,
  sqsRecord,
} from './harness.ts';

const message = (extra: object = {}) => ({
  message: 'm',
  error: false,
  context_type: 'node',
  context: 'n1',
  ...extra,
});
const deep = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;

describe.each(TEST_DRIVERS)('hostile SQS records on %s', (driver) => {
  let service: LoadedService;
  let taskId: string;

  beforeAll(async () => {
    service = await loadService(driver);
    taskId = (await postTask(service)).task_id;
  });
  afterAll(async () => {
    await service?.close();
  });

  it('fails records with NUL, lone surrogates, __proto__ keys or deep nesting, writing nothing', async () => {
    const bad = [
      sqsRecord({ task_id: taskId, messages: [message({ message: 'a\u0000b' })] }),
      sqsRecord({ task_id: taskId, messages: [message({ context: 'n\ud800' })] }),
      sqsRecord({ task_id: taskId, messages: [message({ extra: { k: 'v\udfff' } })] }),
      sqsRecord(
        `{"task_id":"${taskId}","messages":[{"message":"m","error":false,"context_type":"t","context":"c","extra":{"__proto__":{"x":1}}}]}`,
      ),
      sqsRecord(
        `{"task_id":"${taskId}","messages":[{"message":"m","error":false,"context_type":"t","context":"c","extra":{"a":${deep(5_000)}}}]}`,
      ),
      sqsRecord('{"task_id": TOPSECRET}'),
    ];
    const before = await snapshot(service.db);
    const res = await deliverSqs(service.fns.messages, bad);
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      bad.map((r) => r.messageId).sort(),
    );
    expect(await snapshot(service.db)).toEqual(before);
  });

  it('scopes build-data keys per node and task-update keys per task; refuses a key replayed with another body', async () => {
    const item = {
      task_id: randomUUID(),
      generator: 'lshw',
      data_format: 'x',
      data_element: '<a/>',
    };
    const key = `k-${randomUUID()}`;
    const toA = sqsRecord({ node_name: 'node-a', items: [{ ...item, idempotency_key: key }] });
    const toB = sqsRecord({ node_name: 'node-b', items: [{ ...item, idempotency_key: key }] });
    const changed = sqsRecord({
      node_name: 'node-a',
      items: [{ ...item, idempotency_key: key, data_element: '<b/>' }],
    });
    const res = await deliverSqs(service.fns.buildData, [toA, toB, changed]);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: changed.messageId }]);
    for (const node of ['node-a', 'node-b']) {
      const read = await callHttp(service.fns.buildData, {
        method: 'GET',
        path: `/api/v1.0/nodes/${node}/builddata`,
      });
      expect(read.body.map((b: { data_element: string }) => b.data_element)).toEqual(['<a/>']);
    }

    const other = (await postTask(service)).task_id;
    const event = (id: string, retry: number) =>
      sqsRecord({
        type: 'update_task',
        task_id: id,
        retry,
        expected_version: 1,
        event_id: 'evt-shared',
      });
    const first = event(taskId, 2);
    const elsewhere = event(other, 2);
    const replayedOtherwise = event(taskId, 5);
    const updates = await deliverSqs(service.fns.tasks, [first, elsewhere, replayedOtherwise]);
    expect(updates.batchItemFailures).toEqual([{ itemIdentifier: replayedOtherwise.messageId }]);
    for (const id of [taskId, other]) {
      const task = await callHttp(service.fns.tasks, {
        method: 'GET',
        path: `/api/v1.0/tasks/${id}`,
      });
      expect(task.body.retry).toBe(2);
    }
  });
});
