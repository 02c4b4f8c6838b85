import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  BuildDataDictSchema,
  ErrorBodySchema,
  LeaseDictSchema,
  MessageDictSchema,
  TaskDictSchema,
} from '#shared/api/schemas.ts';
import { sql, statement } from '#shared/db/sql.ts';
import { stdoutOf } from '#test/support/stdout.ts';
import { TEST_DRIVERS } from '#test/support/test-db.ts';
import {
  type ApiAnswer,
  type ApiRequest,
  apiEvent,
  callHttp,
  exec,
  type LoadedService,
  lambdaContext,
  loadService,
  postTask,
  snapshot,
  TEST_DESIGN_REF,
  TEST_PRINCIPAL,
} from './harness.ts';

describe.each(TEST_DRIVERS)('HTTP handlers on %s', (driver) => {
  let service: LoadedService;
  type Fn = keyof LoadedService['fns'];
  const call = (fn: Exclude<Fn, 'migrate'>, request: ApiRequest): Promise<ApiAnswer> =>
    callHttp(service.fns[fn], request, lambdaContext(`drydock-${fn}`));
  const createTask = (body?: object) => postTask(service, body);
  const postSubtask = (parentId: string, body: object) =>
    call('tasks', { method: 'POST', path: `/api/v1.0/tasks/${parentId}/subtasks`, body });

  /** The lease for this file's orchestrator (claimed again after the lease test gives it up). */
  const leaderEpoch = async (): Promise<number> => {
    const res = await call('leader', {
      method: 'POST',
      path: '/api/v1.0/leader/claim',
      body: { instance_id: 'orch-a', grace_seconds: 600 },
    });
    expect(res.body.held).toBe(true);
    return res.body.epoch as number;
  };

  beforeAll(async () => {
    service = await loadService(driver, { MAX_BODY_BYTES: '65536' });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('creates a task in the Drydock shape, created_by from the IAM identity, never the body', async () => {
    const res = await call('tasks', {
      method: 'POST',
      path: '/api/v1.0/tasks',
      body: { action: 'deploy_nodes', design_ref: TEST_DESIGN_REF, node_filter: null },
    });
    expect(res.status).toBe(201);
    const task = TaskDictSchema().parse(res.body);
    expect(task).toMatchObject({
      status: 'queued',
      action: 'deploy_nodes',
      created_by: TEST_PRINCIPAL,
    });
    expect(res.headers.Location).toBe(`/api/v1.0/tasks/${task.task_id}`);
    expect(res.headers.ETag).toBe('"1"');
    expect(res.headers['X-Request-Id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['X-Drydock-Req']).toBe(res.headers['X-Request-Id']);
    expect(task.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(res.body).not.toHaveProperty('request_context');
    const stored = await service.db.query(
      statement(
        { ctx: 'json' },
        sql`select request_context as "ctx" from tasks where task_id = ${task.task_id}::uuid`,
      ),
    );
    expect(stored[0]?.ctx).toMatchObject({
      source: 'api',
      principal: TEST_PRINCIPAL,
      request_id: res.headers['X-Request-Id'],
    });
    expect(JSON.stringify(stored[0]?.ctx)).not.toContain('ASIAEXAMPLEKEY');

    const forged = await call('tasks', {
      method: 'POST',
      path: '/api/v1.0/tasks',
      body: { action: 'deploy_nodes', design_ref: TEST_DESIGN_REF, created_by: 'mallory' },
    });
    expect(forged.status).toBe(400);
    expect(ErrorBodySchema().parse(forged.body).issues?.[0]?.path).toBe('body');
  });

  it('limits POST /tasks to the user actions and replays an Idempotency-Key', async () => {
    const noop = await call('tasks', {
      method: 'POST',
      path: '/api/v1.0/tasks',
      body: { action: 'noop', design_ref: TEST_DESIGN_REF },
    });
    expect(noop.status).toBe(400);
    expect(noop.body.message).toMatch(/unsupported action/i);
    const unknown = await call('tasks', {
      method: 'POST',
      path: '/api/v1.0/tasks',
      body: { action: 'launch_rockets', design_ref: TEST_DESIGN_REF },
    });
    expect(unknown.status).toBe(400);

    // The lease holder's own parentless task: any action, no design needed, never queued.
    const epoch = await leaderEpoch();
    const internal = await call('tasks', {
      method: 'POST',
      path: '/api/v1.0/tasks',
      body: { action: 'identify_node', epoch },
    });
    expect(internal.status).toBe(201);
    expect(internal.body).toMatchObject({ status: 'requested', parent_task_id: null });
    const stale = await call('tasks', {
      method: 'POST',
      path: '/api/v1.0/tasks',
      body: { action: 'noop', epoch: epoch + 1 },
    });
    expect(stale.status).toBe(412);

    const request = {
      method: 'POST',
      path: '/api/v1.0/tasks',
      headers: { 'Idempotency-Key': 'create-once-1' },
      body: { action: 'prepare_site', design_ref: TEST_DESIGN_REF },
    };
    const first = await call('tasks', request);
    const again = await call('tasks', request);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.task_id).toBe(first.body.task_id);
  });

  it('pages GET /tasks with a cursor header and filters', async () => {
    const ids = [];
    for (let i = 0; i < 3; i += 1)
      ids.push((await createTask({ action: 'verify_nodes', design_ref: TEST_DESIGN_REF })).task_id);
    const first = await call('tasks', {
      method: 'GET',
      path: '/api/v1.0/tasks',
      query: { action: 'verify_nodes', limit: '2' },
    });
    expect(first.status).toBe(200);
    z.array(TaskDictSchema()).parse(first.body);
    expect(first.body.map((t: { task_id: string }) => t.task_id)).toEqual([ids[2], ids[1]]);
    const cursor = first.headers['X-Next-Cursor'] as string;
    expect(cursor).toBeTruthy();
    expect(first.headers.Link).toContain(`cursor=${cursor}`);
    const second = await call('tasks', {
      method: 'GET',
      path: '/api/v1.0/tasks',
      query: { action: 'verify_nodes', limit: '2', cursor },
    });
    expect(second.body.map((t: { task_id: string }) => t.task_id)).toEqual([ids[0]]);
    expect(second.headers['X-Next-Cursor']).toBeUndefined();
  });

  it('answers 404 for an unknown task and 400 for a malformed id', async () => {
    const missing = await call('tasks', {
      method: 'GET',
      path: '/api/v1.0/tasks/0b0e5f52-5d1c-4f0e-9a57-9d1b0f3c2a11',
    });
    expect(missing.status).toBe(404);
    expect(ErrorBodySchema().parse(missing.body)).toMatchObject({ type: 'error', retry: false });
    const bad = await call('tasks', { method: 'GET', path: '/api/v1.0/tasks/not-a-uuid' });
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toBe('path.task_id');
  });

  it('serves the lease routes and fences claims by epoch', async () => {
    const refused = await call('tasks', {
      method: 'POST',
      path: '/api/v1.0/tasks/claim',
      body: { instance_id: 'orch-b', epoch: 1 },
    });
    expect(refused.status).toBe(412);
    const lease = await call('leader', {
      method: 'POST',
      path: '/api/v1.0/leader/claim',
      body: { instance_id: 'orch-a', grace_seconds: 60 },
    });
    expect(lease.status).toBe(200);
    expect(LeaseDictSchema().parse(lease.body)).toMatchObject({ holder: 'orch-a', held: true });
    const other = await call('leader', {
      method: 'POST',
      path: '/api/v1.0/leader/claim',
      body: { instance_id: 'orch-b' },
    });
    expect(other.body).toMatchObject({ holder: 'orch-a', held: false });
    const epoch = lease.body.epoch as number;
    const claimed = await call('tasks', {
      method: 'POST',
      path: '/api/v1.0/tasks/claim',
      body: { instance_id: 'orch-a', epoch, limit: 100 },
    });
    expect(claimed.status).toBe(200);
    expect(claimed.body.length).toBeGreaterThan(0);
    expect(claimed.body.every((t: { status: string }) => t.status !== 'queued')).toBe(true);
    const stale = await call('leader', {
      method: 'POST',
      path: '/api/v1.0/leader/renew',
      body: { instance_id: 'orch-a', epoch: epoch + 5 },
    });
    expect(stale.status).toBe(412);
    const renewed = await call('leader', {
      method: 'POST',
      path: '/api/v1.0/leader/renew',
      body: { instance_id: 'orch-a', epoch },
    });
    expect(renewed.status).toBe(200);
    const gone = await call('leader', {
      method: 'POST',
      path: '/api/v1.0/leader/abdicate',
      body: { instance_id: 'orch-a', epoch },
    });
    expect(gone.status).toBe(204);
    expect(gone.headers['Content-Type']).toBeUndefined();
    const after = await call('leader', { method: 'GET', path: '/api/v1.0/leader' });
    expect(after.body).toMatchObject({ holder: 'orch-a', active: false });
  });

  it('ends many tasks in one call, fenced by the epoch, each with its outcome', async () => {
    const epoch = await leaderEpoch();
    const one = await call('tasks', {
      method: 'POST',
      path: '/api/v1.0/tasks',
      body: { action: 'identify_node', epoch },
    });
    const two = await call('tasks', {
      method: 'POST',
      path: '/api/v1.0/tasks',
      body: { action: 'identify_node', epoch },
    });
    const tasks = [
      { task_id: one.body.task_id, result: { status: 'success', add_successes: ['n1'] } },
      { task_id: two.body.task_id, status: 'terminated' },
    ];
    const stale = await call('tasks', {
      method: 'POST',
      path: '/api/v1.0/tasks/complete',
      body: { epoch: epoch + 7, tasks },
    });
    expect(stale.status).toBe(412);
    const twice = await call('tasks', {
      method: 'POST',
      path: '/api/v1.0/tasks/complete',
      body: { epoch, tasks: [tasks[0], tasks[0]] },
    });
    expect(twice.status).toBe(400);
    const done = await call('tasks', {
      method: 'POST',
      path: '/api/v1.0/tasks/complete',
      body: { epoch, tasks },
    });
    expect(done.status).toBe(200);
    expect(done.body).toEqual({
      tasks: [
        { task_id: one.body.task_id, outcome: 'completed', status: 'complete', version: 2 },
        { task_id: two.body.task_id, outcome: 'completed', status: 'terminated', version: 2 },
      ],
    });
    const read = await call('tasks', {
      method: 'GET',
      path: `/api/v1.0/tasks/${one.body.task_id}`,
    });
    expect(read.body).toMatchObject({
      status: 'complete',
      result: { status: 'success', successes: ['n1'] },
    });
  });

  it('serves a task tree with layers, subtask errors across the whole tree, and build data', async () => {
    const root = await createTask();
    const epoch = await leaderEpoch();
    const child = await postSubtask(root.task_id, { action: 'prepare_nodes', epoch });
    expect(child.status).toBe(201);
    const grandchild = await postSubtask(child.body.task_id, { action: 'deploy_node', epoch });
    const gid = grandchild.body.task_id as string;
    const msg = await call('messages', {
      method: 'POST',
      path: `/api/v1.0/tasks/${gid}/messages`,
      body: {
        message: `${'x'.repeat(300)} failed`,
        error: true,
        context_type: 'node',
        context: 'n1',
        extra: { retry: true },
      },
    });
    expect(msg.status).toBe(201);
    const posted = await call('buildData', {
      method: 'POST',
      path: '/api/v1.0/nodes/n1/builddata',
      body: { task_id: gid, generator: 'lshw', data_format: 'text/xml', data_element: '<xml/>' },
    });
    expect(posted.status).toBe(201);

    const two = await call('tasks', {
      method: 'GET',
      path: `/api/v1.0/tasks/${root.task_id}`,
      query: { layers: '2', subtaskerrors: 'true', builddata: 'true' },
    });
    expect(two.status).toBe(200);
    expect(Object.keys(two.body).sort()).toEqual(
      ['init_task_id', root.task_id, child.body.task_id, 'subtask_errors'].sort(),
    );
    expect(two.body.init_task_id).toBe(root.task_id);
    const errors = two.body.subtask_errors;
    expect(Object.keys(errors)).toEqual([gid]);
    expect(errors[gid]).toMatchObject({ task_id: gid, details: { errorCount: 1 } });
    const message = MessageDictSchema().parse(errors[gid].details.messageList[0]);
    expect(message.message).toHaveLength(307);
    expect(message.extra).toEqual({ retry: true });
    expect(two.body[root.task_id].subtask_id_list).toEqual([child.body.task_id]);
    expect(two.body[root.task_id].build_data).toEqual([]);

    const all = await call('tasks', {
      method: 'GET',
      path: `/api/v1.0/tasks/${root.task_id}`,
      query: { layers: '-1', builddata: 'true' },
    });
    expect(Object.keys(all.body)).toHaveLength(4);
    expect(all.body[gid].build_data[0]).toMatchObject({
      generator: 'lshw',
      data_element: '<xml/>',
    });

    const one = await call('tasks', {
      method: 'GET',
      path: `/api/v1.0/tasks/${root.task_id}`,
      query: { layers: '1' },
    });
    expect(Object.keys(one.body).sort()).toEqual(['init_task_id', root.task_id].sort());

    const plain = await call('tasks', {
      method: 'GET',
      path: `/api/v1.0/tasks/${child.body.task_id}`,
    });
    TaskDictSchema().parse(plain.body);
    expect(plain.body.result.details.messageList[0].message).toMatch(/^Started subtask/);
  });

  it('applies conditional updates with If-Match and refuses stale versions and bad moves', async () => {
    const task = await createTask();
    const path = `/api/v1.0/tasks/${task.task_id}`;
    const stale = await call('tasks', {
      method: 'PATCH',
      path,
      headers: { 'If-Match': '"7"' },
      body: { result: { message: 'x' } },
    });
    expect(stale.status).toBe(409);
    const ok = await call('tasks', {
      method: 'PATCH',
      path,
      headers: { 'If-Match': '"1"' },
      body: { result: { message: 'checked', add_successes: ['n1'] } },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.result).toMatchObject({ message: 'checked', successes: ['n1'] });
    expect(ok.headers.ETag).toBe('"2"');
    const unconditional = await call('tasks', {
      method: 'PATCH',
      path,
      body: { result: { message: 'blind' } },
    });
    expect(unconditional.status).toBe(428);
    const refused = await call('tasks', {
      method: 'PATCH',
      path,
      headers: { 'If-Match': '"2"' },
      body: { status: 'complete' },
    });
    expect(refused.status).toBe(409);
    const garbage = await call('tasks', {
      method: 'PATCH',
      path,
      headers: { 'If-Match': 'yesterday' },
      body: { retry: 1 },
    });
    expect(garbage.status).toBe(400);
    const read = await call('tasks', { method: 'GET', path });
    expect(read.headers.ETag).toBe('"2"');
  });

  it('terminates recursively and then refuses new subtasks under the tree', async () => {
    const root = await createTask();
    const epoch = await leaderEpoch();
    const child = await postSubtask(root.task_id, { action: 'prepare_nodes', epoch });
    const res = await call('tasks', {
      method: 'POST',
      path: `/api/v1.0/tasks/${root.task_id}/terminate`,
      body: { recursive: true },
    });
    expect(res.status).toBe(200);
    const changed = z.array(TaskDictSchema()).parse(res.body);
    expect(changed.map((t) => t.task_id).sort()).toEqual([root.task_id, child.body.task_id].sort());
    expect(changed.every((t) => t.terminated_by === TEST_PRINCIPAL && t.terminate)).toBe(true);
    const late = await postSubtask(root.task_id, { action: 'prepare_nodes', epoch });
    expect(late.status).toBe(409);
    const epochless = await postSubtask(child.body.task_id, { action: 'prepare_nodes' });
    expect(epochless.status).toBe(428);
    const noBody = await call('tasks', {
      method: 'POST',
      path: `/api/v1.0/tasks/${child.body.task_id}/terminate`,
    });
    expect(noBody.status).toBe(200);
  });

  it('rolls subtask results up into the parent and retries a failed subtask, fenced', async () => {
    const root = await createTask();
    const epoch = await leaderEpoch();
    const child = await postSubtask(root.task_id, { action: 'prepare_nodes', epoch });
    const cid = child.body.task_id as string;
    for (const status of ['running', 'complete']) {
      const r = await call('tasks', {
        method: 'PATCH',
        path: `/api/v1.0/tasks/${cid}`,
        body: { status, epoch, result: { status: 'partial_success', add_successes: ['n7'] } },
      });
      expect(r.status).toBe(200);
    }
    const rollup = `/api/v1.0/tasks/${root.task_id}/rollup`;
    expect((await call('tasks', { method: 'POST', path: rollup })).status).toBe(400);
    expect((await call('tasks', { method: 'POST', path: rollup, body: {} })).status).toBe(428);
    const rolled = await call('tasks', { method: 'POST', path: rollup, body: { epoch } });
    expect(rolled.status).toBe(200);
    expect(rolled.body.result).toMatchObject({ status: 'partial_success', successes: ['n7'] });

    const retry = `/api/v1.0/tasks/${cid}/retry`;
    const nothing = await call('tasks', { method: 'POST', path: retry, body: { epoch } });
    expect(nothing.body).toMatchObject({ retried: false, task: { status: 'complete', retry: 0 } });
    await call('tasks', {
      method: 'PATCH',
      path: `/api/v1.0/tasks/${cid}`,
      body: { epoch, result: { add_failures: ['n8'] } },
    });
    const again = await call('tasks', {
      method: 'POST',
      path: retry,
      body: { epoch, max_attempts: 1 },
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      retried: true,
      task: { status: 'running', retry: 1, result: { status: 'success' } },
    });
    expect(again.headers.ETag).toBe(`"${again.body.task.version}"`);
    await call('tasks', {
      method: 'PATCH',
      path: `/api/v1.0/tasks/${cid}`,
      body: { epoch, status: 'complete', result: { status: 'failure' } },
    });
    const out = await call('tasks', {
      method: 'POST',
      path: retry,
      body: { epoch, max_attempts: 1 },
    });
    expect(out.status).toBe(409);
    expect(out.body.message).toMatch(/out of attempts/);
    expect((await call('tasks', { method: 'POST', path: retry, body: {} })).status).toBe(428);
  });

  it('pages messages with after/limit and a next cursor', async () => {
    const task = await createTask();
    const path = `/api/v1.0/tasks/${task.task_id}/messages`;
    const batch = Array.from({ length: 5 }, (_, i) => ({
      message: `m${i}`,
      error: i === 4,
      context_type: 'task',
      context: task.task_id,
    }));
    const appended = await call('messages', { method: 'POST', path, body: batch });
    expect(appended.status).toBe(201);
    expect(appended.body.appended.map((m: { sequence: number }) => m.sequence)).toEqual([
      1, 2, 3, 4, 5,
    ]);
    const page = await call('messages', { method: 'GET', path, query: { after: '1', limit: '2' } });
    expect(page.body.map((m: { message: string }) => m.message)).toEqual(['m1', 'm2']);
    expect(page.headers['X-Next-Cursor']).toBe('3');
    const rest = await call('messages', { method: 'GET', path, query: { after: '3' } });
    expect(rest.body.map((m: { message: string }) => m.message)).toEqual(['m3', 'm4']);
    expect(rest.headers['X-Next-Cursor']).toBeUndefined();
    const read = await call('tasks', { method: 'GET', path: `/api/v1.0/tasks/${task.task_id}` });
    expect(read.body.result.details.errorCount).toBe(1);
  });

  it('serves build data by node (latest per generator, verbosity) and by task', async () => {
    const task = await createTask();
    const node = `node-${'r'.repeat(70)}`;
    const path = `/api/v1.0/nodes/${node}/builddata`;
    const items = [
      {
        task_id: task.task_id,
        generator: 'lshw',
        data_format: 'text/xml',
        data_element: 'old',
        collected_date: '2026-01-01T00:00:00Z',
      },
      {
        task_id: task.task_id,
        generator: 'lshw',
        data_format: 'text/xml',
        data_element: 'new',
        collected_date: '2026-02-01T00:00:00Z',
      },
      { task_id: task.task_id, generator: 'lldp', data_format: 'text/xml', data_element: 'l' },
    ];
    const posted = await call('buildData', { method: 'POST', path, body: items });
    expect(posted.status).toBe(201);
    expect(posted.body.inserted).toHaveLength(3);
    const latest = await call('buildData', { method: 'GET', path });
    z.array(BuildDataDictSchema()).parse(latest.body);
    expect(latest.body.map((b: { data_element: string }) => b.data_element).sort()).toEqual([
      'l',
      'new',
    ]);
    const all = await call('buildData', {
      method: 'GET',
      path,
      query: { latest: 'false', verbosity: '1' },
    });
    expect(all.body).toHaveLength(3);
    expect(all.body[0]).not.toHaveProperty('data_element');
    const byTask = await call('tasks', {
      method: 'GET',
      path: `/api/v1.0/tasks/${task.task_id}/builddata`,
    });
    expect(byTask.body).toHaveLength(3);
    const none = await call('buildData', {
      method: 'GET',
      path: '/api/v1.0/nodes/unknown/builddata',
    });
    expect(none.status).toBe(404);
    const noTask = await call('tasks', {
      method: 'GET',
      path: '/api/v1.0/tasks/0b0e5f52-5d1c-4f0e-9a57-9d1b0f3c2a11/builddata',
    });
    expect(noTask.status).toBe(404);
  });

  it('purges finished task trees by age with a JSON answer and refuses days=0', async () => {
    const done = await createTask();
    await exec(
      service.db,
      `update tasks set status = 'complete', updated = now() - interval '40 days' where task_id = '${done.task_id}'`,
    );
    const zero = await call('tasks', {
      method: 'DELETE',
      path: '/api/v1.0/tasks',
      query: { days: '0' },
    });
    expect(zero.status).toBe(400);
    const res = await call('tasks', {
      method: 'DELETE',
      path: '/api/v1.0/tasks',
      query: { days: '30' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ days: 30, deleted_tasks: 1, more: false });
    const gone = await call('tasks', { method: 'GET', path: `/api/v1.0/tasks/${done.task_id}` });
    expect(gone.status).toBe(404);
  });

  it('answers health, extended health, versions and the committed OpenAPI document', async () => {
    const before = await snapshot(service.db);
    const health = await call('health', { method: 'GET', path: '/api/v1.0/health' });
    expect(health.status).toBe(204);
    const extended = await call('health', { method: 'GET', path: '/api/v1.0/health/extended' });
    expect(extended.status).toBe(200);
    expect(extended.body).toMatchObject({ kind: 'Status', status: 'Success', code: 200 });
    expect(await snapshot(service.db)).toEqual(before);
    const versions = await call('health', { method: 'GET', path: '/versions' });
    expect(versions.body).toEqual({ 'v1.0': { path: '/api/v1.0', status: 'stable' } });
    const doc = await call('health', { method: 'GET', path: '/api/v1.0/openapi.json' });
    const committed = JSON.parse(
      await readFile(new URL('../../functions/openapi.json', import.meta.url), 'utf8'),
    );
    expect(doc.body).toEqual(committed);
  });

  it('maps transport errors: wrong content type, empty and oversized bodies, base64 bodies', async () => {
    const path = '/api/v1.0/tasks';
    const body = JSON.stringify({ action: 'verify_site', design_ref: TEST_DESIGN_REF });
    const text = await call('tasks', {
      method: 'POST',
      path,
      body,
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(text.status).toBe(400);
    expect(text.body.message).toContain('Content-Type');
    const empty = await call('tasks', {
      method: 'POST',
      path,
      body: '',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(empty.status).toBe(400);
    const big = await call('tasks', {
      method: 'POST',
      path,
      body: { action: 'verify_site', design_ref: 'x'.repeat(70_000) },
    });
    expect(big.status).toBe(413);
    const b64 = await call('tasks', {
      method: 'POST',
      path,
      body,
      base64: true,
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
    });
    expect(b64.status).toBe(201);
    const wrong = await call('tasks', { method: 'PUT', path });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.Allow).toBe('GET, HEAD, POST, DELETE, OPTIONS');
  });

  it('answers 503 with retry when the database is unreachable, and a bare 500 for other failures', async () => {
    // The handler kit and the taxonomy must come from the same module instances as the loaded
    // functions (the harness re-imports them), or `instanceof` would not recognise the errors.
    const { createHttpHandler } = await import('#shared/http/handler.ts');
    const { createPgDb } = await import('#shared/db/pg.ts');
    const down = createPgDb({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
    const downHandler = createHttpHandler(service.fns.tasks.routes, {
      deps: async () => ({ ...service.deps, db: down }),
    });
    const res = await callHttp(
      { handler: downHandler },
      { method: 'GET', path: '/api/v1.0/tasks' },
    );
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ type: 'error', retry: true });
    const healthDown = createHttpHandler(service.fns.health.routes, {
      deps: async () => ({ ...service.deps, db: down }),
    });
    const probe = await healthDown(
      apiEvent({ method: 'GET', path: '/api/v1.0/health' }),
      lambdaContext(),
    );
    expect(probe.statusCode).toBe(503);
    await down.close();

    // A pool used after end() throws a plain Error: neither taxonomy nor outage, so a 500.
    const closed = createPgDb({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
    await closed.close();
    const broken = createHttpHandler(service.fns.tasks.routes, {
      deps: async () => ({ ...service.deps, db: closed }),
    });
    const failed = await callHttp({ handler: broken }, { method: 'GET', path: '/api/v1.0/tasks' });
    expect(failed.status).toBe(500);
    expect(failed.body.message).toBe(
      `Internal error (request id ${failed.headers['X-Request-Id']}).`,
    );
    expect(failed.body.retry).toBe(false);
  });
});

describe('request logs', () => {
  it('are one structured JSON line per request with ids, never bodies or causes in responses', async () => {
    const { TEST_DRIVERS: drivers } = await import('#test/support/test-db.ts');
    const service = await loadService(drivers.includes('pg') ? 'pg' : 'pglite', {
      LOG_LEVEL: 'INFO',
    });
    const { text, records } = await stdoutOf(async () => {
      try {
        const res = await callHttp(
          service.fns.tasks,
          {
            method: 'POST',
            path: '/api/v1.0/tasks',
            headers: { 'X-Correlation-Id': 'corr-42' },
            body: {
              action: 'verify_site',
              design_ref: 'deckhand+https://deckhand/api?token=SECRET-TOKEN-123',
            },
          },
          lambdaContext('drydock-tasks'),
        );
        expect(res.status).toBe(201);
        expect(res.headers['X-Correlation-Id']).toBe('corr-42');
      } finally {
        await service.close();
      }
    });
    const served = records.find((r) => r.message === 'request served');
    expect(served).toMatchObject({
      level: 'INFO',
      service: 'drydock-statemgmt',
      correlationId: 'corr-42',
      method: 'POST',
      path: '/api/v1.0/tasks',
      status: 201,
      function_name: 'drydock-tasks',
    });
    expect(served?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(text).not.toContain('SECRET-TOKEN-123');
    expect(text).not.toContain('ASIAEXAMPLEKEY');
  });
});
