import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, statement } from '#shared/db/sql.ts';
import { TEST_DRIVERS } from '#test/support/test-db.ts';
import {
  answer,
  apiEvent,
  exec,
  type LoadedService,
  lambdaContext,
  loadService,
  scheduledEvent,
  snapshot,
  sqsEvent,
  sqsRecord,
} from './harness.ts';

const DESIGN = 'deckhand+https://deckhand.example/api/v1.0/revisions/7/rendered-documents';
const SCHEDULE_INSTANCE = 'schedule-instance';

describe.each(TEST_DRIVERS)('SQS consumers, the lease schedule and migrations on %s', (driver) => {
  let service: LoadedService;

  beforeAll(async () => {
    service = await loadService(driver, {
      LEASE_INSTANCE_ID: SCHEDULE_INSTANCE,
      LEASE_GRACE_SECONDS: '1',
      RETENTION_DAYS: '30',
      RETENTION_BATCH_SIZE: '1',
    });
  });
  afterAll(async () => {
    await service?.close();
  });

  const taskRow = async (taskId: string) =>
    (
      await service.db.query(
        statement(
          { status: 'text', createdBy: 'text?', version: 'int', ctx: 'json?' },
          sql`select status, created_by as "createdBy", version, request_context as "ctx"
from tasks where task_id = ${taskId}::uuid`,
        ),
      )
    )[0];

  it('applies task events one by one: bad records fail alone, redelivery writes nothing', async () => {
    const taskId = randomUUID();
    const subtaskId = randomUUID();
    const records = [
      sqsRecord({
        type: 'create_task',
        task_id: taskId,
        action: 'verify_site',
        design_ref: DESIGN,
      }),
      sqsRecord('{"type":"create_task",'),
      sqsRecord({ type: 'create_task', action: 'launch_rockets', design_ref: DESIGN }),
      sqsRecord({ type: 'create_task', action: 'noop', design_ref: DESIGN }),
      sqsRecord({ type: 'create_task', action: 'verify_site' }),
      sqsRecord({ type: 'update_task', task_id: taskId, status: 'running', sneaky: true }),
      sqsRecord({
        type: 'create_task',
        task_id: subtaskId,
        parent_task_id: taskId,
        action: 'deploy_node',
      }),
      sqsRecord({ type: 'update_task', task_id: taskId, status: 'running', event_id: 'start-1' }),
    ];
    const response = await service.fns.tasks.sqsHandler(sqsEvent(records), lambdaContext());
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [1, 2, 3, 4, 5].map((i) => records[i]?.messageId).sort(),
    );
    expect(await taskRow(taskId)).toMatchObject({
      status: 'running',
      createdBy: 'sqs:AROAEXAMPLE:producer',
      ctx: { source: 'sqs', message_id: records[0]?.messageId },
    });
    expect(await taskRow(subtaskId)).toMatchObject({ status: 'requested' });

    const before = await snapshot(service.db);
    const again = await service.fns.tasks.sqsHandler(
      sqsEvent([records[0], records[6], records[7]].map((r) => ({ ...(r as object) }) as never)),
      lambdaContext(),
    );
    expect(again.batchItemFailures).toEqual([]);
    // The same event_id under a new SQS message id is also applied once.
    const resent = await service.fns.tasks.sqsHandler(
      sqsEvent([
        sqsRecord({ type: 'update_task', task_id: taskId, status: 'running', event_id: 'start-1' }),
      ]),
      lambdaContext(),
    );
    expect(resent.batchItemFailures).toEqual([]);
    expect(await snapshot(service.db)).toEqual(before);
  });

  it('appends message events idempotently with contiguous sequences', async () => {
    const create = answer(
      await service.fns.tasks.handler(
        apiEvent({
          method: 'POST',
          path: '/api/v1.0/tasks',
          body: { action: 'verify_site', design_ref: DESIGN },
        }),
        lambdaContext(),
      ),
    );
    const taskId = create.body.task_id as string;
    const message = (text: string, error = false) => ({
      message: text,
      error,
      context_type: 'node',
      context: 'n1',
    });
    const good1 = sqsRecord({ task_id: taskId, messages: [message('a'), message('b', true)] });
    const unknownTask = sqsRecord({ task_id: randomUUID(), messages: [message('lost')] });
    const badShape = sqsRecord({ task_id: taskId, messages: [{ message: 'no flags' }] });
    const good2 = sqsRecord({ task_id: taskId, messages: [message('c')] });
    const res = await service.fns.messages.sqsHandler(
      sqsEvent([good1, unknownTask, badShape, good2]),
      lambdaContext(),
    );
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [unknownTask.messageId, badShape.messageId].sort(),
    );
    const before = await snapshot(service.db);
    const replay = await service.fns.messages.sqsHandler(sqsEvent([good2, good1]), lambdaContext());
    expect(replay.batchItemFailures).toEqual([]);
    expect(await snapshot(service.db)).toEqual(before);
    const page = answer(
      await service.fns.messages.handler(
        apiEvent({ method: 'GET', path: `/api/v1.0/tasks/${taskId}/messages` }),
        lambdaContext(),
      ),
    );
    expect(
      page.body.map((m: { sequence: number; message: string }) => [m.sequence, m.message]),
    ).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
  });

  it('stores build-data events idempotently', async () => {
    const taskId = randomUUID();
    const item = {
      task_id: taskId,
      generator: 'lldp',
      data_format: 'text/xml',
      data_element: '<l/>',
    };
    const good = sqsRecord({
      node_name: 'rack1-node7',
      items: [item, { ...item, generator: 'lshw' }],
    });
    const bad = sqsRecord({ node_name: 'rack1-node7', items: [{ ...item, data_element: '' }] });
    const res = await service.fns.buildData.sqsHandler(sqsEvent([good, bad]), lambdaContext());
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }]);
    const before = await snapshot(service.db);
    await service.fns.buildData.sqsHandler(sqsEvent([good]), lambdaContext());
    expect(await snapshot(service.db)).toEqual(before);
    const read = answer(
      await service.fns.buildData.handler(
        apiEvent({ method: 'GET', path: '/api/v1.0/nodes/rack1-node7/builddata' }),
        lambdaContext(),
      ),
    );
    expect(read.body).toHaveLength(2);
  });

  it('ticks the lease schedule: claims, requeues a dead epoch’s work, runs retention once a day', async () => {
    const { leader, tasks } = service.fns;
    // An old finished task for retention, and a queued one for the stranded-work check.
    const old = answer(
      await tasks.handler(
        apiEvent({
          method: 'POST',
          path: '/api/v1.0/tasks',
          body: { action: 'verify_site', design_ref: DESIGN },
        }),
        lambdaContext(),
      ),
    ).body.task_id as string;
    await exec(
      service.db,
      `update tasks set status = 'complete', updated = now() - interval '45 days' where task_id = '${old}'`,
    );
    await exec(service.db, `update tasks set status = 'complete' where status <> 'complete'`);
    const work = answer(
      await tasks.handler(
        apiEvent({
          method: 'POST',
          path: '/api/v1.0/tasks',
          body: { action: 'deploy_nodes', design_ref: DESIGN },
        }),
        lambdaContext(),
      ),
    ).body.task_id as string;

    const first = await leader.scheduledHandler(scheduledEvent(), lambdaContext());
    expect(first).toMatchObject({
      held: true,
      holder: SCHEDULE_INSTANCE,
      retention: { ran: true, deletedTasks: 1 },
    });
    const epoch1 = first.epoch as number;
    // A duplicate delivery a moment later renews but does not run retention again.
    const duplicate = await leader.scheduledHandler(scheduledEvent(), lambdaContext());
    expect(duplicate).toMatchObject({ held: true, epoch: epoch1, retention: { ran: false } });

    // The schedule's instance claims the task, then goes silent; another instance takes over.
    const claimed = answer(
      await tasks.handler(
        apiEvent({
          method: 'POST',
          path: '/api/v1.0/tasks/claim',
          body: { instance_id: SCHEDULE_INSTANCE, epoch: epoch1 },
        }),
        lambdaContext(),
      ),
    );
    expect(claimed.body.map((t: { task_id: string }) => t.task_id)).toEqual([work]);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const takeover = answer(
      await leader.handler(
        apiEvent({
          method: 'POST',
          path: '/api/v1.0/leader/claim',
          body: { instance_id: 'other', grace_seconds: 1 },
        }),
        lambdaContext(),
      ),
    );
    expect(takeover.body).toMatchObject({ held: true, holder: 'other', epoch: epoch1 + 1 });
    const notHolder = await leader.scheduledHandler(scheduledEvent(), lambdaContext());
    expect(notHolder).toMatchObject({ held: false, holder: 'other', requeued: 0 });

    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const back = await leader.scheduledHandler(scheduledEvent(), lambdaContext());
    expect(back).toMatchObject({ held: true, epoch: epoch1 + 2, requeued: 1 });
    const task = answer(
      await tasks.handler(
        apiEvent({ method: 'GET', path: `/api/v1.0/tasks/${work}` }),
        lambdaContext(),
      ),
    );
    expect(task.body.status).toBe('queued');
    expect(task.body.result.details.messageList.at(-1).message).toMatch(/^Requeued/);
  });

  it('refuses an event that is not the scheduled one', async () => {
    await expect(
      service.fns.leader.scheduledHandler({ source: 'aws.s3' }, lambdaContext()),
    ).rejects.toThrow(/Invalid event/);
  });

  it('migrates idempotently: a second run applies nothing', async () => {
    const result = await service.fns.migrate.handler();
    expect(result.applied).toEqual([]);
    expect(result.current).toBeGreaterThanOrEqual(1);
  });

  it('fails the migration (and so the deploy) when the database is ahead of this build', async () => {
    await exec(
      service.db,
      `insert into schema_migrations (version, name, checksum) values (9999, '9999_future', 'x')`,
    );
    try {
      await expect(service.fns.migrate.handler()).rejects.toThrow(/does not know/);
    } finally {
      await exec(service.db, 'delete from schema_migrations where version = 9999');
    }
  });
});
