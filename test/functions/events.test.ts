import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskEventSchema } from '#shared/api/schemas.ts';
import { applyTaskEvent } from '#shared/api/sqs-events.ts';
import type { Db } from '#shared/db/port.ts';
import { sql, statement } from '#shared/db/sql.ts';
import { createSqsHandler } from '#shared/triggers/sqs.ts';
import * as z from '#shared/zod.ts';
import { stdoutOf } from '#test/support/stdout.ts';
import { TEST_DRIVERS } from '#test/support/test-db.ts';
import {
  callHttp,
  deliverSqs,
  exec,
  type LoadedService,
  lambdaContext,
  loadService,
  postTask,
  scheduledEvent,
  snapshot,
  sqsEvent,
  sqsRecord,
  TEST_DESIGN_REF,
} from './harness.ts';

const SCHEDULE_INSTANCE = 'schedule-instance';

/** A promise (`fired`) that settles when `fire` is called: one step of a test waiting for another. */
const signal = () => {
  let fire = (): void => {};
  const fired = new Promise<void>((resolve) => {
    fire = resolve;
  });
  return { fire, fired };
};

describe.each(TEST_DRIVERS)('SQS consumers, the lease schedule and migrations on %s', (driver) => {
  let service: LoadedService;

  beforeAll(async () => {
    service = await loadService(driver, {
      LEASE_GRACE_SECONDS: '60',
      RETENTION_DAYS: '30',
      RETENTION_BATCH_SIZE: '1',
    });
  });
  afterAll(async () => {
    await service?.close();
  });

  const leader = (path: string, body: object) =>
    callHttp(service.fns.leader, { method: 'POST', path: `/api/v1.0/leader/${path}`, body });
  /** Ends the holder's grace now, as if it had been silent that long (no sleeping). */
  const lapse = () =>
    exec(service.db, `update active_instance set expires_at = now() - interval '1 millisecond'`);
  /** The live epoch of `instance`, claiming the lease (after ending any other holder's). */
  const leadAs = async (instance: string): Promise<number> => {
    let claim = await leader('claim', { instance_id: instance });
    if (!claim.body.held) {
      await lapse();
      claim = await leader('claim', { instance_id: instance });
    }
    expect(claim.body.held).toBe(true);
    return claim.body.epoch as number;
  };

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
    const epoch = await leadAs('orch-sqs');
    const taskId = randomUUID();
    const subtaskId = randomUUID();
    const internalId = randomUUID();
    const start = {
      type: 'update_task',
      task_id: subtaskId,
      status: 'running',
      epoch,
      event_id: 'start-1',
    };
    const records = [
      sqsRecord({
        type: 'create_task',
        task_id: taskId,
        action: 'verify_site',
        design_ref: TEST_DESIGN_REF,
      }),
      sqsRecord('{"type":"create_task",'),
      sqsRecord({ type: 'create_task', action: 'launch_rockets', design_ref: TEST_DESIGN_REF }),
      sqsRecord({ type: 'create_task', action: 'noop', design_ref: TEST_DESIGN_REF }),
      sqsRecord({ type: 'create_task', action: 'verify_site' }),
      sqsRecord({ type: 'update_task', task_id: taskId, status: 'running', sneaky: true }),
      sqsRecord({
        type: 'create_subtask',
        task_id: subtaskId,
        parent_task_id: taskId,
        action: 'deploy_node',
        epoch,
      }),
      sqsRecord(start),
      // Orchestrator writes without the lease epoch (or a stale one) fail and write nothing.
      sqsRecord({ type: 'create_subtask', parent_task_id: taskId, action: 'deploy_node' }),
      sqsRecord({ type: 'update_task', task_id: subtaskId, result: { message: 'blind' } }),
      sqsRecord({ type: 'update_task', task_id: subtaskId, status: 'complete', epoch: epoch + 1 }),
      sqsRecord({ type: 'create_task', task_id: internalId, action: 'identify_node', epoch }),
    ];
    const response = await deliverSqs(service.fns.tasks, records);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [1, 2, 3, 4, 5, 8, 9, 10].map((i) => records[i]?.messageId).sort(),
    );
    expect(await taskRow(taskId)).toMatchObject({
      status: 'queued',
      createdBy: 'sqs:AROAEXAMPLE:producer',
      ctx: { source: 'sqs', message_id: records[0]?.messageId },
    });
    expect(await taskRow(subtaskId)).toMatchObject({ status: 'running' });
    expect(await taskRow(internalId)).toMatchObject({ status: 'requested' });

    const before = await snapshot(service.db);
    const again = await deliverSqs(
      service.fns.tasks,
      [records[0], records[6], records[7]].map((r) => ({ ...(r as object) }) as never),
    );
    expect(again.batchItemFailures).toEqual([]);
    // The same event_id under a new SQS message id is also applied once.
    const resent = await deliverSqs(service.fns.tasks, [sqsRecord(start)]);
    expect(resent.batchItemFailures).toEqual([]);
    expect(await snapshot(service.db)).toEqual(before);
  });

  it('tells a top-level create from a subtask create by type, and refuses the fields of the other', async () => {
    const epoch = await leadAs('orch-sqs');
    const parent = randomUUID();
    await deliverSqs(service.fns.tasks, [
      sqsRecord({ type: 'create_task', task_id: parent, action: 'noop', epoch }),
    ]);
    const before = await snapshot(service.db);
    const refused = [
      // A parent on a top-level create, a status or retry it would drop, a subtask without epoch.
      sqsRecord({ type: 'create_task', parent_task_id: parent, action: 'deploy_node', epoch }),
      sqsRecord({
        type: 'create_task',
        action: 'verify_site',
        design_ref: TEST_DESIGN_REF,
        status: 'x',
      }),
      sqsRecord({
        type: 'create_task',
        action: 'verify_site',
        design_ref: TEST_DESIGN_REF,
        retry: 1,
      }),
      sqsRecord({ type: 'create_subtask', parent_task_id: parent, action: 'deploy_node' }),
      sqsRecord({ type: 'create_subtask', action: 'deploy_node', epoch }),
    ];
    const response = await deliverSqs(service.fns.tasks, refused);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(
      refused.map((r) => r.messageId),
    );
    expect(await snapshot(service.db)).toEqual(before);
  });

  it('logs an SQS batch and its failed records with the Lambda context keys, never the body', async () => {
    const logger = new Logger({ serviceName: 'drydock-statemgmt', logLevel: 'INFO' });
    const consume = createSqsHandler(TaskEventSchema, applyTaskEvent, {
      deps: async () => service.deps,
      logger,
    });
    // Powertools writes INFO to stdout and WARN to stderr.
    const lines: string[] = [];
    const streams = [process.stdout, process.stderr];
    const writes = streams.map((stream) => stream.write);
    for (const stream of streams) {
      stream.write = ((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      }) as typeof stream.write;
    }
    const bad = sqsRecord({ type: 'create_task', action: 'verify_site', secret: 'BODY-SECRET' });
    try {
      await consume(sqsEvent([bad]), lambdaContext('drydock-tasks'));
    } finally {
      streams.forEach((stream, i) => {
        stream.write = writes[i] as typeof stream.write;
      });
    }
    const records = lines
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
    const context = { function_name: 'drydock-tasks', function_request_id: expect.any(String) };
    expect(records.find((r) => r.message === 'SQS record failed')).toMatchObject({
      ...context,
      messageId: bad.messageId,
    });
    expect(records.find((r) => r.message === 'SQS batch processed')).toMatchObject({
      ...context,
      records: 1,
      failed: 1,
    });
    expect(lines.join('')).not.toContain('BODY-SECRET');
  });

  it("writes each SQS record's messageId on its own lines only, batches interleaved on one logger", async () => {
    // The kit and logger from the same module instances as the loaded functions.
    const { createSqsHandler: sqsHandler } = await import('#shared/triggers/sqs.ts');
    const { createLogger } = await import('#shared/logger.ts');
    const logger = createLogger({ log: { serviceName: 'drydock-statemgmt', level: 'INFO' } });
    // a1 writes its second line while b1 (another batch) is between its two; b1 writes its
    // second after a1 has ended; a2 follows a1 in its batch.
    const b1Started = signal();
    const a1Ended = signal();
    const consume = sqsHandler(
      z.lazySchema(() => z.object({ name: z.string() })),
      async ({ logger: log }, { name }) => {
        log.info('record started', { name });
        if (name === 'a1') await b1Started.fired;
        if (name === 'b1') {
          b1Started.fire();
          await a1Ended.fired;
        }
        log.info('record done', { name });
        if (name === 'a1') a1Ended.fire();
      },
      { deps: async () => ({ ...service.deps, logger }), logger },
    );
    const records = {
      a1: sqsRecord({ name: 'a1' }),
      a2: sqsRecord({ name: 'a2' }),
      b1: sqsRecord({ name: 'b1' }),
    };
    const contexts = { a: lambdaContext('drydock-tasks'), b: lambdaContext('drydock-tasks') };
    const { records: lines } = await stdoutOf(async () => {
      const answers = await Promise.all([
        consume(sqsEvent([records.a1, records.a2]), contexts.a),
        consume(sqsEvent([records.b1]), contexts.b),
      ]);
      expect(answers).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    });
    const recordLines = lines.filter((line) => String(line.message).startsWith('record '));
    const order = recordLines.map((line) => `${line.message} ${line.name}`);
    expect(order).toHaveLength(6);
    // Interleaved as arranged: b1 started before a1 was done, and was done after it.
    expect(order.indexOf('record started b1')).toBeLessThan(order.indexOf('record done a1'));
    expect(order.indexOf('record done a1')).toBeLessThan(order.indexOf('record done b1'));
    expect(order.indexOf('record done a1')).toBeLessThan(order.indexOf('record started a2'));
    for (const line of recordLines) {
      const name = line.name as keyof typeof records;
      const batch = name.startsWith('a') ? contexts.a : contexts.b;
      expect(line, `${line.message} ${name}`).toMatchObject({
        messageId: records[name].messageId,
        function_request_id: batch.awsRequestId,
      });
    }
    // The batch's own line is no record's.
    const batchLines = lines.filter((line) => line.message === 'SQS batch processed');
    expect(batchLines).toHaveLength(2);
    for (const line of batchLines) expect(line).not.toHaveProperty('messageId');
  });

  it('ends many tasks from one SQS event, once, failing the record for a task that cannot end', async () => {
    const epoch = await leadAs('orch-sqs');
    const a = randomUUID();
    const b = randomUUID();
    await deliverSqs(service.fns.tasks, [
      sqsRecord({ type: 'create_task', task_id: a, action: 'identify_node', epoch }),
      sqsRecord({ type: 'create_task', task_id: b, action: 'identify_node', epoch }),
    ]);
    const good = sqsRecord({
      type: 'complete_tasks',
      epoch,
      event_id: 'done-1',
      tasks: [
        { task_id: a, result: { status: 'success' } },
        { task_id: b, status: 'terminated' },
      ],
    });
    const stale = sqsRecord({ type: 'complete_tasks', epoch: epoch + 3, tasks: [{ task_id: a }] });
    const queuedOne = sqsRecord({
      type: 'create_task',
      action: 'verify_site',
      design_ref: TEST_DESIGN_REF,
    });
    const first = await deliverSqs(service.fns.tasks, [good, stale, queuedOne]);
    expect(first.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([stale.messageId]);
    expect(await taskRow(a)).toMatchObject({ status: 'complete', version: 2 });
    expect(await taskRow(b)).toMatchObject({ status: 'terminated', version: 2 });
    const before = await snapshot(service.db);
    const again = await deliverSqs(service.fns.tasks, [{ ...good }]);
    expect(again.batchItemFailures).toEqual([]);
    expect(await snapshot(service.db)).toEqual(before);
  });

  it('retries over SQS as over HTTP: once per event, out of attempts recorded, stale refused', async () => {
    const epoch = await leadAs('orch-sqs');
    const parent = randomUUID();
    const sub = randomUUID();
    await deliverSqs(service.fns.tasks, [
      sqsRecord({ type: 'create_task', task_id: parent, action: 'noop', epoch }),
      sqsRecord({
        type: 'create_subtask',
        task_id: sub,
        parent_task_id: parent,
        action: 'deploy_node',
        epoch,
      }),
      sqsRecord({
        type: 'update_task',
        task_id: sub,
        status: 'complete',
        epoch,
        result: { status: 'partial_success', add_successes: ['n1'], add_failures: ['n2'] },
      }),
    ]);
    const retry = sqsRecord({ type: 'retry_task', task_id: sub, epoch, max_attempts: 1 });
    expect((await deliverSqs(service.fns.tasks, [retry])).batchItemFailures).toEqual([]);
    expect(await taskRow(sub)).toMatchObject({ status: 'running' });
    const before = await snapshot(service.db);
    await deliverSqs(service.fns.tasks, [{ ...retry }]);
    expect(await snapshot(service.db)).toEqual(before);
    await deliverSqs(service.fns.tasks, [
      sqsRecord({
        type: 'update_task',
        task_id: sub,
        status: 'complete',
        epoch,
        result: { status: 'partial_success' },
      }),
    ]);
    // Past max_attempts: Drydock's message on the task, and the record is done (not a poison message).
    const exhausted = sqsRecord({ type: 'retry_task', task_id: sub, epoch, max_attempts: 1 });
    expect((await deliverSqs(service.fns.tasks, [exhausted])).batchItemFailures).toEqual([]);
    const read = await callHttp(service.fns.tasks, {
      method: 'GET',
      path: `/api/v1.0/tasks/${sub}`,
    });
    expect(read.body.retry).toBe(1);
    expect(read.body.result.details.messageList.map((m: { message: string }) => m.message)).toEqual(
      ['Retrying task for failed entities.', 'Retry requested, out of attempts.'],
    );
    const stale = sqsRecord({ type: 'retry_task', task_id: sub, epoch: epoch + 1 });
    const failed = await deliverSqs(service.fns.tasks, [stale]);
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: stale.messageId }]);
  });

  it('appends message events idempotently with contiguous sequences', async () => {
    const taskId = (await postTask(service)).task_id;
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
    const staleEpoch = sqsRecord({ task_id: taskId, messages: [message('stale')], epoch: 999 });
    const res = await deliverSqs(service.fns.messages, [
      good1,
      unknownTask,
      badShape,
      staleEpoch,
      good2,
    ]);
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [unknownTask.messageId, badShape.messageId, staleEpoch.messageId].sort(),
    );
    const before = await snapshot(service.db);
    const replay = await deliverSqs(service.fns.messages, [good2, good1]);
    expect(replay.batchItemFailures).toEqual([]);
    expect(await snapshot(service.db)).toEqual(before);
    const page = await callHttp(service.fns.messages, {
      method: 'GET',
      path: `/api/v1.0/tasks/${taskId}/messages`,
    });
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
    const stale = sqsRecord({ node_name: 'rack1-node7', items: [item], epoch: 999 });
    const res = await deliverSqs(service.fns.buildData, [good, bad, stale]);
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [bad.messageId, stale.messageId].sort(),
    );
    const before = await snapshot(service.db);
    await deliverSqs(service.fns.buildData, [good]);
    expect(await snapshot(service.db)).toEqual(before);
    const read = await callHttp(service.fns.buildData, {
      method: 'GET',
      path: '/api/v1.0/nodes/rack1-node7/builddata',
    });
    expect(read.body).toHaveLength(2);
  });

  it('ticks the lease schedule holding no lease: never renews a silent holder, recovers its work, runs retention once a day', async () => {
    const { leader: leaderFn, tasks } = service.fns;
    // Start from no lease at all: the schedule must not create one.
    await exec(service.db, 'delete from active_instance');
    await exec(service.db, `update tasks set status = 'complete' where status <> 'complete'`);
    const old = (await postTask(service)).task_id;
    await exec(
      service.db,
      `update tasks set status = 'complete', updated = now() - interval '45 days' where task_id = '${old}'`,
    );
    const work = (await postTask(service, { action: 'deploy_nodes', design_ref: TEST_DESIGN_REF }))
      .task_id;

    const first = await leaderFn.scheduledHandler(scheduledEvent(), lambdaContext());
    expect(first).toMatchObject({
      mode: 'watch',
      held: false,
      holder: null,
      live: false,
      retention: { ran: true, deletedTasks: 1 },
    });
    const noLease = await callHttp(leaderFn, { method: 'GET', path: '/api/v1.0/leader' });
    expect(noLease.status).toBe(404);

    // An orchestrator leads at once (the schedule took nothing) and claims the task.
    const epoch = await leadAs('orch-a');
    const claimed = await callHttp(tasks, {
      method: 'POST',
      path: '/api/v1.0/tasks/claim',
      body: { instance_id: 'orch-a', epoch },
    });
    expect(claimed.body.map((t: { task_id: string }) => t.task_id)).toEqual([work]);
    const leaseRow = async () =>
      (
        await service.db.query(
          statement(
            { expires: 'timestamptz', renewed: 'timestamptz' },
            sql`select expires_at as "expires", renewed_at as "renewed" from active_instance`,
          ),
        )
      )[0];
    const before = await leaseRow();
    // A duplicate delivery a moment later: the live holder's work is left alone, its lease
    // neither renewed nor taken, and retention does not run again.
    const live = await leaderFn.scheduledHandler(scheduledEvent(), lambdaContext());
    expect(live).toMatchObject({
      held: false,
      holder: 'orch-a',
      epoch,
      live: true,
      requeued: 0,
      retention: { ran: false },
    });
    expect(await leaseRow()).toEqual(before);

    // The holder falls silent past its grace: the schedule lets the lease lapse and gives the
    // dead epoch's task back, with no standby needed.
    await lapse();
    const lapsed = await leaderFn.scheduledHandler(scheduledEvent(), lambdaContext());
    expect(lapsed).toMatchObject({ held: false, holder: 'orch-a', live: false, requeued: 1 });
    expect(await leaseRow()).toEqual({ ...before, expires: expect.any(String) });
    const task = await callHttp(tasks, { method: 'GET', path: `/api/v1.0/tasks/${work}` });
    expect(task.body.status).toBe('queued');
    expect(task.body.result.details.messageList.at(-1).message).toBe(
      `Requeued: lease epoch ${epoch} that ran this task has ended`,
    );
    // A standby takes over at once, with a new epoch.
    const standby = await leader('claim', { instance_id: 'orch-b' });
    expect(standby.body).toMatchObject({ held: true, holder: 'orch-b', epoch: epoch + 1 });
  });

  it('holds the lease in the schedule only in the explicit hold mode', async () => {
    // The handler kit and config from the same module instances as the loaded functions.
    const { createLeaseScheduleHandler } = await import('#shared/triggers/schedule.ts');
    const { loadConfig } = await import('#shared/config.ts');
    const hold = loadConfig({
      ...process.env,
      LEASE_MODE: 'hold',
      LEASE_INSTANCE_ID: SCHEDULE_INSTANCE,
    });
    const tick = createLeaseScheduleHandler({
      deps: async () => ({ ...service.deps, config: hold }),
    });
    await leadAs('orch-c');
    const refused = await tick(scheduledEvent(), lambdaContext());
    expect(refused).toMatchObject({ mode: 'hold', held: false, holder: 'orch-c' });
    await lapse();
    const held = await tick(scheduledEvent(), lambdaContext());
    expect(held).toMatchObject({ mode: 'hold', held: true, holder: SCHEDULE_INSTANCE, live: true });
    const renewed = await tick(scheduledEvent(), lambdaContext());
    expect(renewed).toMatchObject({ held: true, epoch: held.epoch });
  });

  it("writes the tick's event id on the tick's lines only, whatever another invocation does meanwhile", async () => {
    // The kits and logger from the same module instances as the loaded functions.
    const { createLeaseScheduleHandler } = await import('#shared/triggers/schedule.ts');
    const { createLambdaKit } = await import('#shared/lambda-kit.ts');
    const { createLogger } = await import('#shared/logger.ts');
    const logger = createLogger({ log: { serviceName: 'drydock-statemgmt', level: 'INFO' } });
    // The tick's first statement (its event id already given) waits until another invocation
    // has written a line and ended.
    const tickWaiting = signal();
    const otherEnded = signal();
    const db: Db = {
      driver: service.deps.db.driver,
      query: async (q) => {
        tickWaiting.fire();
        await otherEnded.fired;
        return service.deps.db.query(q);
      },
      close: async () => {},
    };
    const tick = createLeaseScheduleHandler({
      deps: async () => ({ ...service.deps, db }),
      logger,
    });
    const other = createLambdaKit({ deps: async () => service.deps, logger }).handler(async () => {
      logger.info('another invocation');
    });
    const event = scheduledEvent();
    const { records } = await stdoutOf(async () => {
      const ticked = tick(event, lambdaContext());
      await tickWaiting.fired;
      await other({}, lambdaContext());
      otherEnded.fire();
      await ticked;
    });
    expect(records.find((r) => r.message === 'another invocation')).not.toHaveProperty(
      'scheduleEventId',
    );
    expect(records.find((r) => r.message === 'lease tick')).toMatchObject({
      scheduleEventId: event.id,
    });
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
