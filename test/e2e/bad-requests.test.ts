import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema } from '#shared/api/schemas.ts';
import { snapshot } from '#test/functions/harness.ts';
import { TEST_DRIVERS } from '#test/support/test-db.ts';
import { type RunningServer, request, startServer, takeLease } from './harness.ts';
import { DESIGN, item, message, task } from './request-bodies.ts';

const UNKNOWN = '6f1c1c8e-9a4b-4e43-a7a2-0d5c1e2b9f10';
const MAX_BODY_BYTES = 200_000;

interface BadRequest {
  name: string;
  method: string;
  /** Under /api/v1.0 unless it starts with /api/. `{T}`: the seeded task; `"{E}"`: the lease epoch. */
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
}

const json = { 'Content-Type': 'application/json' };
/** Build data under a task that does not exist: whatever a case gets past, nothing is written. */
const unknownItem = (extra: object = {}) => item({ task_id: UNKNOWN, ...extra });

/** A node's report on an action, with `key` as its X-Bootaction-Key. */
const nodeReport = (name: string, key: string | undefined, status: number): BadRequest => ({
  name,
  method: 'POST',
  path: '/bootactions/01ARZ3NDEKTSV4RRFFQ69G5FAV',
  body: { status: 'success' },
  ...(key === undefined ? {} : { headers: { 'X-Bootaction-Key': key } }),
  status,
});
/** The orchestrator's boot-action context for node n1. */
const nodeContext = (name: string, body: object, status: number): BadRequest => ({
  name,
  method: 'POST',
  path: '/bootactions/nodes/n1',
  body,
  status,
});

/**
 * The rows of one route: a name, the body (undefined: none), the status it must be refused with,
 * and any headers.
 */
const route =
  (method: string, path: string) =>
  (name: string, body: unknown, status: number, headers?: Record<string, string>): BadRequest => ({
    name,
    method,
    path,
    ...(body === undefined ? {} : { body }),
    ...(headers ? { headers } : {}),
    status,
  });
const postTask = route('POST', '/tasks');
const patchTask = route('PATCH', '/tasks/{T}');
const postMessages = route('POST', '/tasks/{T}/messages');
const postClaim = route('POST', '/tasks/claim');
const postBuildData = route('POST', '/nodes/n1/builddata');
const postSubtask = route('POST', '/tasks/{T}/subtasks');
const postRollup = route('POST', '/tasks/{T}/rollup');
/** A GET or a DELETE of `path` (its query is what the case is about), with no body. */
const get = (name: string, path: string, status: number) =>
  route('GET', path)(name, undefined, status);
const del = (name: string, path: string, status: number) =>
  route('DELETE', path)(name, undefined, status);

