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

/** Every entry must be refused with its status and write nothing. */
const CASES: BadRequest[] = [
  // Malformed, truncated, empty or mistyped bodies
  {
    name: 'truncated JSON',
    method: 'POST',
    path: '/tasks',
    body: '{"action":"verify_site",',
    headers: json,
    status: 400,
  },
  {
    name: 'JSON cut mid-string',
    method: 'POST',
    path: '/tasks',
    body: '{"action":"verify_site","design_ref":"deck',
    headers: json,
    status: 400,
  },
  {
    name: 'not JSON at all',
    method: 'POST',
    path: '/tasks',
    body: 'action=verify_site',
    headers: json,
    status: 400,
  },
  { name: 'empty body', method: 'POST', path: '/tasks', body: '', headers: json, status: 400 },
  { name: 'no body', method: 'POST', path: '/tasks', status: 400 },
  {
    name: 'text/plain content type',
    method: 'POST',
    path: '/tasks',
    body: JSON.stringify(task({})),
    headers: { 'Content-Type': 'text/plain' },
    status: 400,
  },
  {
    name: 'XML content type',
    method: 'POST',
    path: '/tasks',
    body: '<task/>',
    headers: { 'Content-Type': 'application/xml' },
    status: 400,
  },
  {
    name: 'no content type',
    method: 'POST',
    path: '/tasks',
    body: JSON.stringify(task({})),
    headers: { 'Content-Type': '' },
    status: 400,
  },
  { name: 'array body', method: 'POST', path: '/tasks', body: [], status: 400 },
  { name: 'null body', method: 'POST', path: '/tasks', body: 'null', headers: json, status: 400 },
  {
    name: 'string body',
    method: 'POST',
    path: '/tasks',
    body: '"verify_site"',
    headers: json,
    status: 400,
  },
  { name: 'number body', method: 'POST', path: '/tasks', body: '42', headers: json, status: 400 },
  // Wrong types
  {
    name: 'action is a number',
    method: 'POST',
    path: '/tasks',
    body: task({ action: 5 }),
    status: 400,
  },
  {
    name: 'design_ref is a number',
    method: 'POST',
    path: '/tasks',
    body: task({ design_ref: 42 }),
    status: 400,
  },
  {
    name: 'node_filter is a string',
    method: 'POST',
    path: '/tasks',
    body: task({ node_filter: 'all' }),
    status: 400,
  },
  {
    name: 'node_filter with a bad filter_type',
    method: 'POST',
    path: '/tasks',
    body: task({
      node_filter: { filter_set_type: 'union', filter_set: [{ filter_type: 'sideways' }] },
    }),
    status: 400,
  },
  {
    name: 'node_filter with an unknown key',
    method: 'POST',
    path: '/tasks',
    body: task({ node_filter: { filter_set_type: 'union', filter_set: [], everything: true } }),
    status: 400,
  },
  {
    name: 'terminate recursive is a string',
    method: 'POST',
    path: '/tasks/{T}/terminate',
    body: { recursive: 'yes' },
    status: 400,
  },
  {
    name: 'message error flag is a string',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: message({ error: 'false' }),
    status: 400,
  },
  {
    name: 'message extra is a string',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: message({ extra: '{}' }),
    status: 400,
  },
  {
    name: 'message ts is not a timestamp',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: message({ ts: 'yesterday' }),
    status: 400,
  },
  {
    name: 'claim epoch is a string',
    method: 'POST',
    path: '/tasks/claim',
    body: { instance_id: 'orch-a', epoch: '1' },
    status: 400,
  },
  {
    name: 'claim epoch is a fraction',
    method: 'POST',
    path: '/tasks/claim',
    body: { instance_id: 'orch-a', epoch: 1.5 },
    status: 400,
  },
  // Unknown and missing fields
  {
    name: 'missing action',
    method: 'POST',
    path: '/tasks',
    body: { design_ref: DESIGN },
    status: 400,
  },
  {
    name: 'missing design_ref',
    method: 'POST',
    path: '/tasks',
    body: { action: 'verify_site' },
    status: 400,
  },
  {
    name: 'created_by in the body',
    method: 'POST',
    path: '/tasks',
    body: task({ created_by: 'mallory' }),
    status: 400,
  },
  {
    name: 'status in the body',
    method: 'POST',
    path: '/tasks',
    body: task({ status: 'running' }),
    status: 400,
  },
  {
    name: 'message without its flags',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: { message: 'x' },
    status: 400,
  },
  {
    name: 'message with an unknown field',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: message({ level: 'Error' }),
    status: 400,
  },
  {
    name: 'empty message batch',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: [],
    status: 400,
  },
  {
    name: 'build data missing fields',
    method: 'POST',
    path: '/nodes/n1/builddata',
    body: {},
    status: 400,
  },
  {
    name: 'claim without epoch',
    method: 'POST',
    path: '/tasks/claim',
    body: { instance_id: 'orch-a' },
    status: 400,
  },
  {
    name: 'update with nothing to change',
    method: 'PATCH',
    path: '/tasks/{T}',
    body: {},
    status: 400,
  },
  {
    name: 'update with an unknown field',
    method: 'PATCH',
    path: '/tasks/{T}',
    body: { retry: 1, owner: 'me' },
    status: 400,
  },
  { name: 'unknown query parameter', method: 'GET', path: '/tasks?colour=blue', status: 400 },
  { name: 'repeated query parameter', method: 'GET', path: '/tasks?limit=1&limit=2', status: 400 },
  // Invalid UUIDs
  { name: 'task id not a UUID', method: 'GET', path: '/tasks/not-a-uuid', status: 400 },
  { name: 'task id a number', method: 'GET', path: '/tasks/12345', status: 400 },
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
  {
    name: 'parent_task_id filter not a UUID',
    method: 'GET',
    path: '/tasks?parent_task_id=nope',
    status: 400,
  },
  {
    name: 'subtask id not a UUID',
    method: 'POST',
    path: '/tasks/{T}/subtasks',
    body: { action: 'noop', task_id: 'nope' },
    status: 400,
  },
  {
    name: 'build data task id not a UUID',
    method: 'POST',
    path: '/nodes/n1/builddata',
    body: item({ task_id: 'bad' }),
    status: 400,
  },
  // Unknown actions and statuses
  {
    name: 'unknown action',
    method: 'POST',
    path: '/tasks',
    body: task({ action: 'launch_rockets' }),
    status: 400,
  },
  {
    name: 'internal action on POST /tasks',
    method: 'POST',
    path: '/tasks',
    body: task({ action: 'noop' }),
    status: 400,
  },
  {
    name: 'action in capitals',
    method: 'POST',
    path: '/tasks',
    body: task({ action: 'VERIFY_SITE' }),
    status: 400,
  },
  {
    name: 'unknown subtask action',
    method: 'POST',
    path: '/tasks/{T}/subtasks',
    body: { action: 'reboot_everything' },
    status: 400,
  },
  { name: 'unknown status filter', method: 'GET', path: '/tasks?status=finished', status: 400 },
  { name: 'unknown action filter', method: 'GET', path: '/tasks?action=launch', status: 400 },
  {
    name: 'unknown status change',
    method: 'PATCH',
    path: '/tasks/{T}',
    body: { status: 'done' },
    status: 400,
  },
  {
    name: 'unknown result status',
    method: 'PATCH',
    path: '/tasks/{T}',
    body: { result: { status: 'great' } },
    status: 400,
  },
  {
    name: 'unknown roll-up action filter',
    method: 'POST',
    path: '/tasks/{T}/rollup',
    body: { epoch: '{E}', bubble: { action_filter: 'bogus' } },
    status: 400,
  },
  {
    name: 'roll-up option misspelt',
    method: 'POST',
    path: '/tasks/{T}/rollup',
    body: { epoch: '{E}', align: { reset: false } },
    status: 400,
  },
  {
    name: 'boolean not a boolean',
    method: 'GET',
    path: '/tasks/{T}?builddata=maybe',
    status: 400,
  },
  {
    name: 'credentials in design_ref',
    method: 'POST',
    path: '/tasks',
    body: task({ design_ref: 'https://admin:s3cret@deckhand/x' }),
    status: 400,
  },
  {
    name: 'token-only credentials in design_ref',
    method: 'POST',
    path: '/tasks',
    body: task({ design_ref: 'https://token@deckhand/x' }),
    status: 400,
  },
  {
    name: 'unsupported design_ref scheme',
    method: 'POST',
    path: '/tasks',
    body: task({ design_ref: 'ftp://designs.example.com/site.yaml' }),
    status: 400,
  },
  {
    name: 'relative file design_ref',
    method: 'POST',
    path: '/tasks',
    body: task({ design_ref: 'file://relative/site.yaml' }),
    status: 400,
  },
  {
    name: 'empty design_ref',
    method: 'POST',
    path: '/tasks',
    body: task({ design_ref: '' }),
    status: 400,
  },
  // Numbers out of range
  { name: 'days=0', method: 'DELETE', path: '/tasks?days=0', status: 400 },
  { name: 'negative days', method: 'DELETE', path: '/tasks?days=-5', status: 400 },
  { name: 'days not a number', method: 'DELETE', path: '/tasks?days=abc', status: 400 },
  { name: 'huge days', method: 'DELETE', path: '/tasks?days=99999999', status: 400 },
  { name: 'fractional days', method: 'DELETE', path: '/tasks?days=1.5', status: 400 },
  { name: 'days in exponent form', method: 'DELETE', path: '/tasks?days=1e3', status: 400 },
  { name: 'layers=-2', method: 'GET', path: '/tasks/{T}?layers=-2', status: 400 },
  { name: 'huge layers', method: 'GET', path: '/tasks/{T}?layers=1000', status: 400 },
  { name: 'layers not a number', method: 'GET', path: '/tasks/{T}?layers=all', status: 400 },
  { name: 'limit=0', method: 'GET', path: '/tasks?limit=0', status: 400 },
  { name: 'negative limit', method: 'GET', path: '/tasks?limit=-1', status: 400 },
  { name: 'huge limit', method: 'GET', path: '/tasks?limit=100000', status: 400 },
  {
    name: 'limit beyond any integer',
    method: 'GET',
    path: '/tasks?limit=99999999999999999999',
    status: 400,
  },
  {
    name: 'message page limit too big',
    method: 'GET',
    path: '/tasks/{T}/messages?limit=5000',
    status: 400,
  },
  {
    name: 'negative message cursor',
    method: 'GET',
    path: '/tasks/{T}/messages?after=-1',
    status: 400,
  },
  {
    name: 'boolean flag neither true nor false',
    method: 'GET',
    path: '/tasks/{T}?builddata=maybe',
    status: 400,
  },
  { name: 'verbosity 3', method: 'GET', path: '/nodes/n1/builddata?verbosity=3', status: 400 },
  {
    name: 'claim epoch zero',
    method: 'POST',
    path: '/tasks/claim',
    body: { instance_id: 'orch-a', epoch: 0 },
    status: 400,
  },
  {
    name: 'claim limit too big',
    method: 'POST',
    path: '/tasks/claim',
    body: { instance_id: 'orch-a', epoch: 1, limit: 1000 },
    status: 400,
  },
  {
    name: 'negative grace',
    method: 'POST',
    path: '/leader/claim',
    body: { instance_id: 'x', grace_seconds: -1 },
    status: 400,
  },
  { name: 'negative retry', method: 'PATCH', path: '/tasks/{T}', body: { retry: -1 }, status: 400 },
  // Oversized bodies and strings
  {
    name: 'body over MAX_BODY_BYTES',
    method: 'POST',
    path: '/tasks',
    body: task({ design_ref: 'x'.repeat(MAX_BODY_BYTES) }),
    status: 413,
  },
  {
    name: 'message batch over MAX_BODY_BYTES',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: Array.from({ length: 900 }, () => message({ message: 'y'.repeat(250) })),
    status: 413,
  },
  {
    name: 'design_ref over 4096 characters',
    method: 'POST',
    path: '/tasks',
    body: task({ design_ref: `https://h/${'p'.repeat(5000)}` }),
    status: 400,
  },
  {
    name: 'message over 65536 characters',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: message({ message: 'z'.repeat(65_537) }),
    status: 400,
  },
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
  {
    name: 'build data batch over 100 items',
    method: 'POST',
    path: '/nodes/n1/builddata',
    body: Array.from({ length: 101 }, () => unknownItem()),
    status: 400,
  },
  {
    name: 'Idempotency-Key over 256 characters',
    method: 'POST',
    path: '/tasks',
    body: task({}),
    headers: { 'Idempotency-Key': 'k'.repeat(300) },
    status: 400,
  },
  // Bad cursors
  {
    name: 'cursor with foreign characters',
    method: 'GET',
    path: '/tasks?cursor=!!!!',
    status: 400,
  },
  { name: 'cursor too long', method: 'GET', path: `/tasks?cursor=${'A'.repeat(100)}`, status: 400 },
  {
    name: 'well-formed cursor not from this API',
    method: 'GET',
    path: '/tasks?cursor=AAAA',
    status: 400,
  },
  { name: 'empty cursor', method: 'GET', path: '/tasks?cursor=', status: 400 },
  // Conditional writes refused
  {
    name: 'stale If-Match',
    method: 'PATCH',
    path: '/tasks/{T}',
    body: { retry: 1 },
    headers: { 'If-Match': '"99"' },
    status: 409,
  },
  {
    name: 'If-Match not a version',
    method: 'PATCH',
    path: '/tasks/{T}',
    body: { retry: 1 },
    headers: { 'If-Match': 'abc' },
    status: 400,
  },
  {
    name: 'status move not allowed',
    method: 'PATCH',
    path: '/tasks/{T}',
    body: { status: 'complete', epoch: '{E}' },
    status: 409,
  },
  {
    name: 'a queued task started by PATCH instead of a claim',
    method: 'PATCH',
    path: '/tasks/{T}',
    body: { status: 'running', epoch: '{E}' },
    status: 409,
  },
  // Orchestrator writes without the lease epoch, or with a stale one
  {
    name: 'update with neither If-Match nor epoch',
    method: 'PATCH',
    path: '/tasks/{T}',
    body: { result: { message: 'blind' } },
    status: 428,
  },
  {
    name: 'subtask without epoch',
    method: 'POST',
    path: '/tasks/{T}/subtasks',
    body: { action: 'deploy_node' },
    status: 428,
  },
  {
    name: 'roll-up without epoch',
    method: 'POST',
    path: '/tasks/{T}/rollup',
    body: {},
    status: 428,
  },
  { name: 'retry without epoch', method: 'POST', path: '/tasks/{T}/retry', body: {}, status: 428 },
  {
    name: 'subtask with a stale epoch',
    method: 'POST',
    path: '/tasks/{T}/subtasks',
    body: { action: 'deploy_node', epoch: 999 },
    status: 412,
  },
  {
    name: 'internal task with a stale epoch',
    method: 'POST',
    path: '/tasks',
    body: { action: 'identify_node', epoch: 999 },
    status: 412,
  },
  {
    name: 'roll-up with a stale epoch',
    method: 'POST',
    path: '/tasks/{T}/rollup',
    body: { epoch: 999 },
    status: 412,
  },
  {
    name: 'retry with a stale epoch',
    method: 'POST',
    path: '/tasks/{T}/retry',
    body: { epoch: 999, max_attempts: 3 },
    status: 412,
  },
  {
    name: 'messages with a stale epoch',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: { epoch: 999, messages: [message()] },
    status: 412,
  },
  {
    name: 'build data with a stale epoch',
    method: 'POST',
    path: '/nodes/n1/builddata',
    body: { epoch: 999, items: [unknownItem()] },
    status: 412,
  },
  {
    name: 'update with a stale epoch',
    method: 'PATCH',
    path: '/tasks/{T}',
    body: { retry: 1, epoch: 999 },
    status: 412,
  },
  {
    name: 'claim by a non-holder',
    method: 'POST',
    path: '/tasks/claim',
    body: { instance_id: 'orch-b', epoch: '{E}' },
    status: 412,
  },
  {
    name: 'claim with a future epoch',
    method: 'POST',
    path: '/tasks/claim',
    body: { instance_id: 'orch-a', epoch: 77 },
    status: 412,
  },
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
  { name: 'unknown task', method: 'GET', path: `/tasks/${UNKNOWN}`, status: 404 },
  { name: 'unknown task tree', method: 'GET', path: `/tasks/${UNKNOWN}?layers=2`, status: 404 },
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
  {
    name: 'boot-action units without a key',
    method: 'GET',
    path: '/bootactions/nodes/n1/units',
    status: 401,
  },
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
  {
    name: 'boot-action list of a node without a context',
    method: 'GET',
    path: '/bootactions/nodes/n1',
    status: 404,
  },
  // Wrong methods and unknown routes
  { name: 'PUT /tasks', method: 'PUT', path: '/tasks', body: task({}), status: 405 },
  { name: 'DELETE one task', method: 'DELETE', path: '/tasks/{T}', status: 405 },
  { name: 'GET /tasks/claim', method: 'GET', path: '/tasks/claim', status: 405 },
  { name: 'PATCH /leader', method: 'PATCH', path: '/leader', body: {}, status: 405 },
  { name: 'GET /leader/claim', method: 'GET', path: '/leader/claim', status: 405 },
  { name: 'POST /health', method: 'POST', path: '/health', status: 405 },
  { name: 'DELETE messages', method: 'DELETE', path: '/tasks/{T}/messages', status: 405 },
  { name: 'unknown route', method: 'GET', path: '/nope', status: 404 },
  { name: 'unknown API version', method: 'GET', path: '/api/v2.0/tasks', status: 404 },
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
