import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { loadHttpFunctions } from '#infra/local/functions.ts';
import { TaskDictSchema } from '#shared/api/schemas.ts';
import { sql, statement } from '#shared/db/sql.ts';
import { DeployFlow } from '#test/support/deploy-flow.ts';
import { ageTask, forceTask } from '#test/support/store-fixtures.ts';
import { TEST_DRIVERS } from '#test/support/test-db.ts';
import { type RunningServer, request, startServer } from './harness.ts';

const DESIGN = 'deckhand+https://deckhand.example/api/v1.0/revisions/4/rendered-documents';
const RETENTION_DAYS = 45;
/** The headers Drydock's python client session sends with every request. */
const CLIENT_HEADERS = {
  'X-Context-Marker': 'a3c9e0f2-7d1b-4c55-9e2a-0b6f1d2e3c4a',
  'X-End-User': 'shipyard',
  'User-Agent': 'python-requests/2.31.0',
};

/**
 * What Drydock's own clients send (drydock_client/client.py and session.py: get_tasks,
 * get_task, create_task, delete_tasks with its defaults) and the HTTP niceties falcon gave
 * them (OPTIONS with Allow, HEAD, its boolean spellings), against the local server.
 */
describe.each(TEST_DRIVERS)("Drydock's clients over HTTP on %s", (driver) => {
  let server: RunningServer;
  const api = (method: string, path: string, body?: unknown) =>
    request(server.url, method, `/api/v1.0${path}`, {
      headers: CLIENT_HEADERS,
      ...(body === undefined ? {} : { body }),
    });

  beforeAll(async () => {
    server = await startServer(driver, { RETENTION_DAYS: String(RETENTION_DAYS) });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('GET /tasks without limit returns every task with its messages, read in pages no Data API response could refuse', async () => {
    // A listing that fits one statement, messages included, costs one Data API call.
    const small = (await api('POST', '/tasks', { action: 'verify_site', design_ref: DESIGN })).body
      .task_id as string;
    const note = { message: 'noted', error: false, context_type: 'node', context: 'n1' };
    expect((await api('POST', `/tasks/${small}/messages`, [note, note])).status).toBe(201);
    await server.eventsDelivered();
    server.dataApi?.resetCalls();
    const one = await api('GET', '/tasks');
    expect(one.body.map((task: { task_id: string }) => task.task_id)).toContain(small);
    const listed = one.body.find((task: { task_id: string }) => task.task_id === small);
    expect(listed.result.details.messageList).toHaveLength(2);
    if (server.dataApi) expect(server.dataApi.calls().ExecuteStatement).toBe(1);

    // 600 tasks with 80-node filters (about 2.5 MB of rows) and one task with 500 messages of
    // 1 KB: both far past the Data API's 1 MiB per response, so paging is not optional.
    await server.db.query(
      statement(
        {},
        sql`insert into tasks (action, status, design_ref, node_filter, created_by)
select 'verify_nodes', 'complete', 'https://designs.example/' || g,
  jsonb_build_object('filter_set_type', 'union', 'filter_set', jsonb_build_array(jsonb_build_object(
    'filter_type', 'union',
    'node_names', (select jsonb_agg('rack' || g || '-node' || n) from generate_series(1, 80) n)))),
  'bulk-loader'
from generate_series(1, 600) g`,
      ),
    );
    const chatty = (await api('POST', '/tasks', { action: 'deploy_nodes', design_ref: DESIGN }))
      .body.task_id as string;
    const messages = Array.from({ length: 500 }, (_, i) => ({
      message: `step ${i + 1} ${'x'.repeat(1000)}`,
      error: i % 50 === 0,
      context_type: 'node',
      context: `n${i % 7}`,
    }));
    expect((await api('POST', `/tasks/${chatty}/messages`, messages)).status).toBe(201);

    await server.eventsDelivered();
    server.dataApi?.resetCalls();
    const all = await api('GET', '/tasks');
    const calls = server.dataApi?.calls().ExecuteStatement;
    expect(all.status).toBe(200);
    // The answer is bounded (4 MiB in the Lambda envelope); what did not fit is one Link away,
    // and walking the links lists every task exactly once, newest first.
    const tasks = z.array(TaskDictSchema()).parse(all.body);
    let link = all.headers.get('link');
    for (let answers = 1; link; answers += 1) {
      expect(answers).toBeLessThan(10);
      const next = /^<\/api\/v1\.0([^>]*)>; rel="next"$/.exec(link)?.[1] as string;
      expect(next).toMatch(/^\/tasks\?cursor=/);
      const more = await api('GET', next);
      tasks.push(...z.array(TaskDictSchema()).parse(more.body));
      link = more.headers.get('link');
    }
    expect(tasks.length).toBeGreaterThanOrEqual(601);
    expect(new Set(tasks.map((t) => t.task_id)).size).toBe(tasks.length);
    expect(tasks[0]?.task_id).toBe(chatty); // newest first
    const [counted] = await server.db.query(
      statement({ n: 'int' }, sql`select count(*)::int as n from tasks`),
    );
    expect(tasks).toHaveLength(counted?.n as number);
    // A task embeds its messages as GET /tasks/{id} does: the first 512 KiB of them, and where
    // the rest are.
    const first = tasks[0] as z.infer<ReturnType<typeof TaskDictSchema>>;
    const list = first.result.details.messageList;
    const single = await api('GET', `/tasks/${chatty}`);
    expect(list).toEqual(single.body.result.details.messageList);
    expect(first.truncated?.messages).toEqual(single.body.truncated.messages);
    const next = first.truncated?.messages?.next ?? '';
    expect(next).toMatch(/^\/api\/v1\.0\/tasks\//);
    const rest = await api('GET', `${next.slice('/api/v1.0'.length)}&limit=1000`);
    expect([...list, ...rest.body].map((m) => m.sequence)).toEqual(messages.map((_, i) => i + 1));
    expect(first.result.details.errorCount).toBe(10);
    // A task without messages embeds none (the oldest, bar the small listing's task).
    expect(tasks.at(-2)?.result.details.messageList).toEqual([]);
    if (calls !== undefined) {
      // One statement per page of tasks and per page of their messages, each under 1 MiB.
      expect(calls).toBeGreaterThan(3);
      expect(calls).toBeLessThan(30);
    }

    // With limit: today's pages, without messages.
    const page = await api('GET', '/tasks?limit=5');
    expect(page.body).toHaveLength(5);
    expect(page.headers.get('x-next-cursor')).toBeTruthy();
    expect(page.body[0].result.details.messageList).toEqual([]);
  }, 120_000);

  it('DELETE /tasks as delete_tasks() sends it (days missing, empty or None) uses the configured default', async () => {
    const aged = async (days: number) => {
      const id = (await api('POST', '/tasks', { action: 'verify_site', design_ref: DESIGN })).body
        .task_id as string;
      await forceTask(server.db, id, { status: 'complete' });
      await ageTask(server.db, id, days);
      return id;
    };
    for (const query of ['?days=None', '?days=', '']) {
      const old = await aged(RETENTION_DAYS + 5);
      const recent = await aged(RETENTION_DAYS - 5);
      const res = await api('DELETE', `/tasks${query}`);
      expect(res.status, query).toBe(200);
      expect(res.body).toMatchObject({
        message: 'Tables purged successfully.',
        days: RETENTION_DAYS,
        more: false,
      });
      expect(res.body.deleted_tasks).toBeGreaterThanOrEqual(1);
      expect((await api('GET', `/tasks/${old}`)).status).toBe(404);
      expect((await api('GET', `/tasks/${recent}`)).status).toBe(200);
    }
    expect((await api('DELETE', '/tasks?days=30')).body.days).toBe(30);
  });

  it('reads query booleans in all of Drydock\u2019s spellings', async () => {
    const id = (await api('POST', '/tasks', { action: 'verify_site', design_ref: DESIGN })).body
      .task_id as string;
    for (const yes of ['true', 'True', 'TRUE', 'yes', 'Yes', 'on', 'ON', 't', 'T', '1', 'y', '']) {
      const res = await api('GET', `/tasks/${id}?builddata=${yes}`);
      expect(res.status, yes).toBe(200);
      expect(res.body, yes).toHaveProperty('build_data', []);
    }
    for (const no of ['false', 'False', 'no', 'NO', 'off', 'Off', 'f', 'F', '0', 'n']) {
      const res = await api('GET', `/tasks/${id}?builddata=${no}`);
      expect(res.status, no).toBe(200);
      expect(res.body, no).not.toHaveProperty('build_data');
    }
    expect((await api('GET', `/tasks/${id}?builddata=maybe`)).status).toBe(400);
    const topLevel = await api('GET', '/tasks?top_level=Yes&limit=1');
    expect(topLevel.status).toBe(200);
  });

  it('answers OPTIONS with Allow on every route, and HEAD on every GET route as GET without its body', async () => {
    const task = (await api('POST', '/tasks', { action: 'verify_site', design_ref: DESIGN })).body
      .task_id as string;
    await api('POST', '/nodes/n1/builddata', {
      task_id: task,
      generator: 'lshw',
      data_format: 'text/xml',
      data_element: '<x/>',
    });
    const routes = (await loadHttpFunctions()).flatMap((fn) => fn.routes);
    const paths = new Map<string, Set<string>>();
    for (const route of routes) {
      const path = route.path.replace('{task_id}', task).replace('{node_name}', 'n1');
      paths.set(path, (paths.get(path) ?? new Set()).add(route.method));
    }
    expect(paths.size).toBeGreaterThan(15);
    for (const [path, methods] of paths) {
      const options = await request(server.url, 'OPTIONS', path);
      expect(options.status, path).toBe(200);
      const allow = (options.headers.get('allow') ?? '').split(', ');
      expect(allow, path).toEqual(expect.arrayContaining([...methods, 'OPTIONS']));
      if (!methods.has('GET')) continue;
      expect(allow, path).toContain('HEAD');
      const get = await fetch(`${server.url}${path}`);
      const getBody = Buffer.from(await get.arrayBuffer());
      const head = await fetch(`${server.url}${path}`, { method: 'HEAD' });
      expect(head.status, path).toBe(get.status);
      expect(head.headers.get('content-type'), path).toBe(get.headers.get('content-type'));
      expect(Number(head.headers.get('content-length')), path).toBe(getBody.length);
      expect((await head.arrayBuffer()).byteLength, path).toBe(0);
    }
    // A path that does not exist is still a 404, whatever the method.
    expect((await request(server.url, 'OPTIONS', '/api/v1.0/nope')).status).toBe(404);
    expect((await request(server.url, 'HEAD', '/api/v1.0/nope')).status).toBe(404);
  });

  it('get_task(subtaskerrors=True) names every subtask with errors, however large the tree', async () => {
    const flow = new DeployFlow(server.url, 'orch-subtask-errors');
    await flow.lead();
    const root = await flow.startWide(14);
    // The tree is larger than one answer holds: its last subtasks are not in the tree's answer.
    const whole = await api('GET', `/tasks/${root}?layers=-1`);
    expect(whole.body.truncated.tasks.shown).toBeLessThan(15);
    const ids = whole.body[root].subtask_id_list as string[];
    const first = ids[0] as string;
    const last = ids.at(-1) as string;
    expect(whole.body[last]).toBeUndefined();
    await flow.message(first, 'the first subtask failed', true, 'node', 'wide');
    await flow.message(last, 'the last subtask failed', true, 'node', 'wide');

    const answer = await api('GET', `/tasks/${root}?subtaskerrors=true`);
    expect(answer.status).toBe(200);
    const errors = answer.body.subtask_errors;
    expect(Object.keys(errors).sort()).toEqual([first, last].sort());
    expect(errors[last]).toMatchObject({ task_id: last, details: { errorCount: 1 } });
    expect(errors[last].details.messageList.map((m: { message: string }) => m.message)).toEqual([
      'the last subtask failed',
    ]);
    // Every task with errors came: nothing was cut.
    expect(answer.body.truncated?.tasks).toBeUndefined();

    // With layers (Drydock walks the whole tree whatever layers says) and build data, as the
    // client builds it: the tree still does not fit, but the tasks with errors come first.
    const layered = await api('GET', `/tasks/${root}?builddata=true&subtaskerrors=true&layers=-1`);
    expect(layered.status).toBe(200);
    expect(Object.keys(layered.body.subtask_errors).sort()).toEqual([first, last].sort());
    expect(layered.body.truncated.tasks.shown).toBeLessThan(15);
    expect(layered.body[last]).toMatchObject({ task_id: last, build_data: [] });
  });

  it('serves get_task as the client asks for it, and create_task with a null node filter', async () => {
    const created = await api('POST', '/tasks', {
      action: 'verify_site',
      design_ref: DESIGN,
      node_filter: null,
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-correlation-id')).toBe(CLIENT_HEADERS['X-Context-Marker']);
    const id = created.body.task_id as string;
    const res = await api('GET', `/tasks/${id}?builddata=true&subtaskerrors=true&layers=-1`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ init_task_id: id, subtask_errors: {} });
    expect(res.body[id].build_data).toEqual([]);
  });
});