/** Every entry must be refused with its status and write nothing. */
const CASES: BadRequest[] = [
  // Malformed, truncated, empty or mistyped bodies
  postTask('truncated JSON', '{"action":"verify_site",', 400, json),
  postTask('JSON cut mid-string', '{"action":"verify_site","design_ref":"deck', 400, json),
  postTask('not JSON at all', 'action=verify_site', 400, json),
  postTask('empty body', '', 400, json),
  postTask('no body', undefined, 400),
  postTask('text/plain content type', JSON.stringify(task({})), 400, {
    'Content-Type': 'text/plain',
  }),
  postTask('XML content type', '<task/>', 400, { 'Content-Type': 'application/xml' }),
  postTask('no content type', JSON.stringify(task({})), 400, { 'Content-Type': '' }),
  postTask('array body', [], 400),
  postTask('null body', 'null', 400, json),
  postTask('string body', '"verify_site"', 400, json),
  postTask('number body', '42', 400, json),
  // Wrong types
  postTask('action is a number', task({ action: 5 }), 400),
  postTask('design_ref is a number', task({ design_ref: 42 }), 400),
  postTask('node_filter is a string', task({ node_filter: 'all' }), 400),
  postTask(
    'node_filter with a bad filter_type',
    task({
      node_filter: { filter_set_type: 'union', filter_set: [{ filter_type: 'sideways' }] },
    }),
    400,
  ),
  postTask(
    'node_filter with an unknown key',
    task({ node_filter: { filter_set_type: 'union', filter_set: [], everything: true } }),
    400,
  ),
  {
    name: 'terminate recursive is a string',
    method: 'POST',
    path: '/tasks/{T}/terminate',
    body: { recursive: 'yes' },
    status: 400,
  },
  postMessages('message error flag is a string', message({ error: 'false' }), 400),
  postMessages('message extra is a string', message({ extra: '{}' }), 400),
  postMessages('message ts is not a timestamp', message({ ts: 'yesterday' }), 400),
  postClaim('claim epoch is a string', { instance_id: 'orch-a', epoch: '1' }, 400),
  postClaim('claim epoch is a fraction', { instance_id: 'orch-a', epoch: 1.5 }, 400),
  // Unknown and missing fields
  postTask('missing action', { design_ref: DESIGN }, 400),
  postTask('missing design_ref', { action: 'verify_site' }, 400),
  postTask('created_by in the body', task({ created_by: 'mallory' }), 400),
  postTask('status in the body', task({ status: 'running' }), 400),
  postMessages('message without its flags', { message: 'x' }, 400),
  postMessages('message with an unknown field', message({ level: 'Error' }), 400),
  postMessages('empty message batch', [], 400),
  postBuildData('build data missing fields', {}, 400),
  postClaim('claim without epoch', { instance_id: 'orch-a' }, 400),
  patchTask('update with nothing to change', {}, 400),
  patchTask('update with an unknown field', { retry: 1, owner: 'me' }, 400),
  get('unknown query parameter', '/tasks?colour=blue', 400),
  get('repeated query parameter', '/tasks?limit=1&limit=2', 400),
  // Invalid UUIDs
  get('task id not a UUID', '/tasks/not-a-uuid', 400),
  get('task id a number', '/tasks/12345', 400),
  {
    name: 'PATCH on a non-UUID',
    method: 'PATCH',
    path: '/tasks/zzz',
    body: { retry: 1 },
    status: 400,
  },
  {
    name: 'messages of a non-UUID',
    method: 'POST',
    path: '/tasks/xyz/messages',
    body: message(),
    status: 400,
  },
  get('parent_task_id filter not a UUID', '/tasks?parent_task_id=nope', 400),
  postSubtask('subtask id not a UUID', { action: 'noop', task_id: 'nope' }, 400),
  postBuildData('build data task id not a UUID', item({ task_id: 'bad' }), 400),
  // Unknown actions and statuses
  postTask('unknown action', task({ action: 'launch_rockets' }), 400),
  postTask('internal action on POST /tasks', task({ action: 'noop' }), 400),
  postTask('action in capitals', task({ action: 'VERIFY_SITE' }), 400),
  postSubtask('unknown subtask action', { action: 'reboot_everything' }, 400),
  get('unknown status filter', '/tasks?status=finished', 400),
  get('unknown action filter', '/tasks?action=launch', 400),
  patchTask('unknown status change', { status: 'done' }, 400),
  patchTask('unknown result status', { result: { status: 'great' } }, 400),
  postRollup(
    'unknown roll-up action filter',
    { epoch: '{E}', bubble: { action_filter: 'bogus' } },
    400,
  ),
  postRollup('roll-up option misspelt', { epoch: '{E}', align: { reset: false } }, 400),
  get('boolean not a boolean', '/tasks/{T}?builddata=maybe', 400),
  postTask(
    'credentials in design_ref',
    task({ design_ref: 'https://admin:s3cret@deckhand/x' }),
    400,
  ),
  postTask(
    'token-only credentials in design_ref',
    task({ design_ref: 'https://token@deckhand/x' }),
    400,
  ),
  postTask(
    'unsupported design_ref scheme',
    task({ design_ref: 'ftp://designs.example.com/site.yaml' }),
    400,
  ),
  postTask('relative file design_ref', task({ design_ref: 'file://relative/site.yaml' }), 400),
  postTask('empty design_ref', task({ design_ref: '' }), 400),
  // Numbers out of range
  del('days=0', '/tasks?days=0', 400),
  del('negative days', '/tasks?days=-5', 400),
  del('days not a number', '/tasks?days=abc', 400),
  del('huge days', '/tasks?days=99999999', 400),
  del('fractional days', '/tasks?days=1.5', 400),
  del('days in exponent form', '/tasks?days=1e3', 400),
  get('layers=-2', '/tasks/{T}?layers=-2', 400),
  get('huge layers', '/tasks/{T}?layers=1000', 400),
  get('layers not a number', '/tasks/{T}?layers=all', 400),
  get('limit=0', '/tasks?limit=0', 400),
  get('negative limit', '/tasks?limit=-1', 400),
  get('huge limit', '/tasks?limit=100000', 400),
  get('limit beyond any integer', '/tasks?limit=99999999999999999999', 400),
  get('message page limit too big', '/tasks/{T}/messages?limit=5000', 400),
  get('negative message cursor', '/tasks/{T}/messages?after=-1', 400),
  get('subtaskerrors neither true nor false', '/tasks/{T}?subtaskerrors=maybe', 400),
  get('verbosity 3', '/nodes/n1/builddata?verbosity=3', 400),
  postClaim('claim epoch zero', { instance_id: 'orch-a', epoch: 0 }, 400),
  postClaim('claim limit too big', { instance_id: 'orch-a', epoch: 1, limit: 1000 }, 400),
  {
    name: 'negative grace',
    method: 'POST',
    path: '/leader/claim',
    body: { instance_id: 'x', grace_seconds: -1 },
    status: 400,
  },
  patchTask('negative retry', { retry: -1 }, 400),
  // Oversized bodies and strings
  postTask('body over MAX_BODY_BYTES', task({ design_ref: 'x'.repeat(MAX_BODY_BYTES) }), 413),
  postMessages(
    'message batch over MAX_BODY_BYTES',
    Array.from({ length: 900 }, () => message({ message: 'y'.repeat(250) })),
    413,
  ),
  postTask(
    'design_ref over 4096 characters',
    task({ design_ref: `https://h/${'p'.repeat(5000)}` }),
    400,
  ),
  postMessages('message over 65536 characters', message({ message: 'z'.repeat(65_537) }), 400),
  {
    name: 'instance id over 1024 characters',
    method: 'POST',
    path: '/leader/claim',
    body: { instance_id: 'i'.repeat(1025) },
    status: 400,
  },
  {
    name: 'empty instance id',
    method: 'POST',
    path: '/leader/claim',
    body: { instance_id: '' },
    status: 400,
  },
  postBuildData(
    'build data batch over 100 items',
    Array.from({ length: 101 }, () => unknownItem()),
    400,
  ),
  postTask('Idempotency-Key over 256 characters', task({}), 400, {
    'Idempotency-Key': 'k'.repeat(300),
  }),
  // Bad cursors
  get('cursor with foreign characters', '/tasks?cursor=!!!!', 400),
  get('cursor too long', `/tasks?cursor=${'A'.repeat(100)}`, 400),
  get('well-formed cursor not from this API', '/tasks?cursor=AAAA', 400),
  get('empty cursor', '/tasks?cursor=', 400),
  // Conditional writes refused
  patchTask('stale If-Match', { retry: 1 }, 409, { 'If-Match': '"99"' }),
  patchTask('If-Match not a version', { retry: 1 }, 400, { 'If-Match': 'abc' }),
  patchTask('status move not allowed', { status: 'complete', epoch: '{E}' }, 409),
  patchTask(
    'a queued task started by PATCH instead of a claim',
    { status: 'running', epoch: '{E}' },
    409,
  ),
  // Orchestrator writes without the lease epoch, or with a stale one
  patchTask('update with neither If-Match nor epoch', { result: { message: 'blind' } }, 428),
  postSubtask('subtask without epoch', { action: 'deploy_node' }, 428),
  postRollup('roll-up without epoch', {}, 428),
  { name: 'retry without epoch', method: 'POST', path: '/tasks/{T}/retry', body: {}, status: 428 },
  postSubtask('subtask with a stale epoch', { action: 'deploy_node', epoch: 999 }, 412),
  postTask('internal task with a stale epoch', { action: 'identify_node', epoch: 999 }, 412),
  postRollup('roll-up with a stale epoch', { epoch: 999 }, 412),
  {
    name: 'retry with a stale epoch',
    method: 'POST',
    path: '/tasks/{T}/retry',
    body: { epoch: 999, max_attempts: 3 },
    status: 412,
  },
  postMessages('messages with a stale epoch', { epoch: 999, messages: [message()] }, 412),
  postBuildData('build data with a stale epoch', { epoch: 999, items: [unknownItem()] }, 412),
  patchTask('update with a stale epoch', { retry: 1, epoch: 999 }, 412),
  postClaim('claim by a non-holder', { instance_id: 'orch-b', epoch: '{E}' }, 412),
  postClaim('claim with a future epoch', { instance_id: 'orch-a', epoch: 77 }, 412),
  {
    name: 'renew by a non-holder',
    method: 'POST',
    path: '/leader/renew',
    body: { instance_id: 'orch-b', epoch: '{E}' },
    status: 412,
  },
  {
    name: 'abdicate by a non-holder',
    method: 'POST',
    path: '/leader/abdicate',
    body: { instance_id: 'orch-b', epoch: '{E}' },
    status: 412,
  },
  {
    name: 'requeue by a non-holder',
    method: 'POST',
    path: '/leader/requeue',
    body: { instance_id: 'orch-b', epoch: '{E}' },
    status: 412,
  },
  // Unknown tasks
  get('unknown task', `/tasks/${UNKNOWN}`, 404),
  get('unknown task tree', `/tasks/${UNKNOWN}?layers=2`, 404),
  {
    name: 'messages of an unknown task',
    method: 'POST',
    path: `/tasks/${UNKNOWN}/messages`,
    body: message(),
    status: 404,
  },
  {
    name: 'subtask of an unknown task',
    method: 'POST',
    path: `/tasks/${UNKNOWN}/subtasks`,
    body: { action: 'noop', epoch: '{E}' },
    status: 404,
  },
  {
    name: 'terminate an unknown task',
    method: 'POST',
    path: `/tasks/${UNKNOWN}/terminate`,
    status: 404,
  },
  {
    name: 'update an unknown task',
    method: 'PATCH',
    path: `/tasks/${UNKNOWN}`,
    body: { retry: 1, epoch: '{E}' },
    status: 404,
  },
  // Boot actions: the node's key is checked before anything else is read
  nodeReport('boot-action report without a key', undefined, 401),
  nodeReport('boot-action report with a key that is not hex', 'zz'.repeat(32), 403),
  nodeReport('boot-action report on an unknown action', 'ab'.repeat(32), 404),
  get('boot-action units without a key', '/bootactions/nodes/n1/units', 401),
  {
    name: 'boot-action files of a node without a context',
    method: 'GET',
    path: '/bootactions/nodes/n1/files',
    headers: { 'X-Bootaction-Key': 'ab'.repeat(32) },
    status: 404,
  },
  nodeContext(
    'boot-action context without an epoch',
    { task_id: '{T}', actions: [{ name: 'a' }] },
    428,
  ),
  nodeContext(
    'boot-action context for an unknown task',
    { task_id: UNKNOWN, epoch: '{E}', actions: [{ name: 'a' }] },
    404,
  ),
  nodeContext(
    'boot-action context without actions',
    { task_id: '{T}', epoch: '{E}', actions: [] },
    400,
  ),
  nodeContext(
    'boot-action context with a stale epoch',
    { task_id: '{T}', epoch: 999, actions: [{ name: 'a' }] },
    412,
  ),
  get('boot-action list of a node without a context', '/bootactions/nodes/n1', 404),
  // Wrong methods and unknown routes
  { name: 'PUT /tasks', method: 'PUT', path: '/tasks', body: task({}), status: 405 },
  del('DELETE one task', '/tasks/{T}', 405),
  get('GET /tasks/claim', '/tasks/claim', 405),
  { name: 'PATCH /leader', method: 'PATCH', path: '/leader', body: {}, status: 405 },
  get('GET /leader/claim', '/leader/claim', 405),
  { name: 'POST /health', method: 'POST', path: '/health', status: 405 },
  del('DELETE messages', '/tasks/{T}/messages', 405),
  get('unknown route', '/nope', 404),
  get('unknown API version', '/api/v2.0/tasks', 404),
  { name: 'POST /leader', method: 'POST', path: '/leader', body: {}, status: 405 },
  {
    name: 'body where none is taken',
    method: 'DELETE',
    path: '/tasks?days=5',
    body: { days: 5 },
    status: 400,
  },
];

describe.each(TEST_DRIVERS)('bad requests over HTTP on %s', (driver) => {
  let server: RunningServer;
  let taskId: string;
  let epoch: number;

  beforeAll(async () => {
    server = await startServer(driver, { MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
    const created = await request(server.url, 'POST', '/api/v1.0/tasks', { body: task({}) });
    expect(created.status).toBe(201);
    taskId = created.body.task_id;
    epoch = await takeLease(server, 'orch-a');
  });
  afterAll(async () => {
    await server?.stop();
  });

  it(`has at least 60 cases (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it.each(CASES)('$name → $status, nothing written', async (c) => {
    const fill = (text: string) =>
      text.replaceAll('{T}', taskId).replaceAll('"{E}"', String(epoch));
    const resolvedPath = fill(c.path.startsWith('/api/') ? c.path : `/api/v1.0${c.path}`);
    const body =
      c.body === undefined
        ? undefined
        : typeof c.body === 'string'
          ? c.body
          : JSON.parse(fill(JSON.stringify(c.body)));
    const before = await snapshot(server.db);
    const res = await request(server.url, c.method, resolvedPath, {
      body,
      ...(c.headers ? { headers: c.headers } : {}),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(c.status);
    expect(ErrorBodySchema().parse(res.body)).toMatchObject({ type: 'error', retry: false });
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(await snapshot(server.db)).toEqual(before);
  });
});
