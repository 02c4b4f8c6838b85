import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { controlChars } from '#test/support/store-fixtures.ts';
import { DESIGN, item, message, task } from './request-bodies.ts';

/**
 * Hostile requests: what an attacker or a broken client sends beyond the plain bad requests of
 * `bad-requests.test.ts`. Each case is sent as raw bytes to the local server (the same handlers
 * the Lambdas run) on every driver; the runner compares a checksum of every table before and
 * after it. The table is plain data so the same file measures any build of the service.
 *
 * Placeholders, filled per run: `{T}`, `{T2}` seeded top-level tasks; `"{E}"` the lease epoch of
 * `orch-a`; `{K}` a fresh key and `{U}` a fresh UUID per case; `{S}` the task a setup step
 * created; `{V}` the ETag the last setup step answered; `{ROOT}` the design file root;
 * `{DP}` the port of the allow-listed design server; `{SP}` the service's own port.
 */

export type HostileClass =
  | 'nul'
  | 'unicode'
  | 'utf8-bytes'
  | 'url-escapes'
  | 'depth'
  | 'prototype'
  | 'design-file'
  | 'redaction'
  | 'ssrf'
  | 'allow-list'
  | 'json-errors'
  | 'protocol'
  | 'idempotency'
  | 'bounds';

export interface SetupStep {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: readonly (readonly [string, string])[];
  /** Remember the answer's `task_id` as `{S}`. */
  readonly captureTask?: boolean;
  /** Send this step this many times. */
  readonly repeat?: number;
}

/** A problem with an answer, or undefined when it is right. */
export type AnswerCheck = (answer: {
  // biome-ignore lint/suspicious/noExplicitAny: checks read arbitrary JSON
  body: any;
  text: string;
  bytes: number;
  headers: Record<string, unknown>;
}) => string | undefined;

export interface HostileCase {
  readonly name: string;
  readonly kind: HostileClass;
  readonly method: string;
  /** Under /api/v1.0 unless it starts with `/api/` or `/versions`; sent verbatim. */
  readonly path: string;
  /** An object is sent as JSON; a string or Buffer as is. */
  readonly body?: unknown;
  readonly headers?: readonly (readonly [string, string])[];
  readonly status: number;
  /** The request is expected to change a table (default: it must not). */
  readonly writes?: boolean;
  readonly setup?: readonly SetupStep[];
  /**
   * Cases naming the same shared setup run it once per server: the first one runs `setup`, the
   * others reuse the task it created as `{S}` (a large fixture is written once, not per case).
   */
  readonly sharedSetup?: string;
  readonly check?: AnswerCheck;
}

const JSON_TYPE = ['Content-Type', 'application/json'] as const;

const filter = (set: object) => ({
  filter_set_type: 'union',
  filter_set: [{ filter_type: 'union', ...set }],
});

/** The answer body does not quote `secret` anywhere. */
const doesNotEcho =
  (secret: string): AnswerCheck =>
  ({ text }) =>
    text.includes(secret) ? `the answer echoes ${secret}` : undefined;

/** A refusal that names the offending field. */
const names =
  (field: string): AnswerCheck =>
  ({ text }) =>
    text.includes(field) ? undefined : `the refusal does not name ${field}: ${text.slice(0, 300)}`;

const MIB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Every string a request can carry, with a poison in it

interface StringSite {
  readonly where: string;
  readonly method: string;
  readonly path: string;
  readonly body: (poison: string) => unknown;
  /** A word the refusal must mention. */
  readonly field: string;
}

const STRING_SITES: readonly StringSite[] = [
  {
    where: 'design_ref',
    method: 'POST',
    path: '/tasks',
    field: 'design_ref',
    body: (x) => task({ design_ref: `${DESIGN}${x}` }),
  },
  {
    where: 'node filter node_names',
    method: 'POST',
    path: '/tasks',
    field: 'node_names',
    body: (x) => task({ node_filter: filter({ node_names: [`n1${x}`] }) }),
  },
  {
    where: 'node filter node_tags',
    method: 'POST',
    path: '/tasks',
    field: 'node_tags',
    body: (x) => task({ node_filter: filter({ node_tags: [`t${x}`] }) }),
  },
  {
    where: 'node filter label key',
    method: 'POST',
    path: '/tasks',
    field: 'node_labels',
    body: (x) => task({ node_filter: filter({ node_labels: { [`k${x}`]: 'v' } }) }),
  },
  {
    where: 'node filter label value',
    method: 'POST',
    path: '/tasks',
    field: 'node_labels',
    body: (x) => task({ node_filter: filter({ node_labels: { k: `v${x}` } }) }),
  },
  {
    where: 'node filter rack_names',
    method: 'POST',
    path: '/tasks',
    field: 'rack_names',
    body: (x) => task({ node_filter: filter({ rack_names: [`r${x}`] }) }),
  },
  {
    where: 'node filter rack label',
    method: 'POST',
    path: '/tasks',
    field: 'rack_labels',
    body: (x) => task({ node_filter: filter({ rack_labels: { row: `a${x}` } }) }),
  },
  {
    where: 'subtask design_ref',
    method: 'POST',
    path: '/tasks/{T}/subtasks',
    field: 'design_ref',
    body: (x) => ({ action: 'noop', epoch: '{E}', design_ref: `${DESIGN}${x}` }),
  },
  {
    where: 'subtask node filter',
    method: 'POST',
    path: '/tasks/{T}/subtasks',
    field: 'node_names',
    body: (x) => ({ action: 'noop', epoch: '{E}', node_filter: filter({ node_names: [`n${x}`] }) }),
  },
  {
    where: 'result message',
    method: 'PATCH',
    path: '/tasks/{T}',
    field: 'message',
    body: (x) => ({ result: { message: `done${x}` } }),
  },
  {
    where: 'result reason',
    method: 'PATCH',
    path: '/tasks/{T}',
    field: 'reason',
    body: (x) => ({ result: { reason: `why${x}` } }),
  },
  {
    where: 'result successes',
    method: 'PATCH',
    path: '/tasks/{T}',
    field: 'add_successes',
    body: (x) => ({ result: { add_successes: [`n1${x}`] } }),
  },
  {
    where: 'result failures',
    method: 'PATCH',
    path: '/tasks/{T}',
    field: 'add_failures',
    body: (x) => ({ result: { add_failures: [`n2${x}`] } }),
  },
  {
    where: 'result link rel',
    method: 'PATCH',
    path: '/tasks/{T}',
    field: 'rel',
    body: (x) => ({ result: { add_links: [{ rel: `log${x}`, href: 'https://l/1' }] } }),
  },
  {
    where: 'result link href',
    method: 'PATCH',
    path: '/tasks/{T}',
    field: 'href',
    body: (x) => ({ result: { add_links: [{ rel: 'log', href: `https://l/1${x}` }] } }),
  },
  {
    where: 'message text',
    method: 'POST',
    path: '/tasks/{T}/messages',
    field: 'message',
    body: (x) => message({ message: `PXE${x} failed` }),
  },
  {
    where: 'message context_type',
    method: 'POST',
    path: '/tasks/{T}/messages',
    field: 'context_type',
    body: (x) => message({ context_type: `node${x}` }),
  },
  {
    where: 'message context',
    method: 'POST',
    path: '/tasks/{T}/messages',
    field: 'context',
    body: (x) => message({ context: `n1${x}` }),
  },
  {
    where: 'message extra key',
    method: 'POST',
    path: '/tasks/{T}/messages',
    field: 'extra',
    body: (x) => message({ extra: { [`key${x}`]: 1 } }),
  },
  {
    where: 'message extra value',
    method: 'POST',
    path: '/tasks/{T}/messages',
    field: 'extra',
    body: (x) => message({ extra: { k: `v${x}` } }),
  },
  {
    where: 'message extra nested value',
    method: 'POST',
    path: '/tasks/{T}/messages',
    field: 'extra',
    body: (x) => message({ extra: { a: { b: [1, `v${x}`] } } }),
  },
  {
    where: 'message idempotency key',
    method: 'POST',
    path: '/tasks/{T}/messages',
    field: 'idempotency_key',
    body: (x) => message({ idempotency_key: `k${x}` }),
  },
  {
    where: 'second message of a batch',
    method: 'POST',
    path: '/tasks/{T}/messages',
    field: 'message',
    body: (x) => [message(), message({ message: `b${x}` })],
  },
  {
    where: 'build data generator',
    method: 'POST',
    path: '/nodes/n1/builddata',
    field: 'generator',
    body: (x) => item({ generator: `lshw${x}` }),
  },
  {
    where: 'build data format',
    method: 'POST',
    path: '/nodes/n1/builddata',
    field: 'data_format',
    body: (x) => item({ data_format: `text/xml${x}` }),
  },
  {
    where: 'build data element',
    method: 'POST',
    path: '/nodes/n1/builddata',
    field: 'data_element',
    body: (x) => item({ data_element: `<x>${x}</x>` }),
  },
  {
    where: 'build data idempotency key',
    method: 'POST',
    path: '/nodes/n1/builddata',
    field: 'idempotency_key',
    body: (x) => item({ idempotency_key: `k${x}` }),
  },
  {
    where: 'lease claim instance id',
    method: 'POST',
    path: '/leader/claim',
    field: 'instance_id',
    body: (x) => ({ instance_id: `orch-z${x}` }),
  },
  {
    where: 'lease renew instance id',
    method: 'POST',
    path: '/leader/renew',
    field: 'instance_id',
    body: (x) => ({ instance_id: `orch-a${x}`, epoch: '{E}' }),
  },
  {
    where: 'lease abdicate instance id',
    method: 'POST',
    path: '/leader/abdicate',
    field: 'instance_id',
    body: (x) => ({ instance_id: `orch-a${x}`, epoch: '{E}' }),
  },
  {
    where: 'requeue instance id',
    method: 'POST',
    path: '/leader/requeue',
    field: 'instance_id',
    body: (x) => ({ instance_id: `orch-a${x}`, epoch: '{E}' }),
  },
  {
    where: 'task claim instance id',
    method: 'POST',
    path: '/tasks/claim',
    field: 'instance_id',
    body: (x) => ({ instance_id: `orch-a${x}`, epoch: '{E}' }),
  },
  {
    where: 'design resolve reference',
    method: 'POST',
    path: '/designs/resolve',
    field: 'design_ref',
    body: (x) => ({ design_ref: `file://{ROOT}/site${x}.yaml` }),
  },
  {
    where: 'validatedesign href',
    method: 'POST',
    path: '/validatedesign',
    field: 'href',
    body: (x) => ({ href: `file://{ROOT}/site${x}.yaml` }),
  },
  {
    where: 'a key of the body',
    method: 'POST',
    path: '/tasks',
    field: 'body',
    body: (x) => ({ ...task(), [`action${x}`]: 'x' }),
  },
  {
    where: 'a key of a filter set',
    method: 'POST',
    path: '/tasks',
    field: 'filter_set',
    body: (x) => task({ node_filter: filter({ [`node_names${x}`]: ['n1'] }) }),
  },
];

const POISONS = [
  { label: 'NUL', text: '\u0000', kind: 'nul' },
  { label: 'lone high surrogate', text: '\ud800', kind: 'unicode' },
  { label: 'lone low surrogate', text: '\udfff', kind: 'unicode' },
] as const;

const poisonedStrings: HostileCase[] = POISONS.flatMap((poison) =>
  STRING_SITES.map(
    (site): HostileCase => ({
      name: `${poison.label} in ${site.where}`,
      kind: poison.kind,
      method: site.method,
      path: site.path,
      body: site.body(poison.text),
      status: 400,
      check: names(site.field),
    }),
  ),
);

/**
 * `orch-z\ud800` (a row above) and `orch-z\udc00` were both stored as `orch-z\ufffd`: two
 * instances became one lease holder. The other half of that pair.
 */
const LEASE_CLAIM = STRING_SITES.find((site) => site.where === 'lease claim instance id');
// Without its site the row would send no body, and a refusal naming the missing field would pass.
if (!LEASE_CLAIM) throw new Error('hostile cases: no string site "lease claim instance id"');
const collapsedIds: HostileCase[] = [
  {
    name: 'lone low surrogate U+DC00 in lease claim instance id (alike with U+D800 once stored)',
    kind: 'unicode',
    method: 'POST',
    path: '/leader/claim',
    body: LEASE_CLAIM.body('\udc00'),
    status: 400,
    check: names('instance_id'),
  },
];

// ---------------------------------------------------------------------------------------------
// Percent-escapes in the path and query: NUL, an encoded surrogate, invalid and overlong UTF-8

const URL_POISONS = ['%00', '%ED%A0%80', '%FF', '%C0%80'];
const URL_SITES: readonly { where: string; method: string; path: string; body?: unknown }[] = [
  { where: 'created_by filter', method: 'GET', path: '/tasks?created_by=arn{P}' },
  { where: 'node name of a build-data read', method: 'GET', path: '/nodes/n{P}/builddata' },
  {
    where: 'node name of a build-data post',
    method: 'POST',
    path: '/nodes/n{P}/builddata',
    body: item(),
  },
  { where: 'message cursor', method: 'GET', path: '/tasks/{T}/messages?after=1{P}' },
  { where: 'task cursor', method: 'GET', path: '/tasks?cursor=AAAA{P}' },
  { where: 'action filter', method: 'GET', path: '/tasks?action=deploy_nodes{P}' },
  { where: 'retention days', method: 'DELETE', path: '/tasks?days=30{P}' },
  { where: 'task id in the path', method: 'GET', path: '/tasks/{T}{P}' },
];

const urlEscapes: HostileCase[] = URL_POISONS.flatMap((poison) =>
  URL_SITES.map(
    (site): HostileCase => ({
      name: `${poison} in the ${site.where}`,
      kind: 'url-escapes',
      method: site.method,
      path: site.path.replace('{P}', poison),
      ...(site.body === undefined ? {} : { body: site.body }),
      status: 400,
    }),
  ),
);

// ---------------------------------------------------------------------------------------------
// Bodies that are not UTF-8

const BYTE_POISONS: readonly { label: string; bytes: number[] }[] = [
  { label: 'byte FF', bytes: [0xff] },
  { label: 'overlong NUL C0 80', bytes: [0xc0, 0x80] },
  { label: 'UTF-8-encoded surrogate ED A0 80', bytes: [0xed, 0xa0, 0x80] },
  { label: 'truncated sequence E2 82', bytes: [0xe2, 0x82] },
];
const MARK = '@@bytes@@';
const BYTE_SITES: readonly { where: string; path: string; body: unknown }[] = [
  { where: 'message text', path: '/tasks/{T}/messages', body: message({ message: `a${MARK}b` }) },
  { where: 'design_ref', path: '/tasks', body: task({ design_ref: `${DESIGN}${MARK}` }) },
  {
    where: 'build data element',
    path: '/nodes/n1/builddata',
    body: item({ data_element: `<x>${MARK}</x>` }),
  },
  { where: 'lease instance id', path: '/leader/claim', body: { instance_id: `orch-z${MARK}` } },
];

/** The JSON text of `body` with raw bytes where the marker was. */
function withBytes(body: unknown, bytes: number[]): Buffer {
  const [before, after] = JSON.stringify(body).split(MARK) as [string, string];
  return Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
}

const utf8Bytes: HostileCase[] = BYTE_POISONS.flatMap((poison) =>
  BYTE_SITES.map(
    (site): HostileCase => ({
      name: `${poison.label} in the ${site.where} bytes`,
      kind: 'utf8-bytes',
      method: 'POST',
      path: site.path,
      body: withBytes(site.body, poison.bytes),
      headers: [JSON_TYPE],
      status: 400,
    }),
  ),
);

// ---------------------------------------------------------------------------------------------
// Nesting depth

const nested = (levels: number, leaf: unknown = 1, array = false): unknown => {
  let value = leaf;
  for (let i = 0; i < levels; i += 1) value = array ? [value] : { a: value };
  return value;
};
/** Deep JSON as text, built without recursion (JSON.stringify itself fails past a few thousand). */
const deepText = (prefix: string, levels: number, suffix: string) =>
  `${prefix}${'['.repeat(levels)}1${']'.repeat(levels)}${suffix}`;

const depth: HostileCase[] = [
  {
    name: 'extra nested 60 levels (accepted)',
    kind: 'depth',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: message({ extra: nested(60) as object }),
    status: 201,
    writes: true,
  },
  {
    name: 'extra nested 70 levels of objects',
    kind: 'depth',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: message({ extra: nested(70) as object }),
    status: 400,
    check: names('deep'),
  },
  {
    name: 'extra nested 70 levels of arrays',
    kind: 'depth',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: message({ extra: { a: nested(70, 1, true) } }),
    status: 400,
  },
  {
    name: 'extra nested 5,000 levels',
    kind: 'depth',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: deepText(
      '{"message":"m","error":false,"context_type":"t","context":"c","extra":{"a":',
      5_000,
      '}}',
    ),
    headers: [JSON_TYPE],
    status: 400,
  },
  {
    name: 'extra nested 100,000 levels',
    kind: 'depth',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: deepText(
      '{"message":"m","error":false,"context_type":"t","context":"c","extra":{"a":',
      100_000,
      '}}',
    ),
    headers: [JSON_TYPE],
    status: 400,
  },
  {
    name: 'a body of 10,000 nested arrays',
    kind: 'depth',
    method: 'POST',
    path: '/tasks',
    body: deepText('', 10_000, ''),
    headers: [JSON_TYPE],
    status: 400,
  },
  {
    name: 'deep value in an unknown build-data field',
    kind: 'depth',
    method: 'POST',
    path: '/nodes/n1/builddata',
    body: deepText('{"task_id":"{T}","x":', 5_000, '}'),
    headers: [JSON_TYPE],
    status: 400,
  },
  {
    name: 'deep value in a PATCH body',
    kind: 'depth',
    method: 'PATCH',
    path: '/tasks/{T}',
    body: deepText('{"result":{"add_links":', 5_000, '}}'),
    headers: [JSON_TYPE],
    status: 400,
  },
  {
    name: 'deep value in a lease claim',
    kind: 'depth',
    method: 'POST',
    path: '/leader/claim',
    body: deepText('{"instance_id":', 5_000, '}'),
    headers: [JSON_TYPE],
    status: 400,
  },
  {
    name: 'deep value in a design reference body',
    kind: 'depth',
    method: 'POST',
    path: '/designs/resolve',
    body: deepText('{"design_ref":', 5_000, '}'),
    headers: [JSON_TYPE],
    status: 400,
  },
];

// ---------------------------------------------------------------------------------------------
// Names that are properties of every plain object

const PROTO_NAMES = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty'];

const prototype: HostileCase[] = [
  ...PROTO_NAMES.map(
    (n): HostileCase => ({
      name: `query parameter ${n} on GET /tasks`,
      kind: 'prototype',
      method: 'GET',
      path: `/tasks?${n}=1`,
      status: 400,
      check: names(n),
    }),
  ),
  ...PROTO_NAMES.map(
    (n): HostileCase => ({
      name: `query parameter ${n} on GET /health`,
      kind: 'prototype',
      method: 'GET',
      path: `/health?${n}=1`,
      status: 400,
    }),
  ),
  ...PROTO_NAMES.map(
    (n): HostileCase => ({
      name: `header ${n} on GET /tasks/{id}`,
      kind: 'prototype',
      method: 'GET',
      path: '/tasks/{T}',
      headers: [[n, 'x']],
      status: 200,
    }),
  ),
  ...PROTO_NAMES.map(
    (n): HostileCase => ({
      name: `header ${n} on a message append`,
      kind: 'prototype',
      method: 'POST',
      path: '/tasks/{T}/messages',
      body: message(),
      headers: [[n, 'x']],
      status: 201,
      writes: true,
    }),
  ),
  ...PROTO_NAMES.filter((n) => n !== '__proto__').map(
    (n): HostileCase => ({
      name: `extra key ${n} kept as data`,
      kind: 'prototype',
      method: 'POST',
      path: '/tasks/{T}/messages',
      body: `{"message":"m","error":false,"context_type":"t","context":"c","extra":{"${n}":{"x":1}}}`,
      headers: [JSON_TYPE],
      status: 201,
      writes: true,
      check: ({ body }) =>
        JSON.stringify(body?.appended?.[0]?.extra) === `{"${n}":{"x":1}}`
          ? undefined
          : `extra came back as ${JSON.stringify(body?.appended?.[0]?.extra)}`,
    }),
  ),
  {
    name: 'extra key __proto__ (dropped by JavaScript: refused)',
    kind: 'prototype',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: '{"message":"m","error":false,"context_type":"t","context":"c","extra":{"__proto__":{"x":1}}}',
    headers: [JSON_TYPE],
    status: 400,
    check: names('__proto__'),
  },
  {
    name: 'node label key __proto__',
    kind: 'prototype',
    method: 'POST',
    path: '/tasks',
    body: `{"action":"verify_site","design_ref":"${DESIGN}","node_filter":{"filter_set_type":"union","filter_set":[{"filter_type":"union","node_labels":{"__proto__":"x"}}]}}`,
    headers: [JSON_TYPE],
    status: 400,
  },
  {
    name: 'body key __proto__',
    kind: 'prototype',
    method: 'POST',
    path: '/tasks',
    body: `{"action":"verify_site","design_ref":"${DESIGN}","__proto__":{"status":"running"}}`,
    headers: [JSON_TYPE],
    status: 400,
  },
  {
    name: 'query parameter __proto__ twice',
    kind: 'prototype',
    method: 'GET',
    path: '/tasks?__proto__=1&__proto__=2',
    status: 400,
  },
];

// ---------------------------------------------------------------------------------------------
// Design references: files, secrets in query strings, the address guard, the allow-list

const resolve = (ref: string) => ({ design_ref: ref });

const designFile: HostileCase[] = [
  {
    name: 'file reference to a regular file (accepted)',
    kind: 'design-file',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('file://{ROOT}/site.yaml'),
    status: 200,
  },
  {
    name: 'file reference with %00 before the extension',
    kind: 'design-file',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('file://{ROOT}/site%00.txt'),
    status: 400,
  },
  {
    name: 'file reference with %00 in a folder',
    kind: 'design-file',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('file://{ROOT}/a%00b/site.yaml'),
    status: 400,
  },
  {
    name: 'file reference ending in %00',
    kind: 'design-file',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('file://{ROOT}/site.yaml%00'),
    status: 400,
  },
  {
    name: 'validatedesign href with %00',
    kind: 'design-file',
    method: 'POST',
    path: '/validatedesign',
    body: { href: 'file://{ROOT}/site%00.yaml' },
    status: 400,
  },
  {
    name: 'task design_ref with %00',
    kind: 'design-file',
    method: 'POST',
    path: '/tasks',
    body: task({ design_ref: 'file://{ROOT}/site%00.yaml' }),
    status: 400,
  },
  {
    name: 'file reference to a folder',
    kind: 'design-file',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('file://{ROOT}/folder.yaml'),
    status: 400,
  },
  {
    name: 'file reference to a symlink to /dev/zero',
    kind: 'design-file',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('file://{ROOT}/zero.yaml'),
    status: 400,
  },
  {
    name: 'file reference to a unix socket',
    kind: 'design-file',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('file://{ROOT}/socket.yaml'),
    status: 400,
  },
  // Last of its class: before the fix it blocks a libuv thread until the test writes to it.
  {
    name: 'file reference to a FIFO',
    kind: 'design-file',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('file://{ROOT}/fifo.yaml'),
    status: 400,
  },
];

const redaction: HostileCase[] = [
  {
    name: 'token in a refused https reference',
    kind: 'redaction',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('https://10.0.0.1/site.yaml?token=TOPSECRET1'),
    status: 400,
    check: doesNotEcho('TOPSECRET1'),
  },
  {
    name: 'signature in a metadata-address reference',
    kind: 'redaction',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('http://169.254.169.254/latest?X-Amz-Signature=TOPSECRET2'),
    status: 400,
    check: doesNotEcho('TOPSECRET2'),
  },
  {
    name: 'token in a file reference',
    kind: 'redaction',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('file://{ROOT}/site.yaml?token=TOPSECRET3'),
    status: 400,
    check: doesNotEcho('TOPSECRET3'),
  },
  {
    name: 'token in an s3 reference',
    kind: 'redaction',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('s3://bucket/site.yaml?token=TOPSECRET4'),
    status: 400,
    check: doesNotEcho('TOPSECRET4'),
  },
  {
    name: 'token in a validatedesign href',
    kind: 'redaction',
    method: 'POST',
    path: '/validatedesign',
    body: { href: 'https://10.0.0.1/site.yaml?token=TOPSECRET5' },
    status: 400,
    check: doesNotEcho('TOPSECRET5'),
  },
  {
    name: 'signature in a reference to a port the allow-list does not name',
    kind: 'redaction',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('http://[::1]:1/site.yaml?sig=TOPSECRET6'),
    status: 400,
    check: doesNotEcho('TOPSECRET6'),
  },
  {
    name: 'signature in an unreachable allowed reference',
    kind: 'redaction',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('http://[::1]/site.yaml?sig=TOPSECRET7'),
    status: 502,
    check: doesNotEcho('TOPSECRET7'),
  },
  {
    name: 'token in a stored design_ref of a refused task',
    kind: 'redaction',
    method: 'POST',
    path: '/tasks',
    body: task({ design_ref: 'https://u:p@deckhand/x?token=TOPSECRET8' }),
    status: 400,
    check: doesNotEcho('TOPSECRET8'),
  },
];

const SSRF: readonly [string, string][] = [
  ['IPv4-translated ::ffff:0:127.0.0.1', 'http://[::ffff:0:7f00:1]/site.yaml'],
  ['IPv4-translated ::ffff:0:169.254.169.254', 'http://[::ffff:0:a9fe:a9fe]/site.yaml'],
  ['6to4 of 127.0.0.1', 'http://[2002:7f00:1::]/site.yaml'],
  ['6to4 of 169.254.169.254', 'http://[2002:a9fe:a9fe::1]/site.yaml'],
  ['6to4 of 10.0.0.1', 'http://[2002:a00:1::]/site.yaml'],
  ['local-use NAT64 of 127.0.0.1', 'http://[64:ff9b:1::7f00:1]/site.yaml'],
  ['local-use NAT64 anywhere in the /48', 'http://[64:ff9b:1:ffff::1]/site.yaml'],
  ['Teredo with 127.0.0.1 as client', 'http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/site.yaml'],
  ['Teredo with a public client', 'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/site.yaml'],
  ['discard-only 100::1', 'http://[100::1]/site.yaml'],
  ['discard-only top of the /64', 'http://[100::ffff:ffff:ffff:ffff]/site.yaml'],
  ['site-local fec0::1', 'http://[fec0::1]/site.yaml'],
  ['site-local feff::1', 'http://[feff::1]/site.yaml'],
  ['NAT64 well-known of 127.0.0.1', 'http://[64:ff9b::7f00:1]/site.yaml'],
  ['IPv4-mapped 127.0.0.1', 'http://[::ffff:127.0.0.1]/site.yaml'],
  ['6to4 of a public address (the relay is the risk)', 'http://[2002:808:808::1]/site.yaml'],
];

const ssrf: HostileCase[] = SSRF.map(
  ([label, ref]): HostileCase => ({
    name: `address guard: ${label}`,
    kind: 'ssrf',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve(ref),
    status: 400,
  }),
);

const allowList: HostileCase[] = [
  {
    name: 'allow-listed host and port (accepted)',
    kind: 'allow-list',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('http://127.0.0.1:{DP}/site.yaml'),
    status: 200,
  },
  {
    name: 'allow-listed host on another port (the service itself)',
    kind: 'allow-list',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('http://127.0.0.1:{SP}/api/v1.0/health'),
    status: 400,
  },
  {
    name: 'allow-listed host on its default port when only a port is listed',
    kind: 'allow-list',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('http://127.0.0.1/site.yaml'),
    status: 400,
  },
  {
    name: 'bare allow-listed host on a non-default port',
    kind: 'allow-list',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('http://[::1]:{DP}/site.yaml'),
    status: 400,
  },
  {
    name: 'bare allow-listed host on an explicit default port',
    kind: 'allow-list',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('http://[::1]:80/site.yaml'),
    status: 502,
  },
  {
    name: 'a name for an allow-listed address',
    kind: 'allow-list',
    method: 'POST',
    path: '/designs/resolve',
    body: resolve('http://localhost:{DP}/site.yaml'),
    status: 400,
  },
];

// ---------------------------------------------------------------------------------------------
// What a JSON parse error may say

const jsonErrors: HostileCase[] = [
  {
    name: 'form-encoded body',
    kind: 'json-errors',
    method: 'POST',
    path: '/tasks',
    body: 'action=TOPSECRET9&x=1',
    headers: [JSON_TYPE],
    status: 400,
    check: doesNotEcho('TOPSECRET9'),
  },
  {
    name: 'bare word in an object',
    kind: 'json-errors',
    method: 'POST',
    path: '/tasks',
    body: '{"action": TOPSECRET10}',
    headers: [JSON_TYPE],
    status: 400,
    check: doesNotEcho('TOPSECRET10'),
  },
  {
    name: 'bare word in a batch',
    kind: 'json-errors',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: '[{"message":"m"},TOPSECRET11]',
    headers: [JSON_TYPE],
    status: 400,
    check: doesNotEcho('TOPSECRET11'),
  },
  {
    name: 'parse error says where',
    kind: 'json-errors',
    method: 'POST',
    path: '/tasks',
    body: '{"action":"verify_site",,}',
    headers: [JSON_TYPE],
    status: 400,
    check: ({ text }) => (/position|line|column/.test(text) ? undefined : `no position in ${text}`),
  },
];

// ---------------------------------------------------------------------------------------------
// Protocol corners

const patchS = (
  headers: readonly (readonly [string, string])[],
): Omit<HostileCase, 'name' | 'status'> => ({
  kind: 'protocol',
  method: 'PATCH',
  path: '/tasks/{S}',
  body: { retry: 1 },
  headers: [JSON_TYPE, ...headers],
  setup: [{ method: 'POST', path: '/tasks', body: task(), captureTask: true }],
});
const encoded = (coding: string, bytes: Buffer): Omit<HostileCase, 'name' | 'status'> => ({
  kind: 'protocol',
  method: 'POST',
  path: '/tasks',
  body: bytes,
  headers: [JSON_TYPE, ['Content-Encoding', coding]],
});
const TASK_JSON = Buffer.from(JSON.stringify(task()));

const protocol: HostileCase[] = [
  {
    name: 'If-Match given twice',
    ...patchS([
      ['If-Match', '"1"'],
      ['If-Match', '"1"'],
    ]),
    status: 400,
  },
  {
    name: 'If-Match with an unbalanced opening quote',
    ...patchS([['If-Match', '"1']]),
    status: 400,
  },
  {
    name: 'If-Match with an unbalanced closing quote',
    ...patchS([['If-Match', '1"']]),
    status: 400,
  },
  {
    name: 'weak If-Match with an unbalanced quote',
    ...patchS([['If-Match', 'W/"1']]),
    status: 400,
  },
  { name: 'If-Match of any version', ...patchS([['If-Match', '*']]), status: 400 },
  { name: 'If-Match listing two versions', ...patchS([['If-Match', '"1", "2"']]), status: 400 },
  {
    name: 'a Latin-1 body declared as such',
    kind: 'protocol',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: Buffer.from(JSON.stringify(message({ message: 'caf\u00e9' })), 'latin1'),
    headers: [['Content-Type', 'application/json; charset=iso-8859-1']],
    status: 400,
  },
  {
    name: 'If-Match of the current version (accepted)',
    ...patchS([['If-Match', '"1"']]),
    status: 200,
    writes: true,
  },
  {
    name: 'Idempotency-Key given twice',
    kind: 'protocol',
    method: 'POST',
    path: '/tasks',
    body: task(),
    headers: [JSON_TYPE, ['Idempotency-Key', 'a-{K}'], ['Idempotency-Key', 'b-{K}']],
    status: 400,
  },
  {
    name: 'Content-Type given twice',
    kind: 'protocol',
    method: 'POST',
    path: '/tasks',
    body: task(),
    headers: [['Content-Type', 'text/plain'], JSON_TYPE],
    status: 400,
  },
  { name: 'gzip body', ...encoded('gzip', gzipSync(TASK_JSON)), status: 415 },
  { name: 'deflate body', ...encoded('deflate', deflateSync(TASK_JSON)), status: 415 },
  { name: 'brotli body', ...encoded('br', brotliCompressSync(TASK_JSON)), status: 415 },
  { name: 'GZIP in capitals', ...encoded('GZIP', gzipSync(TASK_JSON)), status: 415 },
  {
    name: 'gzip listed with identity',
    ...encoded('gzip, identity', gzipSync(TASK_JSON)),
    status: 415,
  },
  { name: 'an unknown coding on plain JSON', ...encoded('x-custom', TASK_JSON), status: 415 },
  {
    name: 'Content-Encoding given twice',
    kind: 'protocol',
    method: 'POST',
    path: '/tasks',
    body: gzipSync(TASK_JSON),
    headers: [JSON_TYPE, ['Content-Encoding', 'identity'], ['Content-Encoding', 'gzip']],
    status: 415,
  },
  {
    name: 'identity coding (accepted)',
    ...encoded('identity', TASK_JSON),
    status: 201,
    writes: true,
  },
  // Drydock answers HEAD on its GET routes and OPTIONS everywhere (falcon); both were 405.
  {
    name: 'HEAD on a task: its GET without the body',
    kind: 'protocol',
    method: 'HEAD',
    path: '/tasks/{T}',
    status: 200,
    check: (a) =>
      a.bytes === 0 && a.headers.etag ? undefined : `${a.bytes} bytes, ETag ${a.headers.etag}`,
  },
  {
    name: 'HEAD on the task list',
    kind: 'protocol',
    method: 'HEAD',
    path: '/tasks?limit=1',
    status: 200,
    check: (a) => (a.bytes === 0 ? undefined : `${a.bytes} bytes`),
  },
  {
    name: 'OPTIONS on a task: the methods it allows',
    kind: 'protocol',
    method: 'OPTIONS',
    path: '/tasks/{T}',
    status: 200,
    check: (a) => {
      const allow = String(a.headers.allow ?? '');
      return ['GET', 'HEAD', 'PATCH', 'OPTIONS'].every((m) => allow.includes(m))
        ? undefined
        : `Allow: ${allow}`;
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Idempotency keys are scoped, and a replay must repeat the request

type Headers = readonly (readonly [string, string])[];
const key = (k = '{K}'): Headers => [['Idempotency-Key', k]];
const post = (path: string, body: unknown, headers?: Headers): SetupStep => ({
  method: 'POST',
  path,
  body,
  ...(headers ? { headers } : {}),
});
const postTask = (body: unknown, k?: string): SetupStep => post('/tasks', body, key(k));
/** A subtask of `parent` registered by the lease holder. */
const subtask = (parent: string, action: string, extra: object = {}, headers?: Headers) =>
  post(`/tasks/${parent}/subtasks`, { action, ...extra, epoch: '{E}' }, headers);
const buildData = (node: string, body: unknown, headers?: Headers) =>
  post(`/nodes/${node}/builddata`, body, headers);
const messages = (task: string, body: unknown, headers?: Headers) =>
  post(`/tasks/${task}/messages`, body, headers);

/** `request` after the writes of `setup`: answered with `status`, writing nothing unless `writes`. */
const after = (
  name: string,
  setup: readonly SetupStep[],
  request: SetupStep,
  status: number,
  more: Pick<HostileCase, 'writes' | 'check'> = {},
): HostileCase => ({
  name,
  kind: 'idempotency',
  method: request.method,
  path: request.path,
  body: request.body,
  ...(request.headers ? { headers: request.headers } : {}),
  ...(setup.length > 0 ? { setup } : {}),
  status,
  ...more,
});
/** `request` sent twice with the same key: the second is a replay, answered `status`. */
const replayed = (
  name: string,
  request: SetupStep,
  status: number,
  more: Pick<HostileCase, 'check'> = {},
): HostileCase => after(name, [request], request, status, more);
/** One batch giving one key to two items, the second changed by `other`: refused whole (422). */
const oneKeyTwice = (
  name: string,
  send: (batch: unknown[]) => SetupStep,
  body: (fields: object) => unknown,
  other: object,
): HostileCase =>
  after(
    name,
    [],
    send([body({ idempotency_key: '{K}' }), body({ idempotency_key: '{K}', ...other })]),
    422,
  );
const inserted: AnswerCheck = ({ body }) =>
  body?.inserted?.length === 1 ? undefined : `inserted ${JSON.stringify(body)}`;
const duplicated: AnswerCheck = ({ body }) =>
  body?.duplicates === 1 ? undefined : `duplicates ${JSON.stringify(body)}`;

const idempotency: HostileCase[] = [
  after(
    'key of a top-level task reused for a subtask',
    [postTask(task())],
    subtask('{T}', 'noop', {}, key()),
    201,
    {
      writes: true,
      check: ({ body }) =>
        body?.parent_task_id ? undefined : 'answered with the unrelated top-level task',
    },
  ),
  after(
    'subtask id registered under another parent',
    [subtask('{T}', 'noop', { task_id: '{U}' })],
    subtask('{T2}', 'noop', { task_id: '{U}' }),
    409,
  ),
  after(
    'task key replayed with another body',
    [postTask(task())],
    postTask(task({ action: 'deploy_nodes' })),
    422,
  ),
  replayed('task key replayed with the same body (replay)', postTask(task()), 200),
  after(
    'subtask key replayed with another action',
    [subtask('{T}', 'noop', {}, key())],
    subtask('{T}', 'deploy_node', {}, key()),
    422,
  ),
  after(
    'subtask id replayed with another action',
    [subtask('{T}', 'noop', { task_id: '{U}' })],
    subtask('{T}', 'deploy_node', { task_id: '{U}' }),
    422,
  ),
  replayed(
    'subtask id replayed unchanged (replay)',
    subtask('{T}', 'noop', { task_id: '{U}' }),
    200,
  ),
  after(
    'subtask id of an existing top-level task',
    [],
    subtask('{T}', 'noop', { task_id: '{T2}' }),
    409,
  ),
  after(
    'subtask key replayed after a top-level task used it (replay)',
    [postTask(task()), subtask('{T}', 'noop', {}, key())],
    subtask('{T}', 'noop', {}, key()),
    200,
  ),
  after(
    'build-data key of node A used for node B',
    [buildData('a-{K}', item(), key())],
    buildData('b-{K}', item(), key()),
    201,
    { writes: true, check: inserted },
  ),
  after(
    'build-data item key of node A used for node B',
    [buildData('a-{K}', item({ idempotency_key: '{K}' }))],
    buildData('b-{K}', item({ idempotency_key: '{K}' })),
    201,
    { writes: true, check: inserted },
  ),
  after(
    'build-data key replayed with another payload',
    [buildData('a-{K}', item(), key())],
    buildData('a-{K}', item({ data_element: '<y/>' }), key()),
    422,
  ),
  replayed('build-data key replayed unchanged (replay)', buildData('a-{K}', item(), key()), 201, {
    check: duplicated,
  }),
  oneKeyTwice(
    'build-data batch with one key for two payloads',
    (batch) => buildData('a-{K}', batch),
    item,
    { data_element: '<y/>' },
  ),
  after(
    'message key replayed with another text',
    [messages('{T}', message({ idempotency_key: '{K}', message: 'first' }))],
    messages('{T}', message({ idempotency_key: '{K}', message: 'second' })),
    422,
  ),
  after(
    'message batch key replayed with another batch',
    [messages('{T}', [message({ message: 'y' })], key())],
    messages('{T}', [message({ message: 'x' })], key()),
    422,
  ),
  replayed(
    'message batch key replayed unchanged (replay)',
    messages('{T}', [message()], key()),
    201,
    {
      check: duplicated,
    },
  ),
  oneKeyTwice(
    'message batch with one key for two texts',
    (batch) => messages('{T}', batch),
    message,
    { message: 'other' },
  ),
  after(
    'message key of one task used on another',
    [messages('{T}', message({ idempotency_key: '{K}' }))],
    messages('{T2}', message({ idempotency_key: '{K}' })),
    201,
    { writes: true },
  ),
];

// ---------------------------------------------------------------------------------------------
// Answers and tasks stay within their bounds

const names1k = (count: number, width: number, tag: string) =>
  Array.from(
    { length: count },
    (_, i) => `${tag}-${String(i).padStart(6, '0')}-${'n'.repeat(width)}`,
  );
const big = (chars: number) => 'x'.repeat(chars);
const withinLambda: AnswerCheck = ({ bytes }) =>
  bytes < MIB ? undefined : `answered ${bytes} bytes`;
/** A new task (`{S}`), then `body` posted to its messages `times` times. */
const taskWithMessages = (body: unknown, times: number): SetupStep[] => [
  { method: 'POST', path: '/tasks', body: task(), captureTask: true },
  { method: 'POST', path: '/tasks/{S}/messages', body, repeat: times },
];
const bigTask = taskWithMessages(message({ message: big(60_000) }), 24);
const entityPatch = (tag: string, count: number, width: number): SetupStep => ({
  method: 'PATCH',
  path: '/tasks/{S}',
  body: { result: { add_successes: names1k(count, width, tag) } },
  headers: [['If-Match', '{V}']],
});

const bounds: HostileCase[] = [
  {
    name: 'task with 24 messages of 60 KB',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}',
    setup: bigTask,
    sharedSetup: 'big task',
    status: 200,
    check: (a) =>
      withinLambda(a) ??
      (a.body?.truncated?.messages ? undefined : 'nothing says the messages were cut'),
  },
  {
    name: 'task tree with 24 messages of 60 KB',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}?layers=-1',
    setup: bigTask,
    sharedSetup: 'big task',
    status: 200,
    check: withinLambda,
  },
  {
    name: 'task with subtask errors and 24 messages of 60 KB',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}?subtaskerrors=true',
    setup: bigTask,
    sharedSetup: 'big task',
    status: 200,
    check: withinLambda,
  },
  {
    name: 'a page of 1000 messages of 60 KB',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}/messages?limit=1000',
    setup: bigTask,
    sharedSetup: 'big task',
    status: 200,
    check: (a) =>
      withinLambda(a) ?? (a.headers['x-next-cursor'] ? undefined : 'no cursor to the rest'),
  },
  {
    name: 'one PATCH adding 1,000 names of 1 KB',
    kind: 'bounds',
    method: 'PATCH',
    path: '/tasks/{S}',
    body: { result: { add_successes: names1k(1000, 1000, 'a') } },
    headers: [JSON_TYPE, ['If-Match', '{V}']],
    setup: [{ method: 'POST', path: '/tasks', body: task(), captureTask: true }],
    status: 413,
  },
  {
    name: 'the PATCH that grows the entity lists past the bound',
    kind: 'bounds',
    method: 'PATCH',
    path: '/tasks/{S}',
    body: { result: { add_failures: names1k(20, 1000, 'c') } },
    headers: [JSON_TYPE, ['If-Match', '{V}']],
    setup: [
      { method: 'POST', path: '/tasks', body: task(), captureTask: true },
      entityPatch('a', 20, 1000),
      entityPatch('b', 20, 1000),
    ],
    status: 409,
  },
  {
    name: 'a node filter of 70 KB on a task',
    kind: 'bounds',
    method: 'POST',
    path: '/tasks',
    body: task({ node_filter: filter({ node_names: names1k(70, 1000, 'n') }) }),
    status: 413,
  },
  {
    name: 'a node filter of 70 KB on a subtask',
    kind: 'bounds',
    method: 'POST',
    path: '/tasks/{T}/subtasks',
    body: {
      action: 'noop',
      epoch: '{E}',
      node_filter: filter({ node_names: names1k(70, 1000, 'n') }),
    },
    status: 413,
  },
  {
    name: 'a message with 70 KB of extra',
    kind: 'bounds',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: message({ extra: { blob: big(70_000) } }),
    status: 413,
  },
  {
    name: 'a message whose text and extra pass 64 KiB together',
    kind: 'bounds',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: message({ message: big(40_000), extra: { blob: big(30_000) } }),
    status: 413,
  },
  {
    name: 'a page of 1000 tasks holding 40 KB of names each',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks?limit=1000',
    setup: Array.from({ length: 14 }, (_, i) => [
      { method: 'POST', path: '/tasks', body: task(), captureTask: true },
      entityPatch(`p${i}`, 40, 1000),
    ]).flat(),
    status: 200,
    check: (a) =>
      withinLambda(a) ?? (a.headers['x-next-cursor'] ? undefined : 'no cursor to the rest'),
  },
  {
    name: 'entity lists within the bound (accepted)',
    kind: 'bounds',
    method: 'PATCH',
    path: '/tasks/{S}',
    body: { result: { add_failures: names1k(10, 1000, 'c') } },
    headers: [JSON_TYPE, ['If-Match', '{V}']],
    setup: [
      { method: 'POST', path: '/tasks', body: task(), captureTask: true },
      entityPatch('a', 20, 1000),
    ],
    status: 200,
    writes: true,
  },
];

// ---------------------------------------------------------------------------------------------
// Answers that grow with what is stored, not with the request: each stops at its bound
// (`shared/api/answer-budget.ts`) and says where the rest is.

/** The Lambda answer's size: the body escaped once more inside its JSON envelope. */
const envelope = (text: string) => Buffer.byteLength(JSON.stringify(text));
/** Under Lambda's 6 MB with the envelope, and no larger than the 4 MiB answer budget allows. */
const withinAnswer: AnswerCheck = ({ text }) =>
  envelope(text) <= 4 * MIB + 70_000
    ? undefined
    : `answered ${envelope(text)} bytes in the envelope`;
/** Under the Data API's 1 MiB: one read's budget (512 KiB) and one more row. */
const withinRead: AnswerCheck = ({ bytes }) =>
  bytes < MIB ? undefined : `answered ${bytes} bytes`;
const pagedOn =
  (query: RegExp): AnswerCheck =>
  (a) => {
    const link = String(a.headers.link ?? '');
    if (!a.headers['x-next-cursor']) return 'no X-Next-Cursor to the rest';
    if (!/[?&]cursor=[A-Za-z0-9_-]+/.test(link) || !query.test(link)) return `Link is ${link}`;
    return undefined;
  };
const both =
  (...checks: AnswerCheck[]): AnswerCheck =>
  (a) => {
    for (const check of checks) {
      const problem = check(a);
      if (problem) return problem;
    }
    return undefined;
  };

/**
 * `POST /tasks/{S}/terminate` (recursive) on the shared setup's tree of `total` tasks: the
 * answer fits a read and lists only part of what X-Total-Count says was terminated.
 */
const terminateAll = (
  name: string,
  setup: readonly SetupStep[],
  sharedSetup: string,
  total: number,
): HostileCase => ({
  name,
  kind: 'bounds',
  method: 'POST',
  path: '/tasks/{S}/terminate',
  body: { recursive: true },
  setup,
  sharedSetup,
  status: 200,
  writes: true,
  check: both(withinRead, (a) =>
    a.headers['x-total-count'] === String(total) && a.body.length < total
      ? undefined
      : `X-Total-Count ${a.headers['x-total-count']} with ${a.body.length} tasks listed`,
  ),
});

/** 10 tasks, each with 9 messages of 60 KB: 5.4 MB of messages, past one answer's 4 MiB. */
const manyBigTasks: SetupStep[] = Array.from({ length: 10 }, () => [
  { method: 'POST', path: '/tasks', body: task(), captureTask: true },
  {
    method: 'POST',
    path: '/tasks/{S}/messages',
    body: Array.from({ length: 9 }, () => message({ message: big(60_000) })),
  },
]).flat();

/** Fixed subtask ids: each server runs this setup once, on its own database. */
const SUB = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
/** A parent with 12 subtasks of 45 KB node filters: 540 KB of subtasks, past one read's budget. */
const wideParent: SetupStep[] = [
  { method: 'POST', path: '/tasks', body: task(), captureTask: true },
  ...Array.from({ length: 12 }, (_, i) => ({
    method: 'POST',
    path: '/tasks/{S}/subtasks',
    body: {
      action: 'prepare_nodes',
      task_id: SUB(100 + i),
      epoch: '{E}',
      node_filter: filter({ node_names: names1k(44, 1000, `w${i}`) }),
    },
  })),
];

/**
 * 14 queued tasks of 45 KB node filters (an action no other case queues): 630 KB of rows, past
 * one claim's answer bound (512 KiB), while `limit` would take all 14.
 */
const wideQueue: SetupStep[] = Array.from({ length: 14 }, (_, i) => ({
  method: 'POST',
  path: '/tasks',
  body: {
    action: 'relabel_nodes',
    design_ref: DESIGN,
    node_filter: filter({ node_names: names1k(44, 1000, `q${i}`) }),
  },
  captureTask: i === 0,
}));
/**
 * A claim (limit 100) of the wide queue: within the read bound, every claimed task listed and
 * running, the headers saying so, and `expect` of how many were claimed and deferred.
 */
const claimOfWideQueue = (
  name: string,
  expect: (claimed: number, deferred: number) => string | undefined,
): HostileCase => ({
  name,
  kind: 'bounds',
  method: 'POST',
  path: '/tasks/claim',
  body: { instance_id: 'orch-a', epoch: '{E}', actions: ['relabel_nodes'], limit: 100 },
  headers: [JSON_TYPE],
  setup: wideQueue,
  sharedSetup: 'wide queue',
  status: 200,
  writes: true,
  check: both(withinRead, (a) => {
    const claimed = Number(a.headers['x-claimed-count']);
    const deferred = Number(a.headers['x-claim-deferred']);
    if (a.headers['x-claim-limit'] !== '100') return `X-Claim-Limit ${a.headers['x-claim-limit']}`;
    if (!Array.isArray(a.body) || a.body.length !== claimed) {
      return `X-Claimed-Count ${claimed} with ${a.body?.length} tasks listed`;
    }
    if (a.body.some((t: { status?: string }) => t.status !== 'running')) return 'not all running';
    return expect(claimed, deferred);
  }),
});

/** A task with 4 build-data items of 200 KB (4 generators): 800 KB, past one read's budget. */
const heavyBuildData: SetupStep[] = [
  { method: 'POST', path: '/tasks', body: task(), captureTask: true },
  {
    method: 'POST',
    path: '/nodes/bounds-node/builddata',
    body: Array.from({ length: 4 }, (_, i) => ({
      task_id: '{S}',
      generator: `lshw-${i}`,
      data_format: 'text/plain',
      data_element: big(200_000),
    })),
  },
];

/** A parent with `count` finished subtasks, each reporting 17 successes of 1 KB (17 KB). */
const bigRollup = (count: number, first: number): SetupStep[] => [
  { method: 'POST', path: '/tasks', body: task(), captureTask: true },
  ...Array.from({ length: count }, (_, i) => [
    {
      method: 'POST',
      path: '/tasks/{S}/subtasks',
      body: { action: 'deploy_node', task_id: SUB(first + i), epoch: '{E}' },
    },
    {
      method: 'PATCH',
      path: `/tasks/${SUB(first + i)}`,
      body: {
        epoch: '{E}',
        status: 'complete',
        result: { status: 'success', add_successes: names1k(17, 1000, `r${first + i}`) },
      },
    },
  ]).flat(),
];

/**
 * A task whose row is full: a 45 KB node filter (44,944 bytes of the row as JSON text, measured)
 * and a result message filling it to `room` bytes under the row bound (62 KiB = 63,488 bytes).
 */
const fullRow = (room: number): SetupStep[] => [
  {
    method: 'POST',
    path: '/tasks',
    body: task({ node_filter: filter({ node_names: names1k(44, 1000, 'f') }) }),
    captureTask: true,
  },
  {
    method: 'PATCH',
    path: '/tasks/{S}',
    body: { result: { message: big(63_488 - 44_942 - room) } },
    headers: [['If-Match', '{V}']],
  },
];

/** A read of one task row, on the Data API too: one row under 64 KB, the answer under 1 MiB. */
const readsTask: AnswerCheck = (a) =>
  withinRead(a) ??
  (a.body?.task_id || a.body?.init_task_id ? undefined : `no task: ${a.text.slice(0, 200)}`);

const rows: HostileCase[] = [
  {
    name: 'a subtask on a parent whose row has 16 bytes left (a subtask id takes 42)',
    kind: 'bounds',
    method: 'POST',
    path: '/tasks/{S}/subtasks',
    body: { action: 'prepare_nodes', epoch: '{E}' },
    setup: fullRow(16),
    status: 409,
    check: (a) =>
      /cannot take another subtask/.test(a.body?.message ?? '')
        ? undefined
        : `message: ${a.body?.message}`,
  },
  {
    name: 'a subtask on a parent whose row has 58 bytes left (accepted)',
    kind: 'bounds',
    method: 'POST',
    path: '/tasks/{S}/subtasks',
    body: { action: 'prepare_nodes', epoch: '{E}' },
    setup: fullRow(58),
    status: 201,
    writes: true,
  },
  {
    name: 'a PATCH adding 20 KB of names to a task whose row holds 63 KB',
    kind: 'bounds',
    method: 'PATCH',
    path: '/tasks/{S}',
    body: { epoch: '{E}', result: { add_successes: names1k(20, 1000, 'g') } },
    headers: [JSON_TYPE],
    setup: fullRow(16),
    sharedSetup: 'full row',
    status: 409,
    check: (a) =>
      /row would grow past 63488 bytes/.test(a.body?.message ?? '')
        ? undefined
        : `message: ${a.body?.message}`,
  },
  {
    name: 'the task with the fullest row, read whole',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}',
    setup: fullRow(16),
    sharedSetup: 'full row',
    status: 200,
    check: readsTask,
  },
  {
    name: 'the task with the fullest row, read with its tree',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}?layers=-1&subtaskerrors=true',
    setup: fullRow(16),
    sharedSetup: 'full row',
    status: 200,
    check: readsTask,
  },
  {
    name: 'a result message and reason of 64 Ki characters in one PATCH',
    kind: 'bounds',
    method: 'PATCH',
    path: '/tasks/{T2}',
    body: { epoch: '{E}', result: { message: big(65_536), reason: big(65_536) } },
    headers: [JSON_TYPE],
    status: 413,
  },
  {
    name: 'a build-data payload of 1,000,000 characters (past one read)',
    kind: 'bounds',
    method: 'POST',
    path: '/nodes/row-node/builddata',
    body: item({ data_element: big(1_000_000) }),
    headers: [JSON_TYPE],
    status: 413,
  },
  {
    name: 'a build-data payload of 480,000 characters (accepted, and read whole)',
    kind: 'bounds',
    method: 'POST',
    path: '/nodes/row-node-2/builddata',
    body: item({ data_element: big(480_000) }),
    headers: [JSON_TYPE],
    status: 201,
    writes: true,
  },
  {
    name: 'that payload read back at verbosity 2',
    kind: 'bounds',
    method: 'GET',
    path: '/nodes/row-node-2/builddata?latest=false',
    status: 200,
    check: (a) =>
      withinRead(a) ??
      (a.body?.[0]?.data_element?.length === 480_000 ? undefined : 'not the whole payload'),
  },
];

const growing: HostileCase[] = [
  {
    name: 'every task (no limit) when they hold 5.4 MB of messages',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks',
    setup: manyBigTasks,
    sharedSetup: 'many big tasks',
    status: 200,
    check: both(withinAnswer, pagedOn(/^<\/api\/v1\.0\/tasks\?cursor=/), (a) =>
      Array.isArray(a.body) && a.body.some((t: { truncated?: unknown }) => t.truncated)
        ? undefined
        : 'no task says its messages were cut',
    ),
  },
  {
    name: 'every queued task (no limit), the filter kept in the next link',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks?status=queued&action=verify_site',
    setup: manyBigTasks,
    sharedSetup: 'many big tasks',
    status: 200,
    check: both(withinAnswer, pagedOn(/status=queued&action=verify_site&cursor=/)),
  },
  {
    name: 'subtasks of a parent holding 540 KB of them',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}/subtasks',
    setup: wideParent,
    sharedSetup: 'wide parent',
    status: 200,
    check: both(withinRead, pagedOn(/\/tasks\/[0-9a-f-]{36}\/subtasks\?cursor=/)),
  },
  {
    name: 'active subtasks of a parent holding 540 KB of them',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}/subtasks?which=active',
    setup: wideParent,
    sharedSetup: 'wide parent',
    status: 200,
    check: both(withinRead, pagedOn(/subtasks\?which=active&cursor=/)),
  },
  {
    name: 'a subtask cursor that is not one',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}/subtasks?cursor=bm90LWEtY3Vyc29y',
    setup: wideParent,
    sharedSetup: 'wide parent',
    status: 400,
  },
  terminateAll(
    'recursive terminate of a parent holding 540 KB of subtasks',
    wideParent,
    'wide parent',
    13,
  ),
  claimOfWideQueue(
    'a claim (limit 100) of 14 queued tasks holding 630 KB: only what fits the answer',
    (claimed, deferred) =>
      claimed >= 1 && claimed < 14 && deferred === 14 - claimed
        ? undefined
        : `claimed ${claimed}, deferred ${deferred}`,
  ),
  claimOfWideQueue(
    'the next claim takes the tasks the last one left queued',
    (claimed, deferred) =>
      claimed >= 1 && deferred === 0 ? undefined : `claimed ${claimed}, deferred ${deferred}`,
  ),
  {
    name: 'build data of a task at verbosity 2, 800 KB of payloads',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}/builddata',
    setup: heavyBuildData,
    sharedSetup: 'heavy build data',
    status: 200,
    check: both(withinRead, pagedOn(/\/builddata\?cursor=/)),
  },
  {
    name: "a node's build data at verbosity 2, every item",
    kind: 'bounds',
    method: 'GET',
    path: '/nodes/bounds-node/builddata?latest=false&verbosity=2',
    setup: heavyBuildData,
    sharedSetup: 'heavy build data',
    status: 200,
    check: both(withinRead, pagedOn(/latest=false&verbosity=2&cursor=/)),
  },
  {
    name: "a node's newest build data per generator at verbosity 2",
    kind: 'bounds',
    method: 'GET',
    path: '/nodes/bounds-node/builddata',
    setup: heavyBuildData,
    sharedSetup: 'heavy build data',
    status: 200,
    check: both(withinRead, pagedOn(/builddata\?cursor=/)),
  },
  {
    name: 'a task with its 800 KB of build data embedded',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}?builddata=true',
    setup: heavyBuildData,
    sharedSetup: 'heavy build data',
    status: 200,
    check: both(withinRead, (a) =>
      a.body?.truncated?.build_data?.next ? undefined : 'nothing says the build data was cut',
    ),
  },
  {
    name: 'build data without payloads: every item in one answer',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}/builddata?verbosity=1',
    setup: heavyBuildData,
    sharedSetup: 'heavy build data',
    status: 200,
    check: (a) =>
      a.body?.length === 4 && !a.headers['x-next-cursor'] ? undefined : 'not the 4 items, uncut',
  },
  {
    name: 'a roll-up whose lists pass 48 KiB (3 subtasks of 17 KB of names)',
    kind: 'bounds',
    method: 'POST',
    path: '/tasks/{S}/rollup',
    body: { epoch: '{E}' },
    setup: bigRollup(3, 200),
    status: 409,
    check: (a) =>
      /51 successes and 0 failures, \d+ bytes of JSON .* past a task's bound of 49152; nothing was changed/.test(
        a.body?.message ?? '',
      )
        ? undefined
        : `message: ${a.body?.message}`,
  },
  {
    name: 'the same roll-up, align only (the status rolls up, no list grows)',
    kind: 'bounds',
    method: 'POST',
    path: '/tasks/{S}/rollup',
    body: { epoch: '{E}', align: {} },
    setup: bigRollup(3, 300),
    status: 200,
    writes: true,
    check: (a) => (a.body?.result?.status === 'success' ? undefined : 'not success'),
  },
  {
    name: 'a roll-up within the bound (2 subtasks of 17 KB of names)',
    kind: 'bounds',
    method: 'POST',
    path: '/tasks/{S}/rollup',
    body: { epoch: '{E}' },
    setup: bigRollup(2, 400),
    status: 200,
    writes: true,
    check: (a) => (a.body?.result?.successes?.length === 34 ? undefined : 'not all 34 bubbled'),
  },
];

// ---------------------------------------------------------------------------------------------
// Bytes counted as the answer carries them: JSON escapes a control character into 6 bytes
// (`\u0001`) and a quote into 2, and the Data API escapes JSON values once more. Counting raw
// bytes let a read of "512 KiB" pass the Data API's 1 MiB and a message row its 64 KB.

const quotes = (count: number) => '"'.repeat(count);

/** A task with 30 messages of 10,000 control characters: 300 KB stored, 1.8 MB as JSON. */
const escapedMessages = taskWithMessages(
  Array.from({ length: 10 }, () => message({ message: controlChars(10_000) })),
  3,
);

/** A parent with 24 subtasks whose result messages hold 9,000 control characters (54 KB as JSON). */
const escapedSubtasks: SetupStep[] = [
  { method: 'POST', path: '/tasks', body: task(), captureTask: true },
  ...Array.from({ length: 24 }, (_, i) => [
    {
      method: 'POST',
      path: '/tasks/{S}/subtasks',
      body: { action: 'prepare_nodes', task_id: SUB(600 + i), epoch: '{E}' },
    },
    {
      method: 'PATCH',
      path: `/tasks/${SUB(600 + i)}`,
      body: { epoch: '{E}', result: { message: controlChars(9_000) } },
    },
  ]).flat(),
];

/** A parent with 5 subtasks of 1,000 one-character messages each: framing, not content. */
const tinyMessageTree: SetupStep[] = [
  { method: 'POST', path: '/tasks', body: task(), captureTask: true },
  ...Array.from({ length: 5 }, (_, i) => [
    {
      method: 'POST',
      path: '/tasks/{S}/subtasks',
      body: { action: 'prepare_nodes', task_id: SUB(700 + i), epoch: '{E}' },
    },
    {
      method: 'POST',
      path: `/tasks/${SUB(700 + i)}/messages`,
      body: Array.from({ length: 1000 }, () => message()),
    },
  ]).flat(),
];

/** 400 build-data items whose generator and format are control characters (7.7 KB as JSON). */
const escapedBuildData: SetupStep[] = [
  { method: 'POST', path: '/tasks', body: task(), captureTask: true },
  {
    method: 'POST',
    path: '/nodes/ctl-node/builddata',
    body: Array.from({ length: 100 }, () => ({
      task_id: '{S}',
      generator: controlChars(1024),
      data_format: controlChars(256),
      data_element: 'x',
    })),
    repeat: 4,
  },
];

/** The answer's messages are cut, and it says so. */
const messagesCut: AnswerCheck = (a) =>
  a.body?.truncated?.messages ? undefined : 'nothing says the messages were cut';

const escaped: HostileCase[] = [
  {
    name: 'a message of 20,000 control characters (120 KB as JSON)',
    kind: 'bounds',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: message({ message: controlChars(20_000) }),
    status: 413,
    check: names('message 0'),
  },
  {
    name: 'a message of 40,000 quotes (80 KB as JSON)',
    kind: 'bounds',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: message({ message: quotes(40_000) }),
    status: 413,
  },
  {
    name: 'a message whose extra holds 25,000 quotes (100 KB as the answer carries it)',
    kind: 'bounds',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: message({ extra: { q: quotes(25_000) } }),
    status: 413,
  },
  {
    name: 'a batch whose second message is 20,000 control characters (nothing appended)',
    kind: 'bounds',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: [message(), message({ message: controlChars(20_000) })],
    status: 413,
    check: names('message 1'),
  },
  {
    name: 'a message of 10,000 control characters (60 KB as JSON, accepted)',
    kind: 'bounds',
    method: 'POST',
    path: '/tasks/{T}/messages',
    body: message({ message: controlChars(10_000) }),
    status: 201,
    writes: true,
  },
  {
    name: 'a result message of 10,000 control characters (60 KB as JSON, accepted)',
    kind: 'bounds',
    method: 'PATCH',
    path: '/tasks/{S}',
    body: { result: { message: controlChars(10_000) } },
    headers: [JSON_TYPE, ['If-Match', '{V}']],
    setup: [{ method: 'POST', path: '/tasks', body: task(), captureTask: true }],
    status: 200,
    writes: true,
  },
  {
    name: 'a result message of 11,000 control characters (66 KB as JSON)',
    kind: 'bounds',
    method: 'PATCH',
    path: '/tasks/{S}',
    body: { result: { message: controlChars(11_000) } },
    headers: [JSON_TYPE, ['If-Match', '{V}']],
    setup: [{ method: 'POST', path: '/tasks', body: task(), captureTask: true }],
    status: 413,
  },
  {
    name: 'every task (no limit), the newest holding 1.8 MB of messages as JSON',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks',
    setup: escapedMessages,
    sharedSetup: 'escaped messages',
    status: 200,
    check: both(withinAnswer, (a) =>
      a.body?.[0]?.truncated?.messages
        ? undefined
        : 'the newest task does not say its messages were cut',
    ),
  },
  {
    name: 'a task with 30 messages of 10,000 control characters',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}',
    setup: escapedMessages,
    sharedSetup: 'escaped messages',
    status: 200,
    check: both(withinRead, messagesCut),
  },
  {
    name: 'the tree of a task with 30 messages of 10,000 control characters',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}?layers=-1&subtaskerrors=true',
    setup: escapedMessages,
    sharedSetup: 'escaped messages',
    status: 200,
    check: withinRead,
  },
  {
    name: 'a page of 1000 messages of 10,000 control characters',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}/messages?limit=1000',
    setup: escapedMessages,
    sharedSetup: 'escaped messages',
    status: 200,
    check: (a) =>
      withinRead(a) ?? (a.headers['x-next-cursor'] ? undefined : 'no cursor to the rest'),
  },
  {
    name: 'subtasks whose result messages hold 1.3 MB as JSON',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}/subtasks',
    setup: escapedSubtasks,
    sharedSetup: 'escaped subtasks',
    status: 200,
    check: both(withinRead, pagedOn(/subtasks\?cursor=/)),
  },
  {
    name: 'the tree of those subtasks',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}?layers=-1',
    setup: escapedSubtasks,
    sharedSetup: 'escaped subtasks',
    status: 200,
    check: readsTask,
  },
  {
    name: 'a page of 100 tasks, the newest 24 holding 1.3 MB of result messages as JSON',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks?limit=100',
    setup: escapedSubtasks,
    sharedSetup: 'escaped subtasks',
    status: 200,
    check: both(withinRead, pagedOn(/tasks\?.*limit=100.*cursor=/)),
  },
  terminateAll('recursive terminate of those subtasks', escapedSubtasks, 'escaped subtasks', 25),
  {
    name: 'a task tree with 5,000 one-character messages',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}?layers=-1',
    setup: tinyMessageTree,
    status: 200,
    check: readsTask,
  },
  {
    name: 'a task whose row is full, with 1,000 messages of 420 characters',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}',
    setup: [
      ...fullRow(16),
      {
        method: 'POST',
        path: '/tasks/{S}/messages',
        body: Array.from({ length: 1000 }, () => message({ message: big(420) })),
      },
    ],
    status: 200,
    check: readsTask,
  },
  {
    name: "a node's 400 build-data items named in control characters (3 MB as JSON)",
    kind: 'bounds',
    method: 'GET',
    path: '/nodes/ctl-node/builddata?latest=false&verbosity=1',
    setup: escapedBuildData,
    sharedSetup: 'escaped build data',
    status: 200,
    check: both(withinRead, pagedOn(/latest=false&verbosity=1&cursor=/)),
  },
  {
    name: 'the same items with their payloads',
    kind: 'bounds',
    method: 'GET',
    path: '/nodes/ctl-node/builddata?latest=false',
    setup: escapedBuildData,
    sharedSetup: 'escaped build data',
    status: 200,
    check: both(withinRead, pagedOn(/latest=false&cursor=/)),
  },
];

// ---------------------------------------------------------------------------------------------
// The reported size itself: 960 messages of 60 KB (57.6 MB), which `GET /tasks/{id}` answered
// whole (57.7 MB). Written in batches of 16 (a body stays under 1 MiB); last of all, as every
// later checksum would read them.

const hugeTask = taskWithMessages(
  Array.from({ length: 16 }, () => message({ message: big(60_000) })),
  60,
);

const reported: HostileCase[] = [
  {
    name: 'task with 960 messages of 60 KB (answered 57.7 MB)',
    kind: 'bounds',
    method: 'GET',
    path: '/tasks/{S}',
    setup: hugeTask,
    status: 200,
    check: (a) =>
      withinLambda(a) ??
      // Cut to the first messages that fit, and the answer says how many of how many.
      (a.body?.truncated?.messages?.total === 960 &&
      typeof a.body?.truncated?.messages?.shown === 'number' &&
      a.body.truncated.messages.shown > 0 &&
      a.body.truncated.messages.shown < 960 &&
      a.body?.result?.details?.messageList?.length === a.body.truncated.messages.shown
        ? undefined
        : `truncated: ${JSON.stringify(a.body?.truncated)}`),
  },
];

/** Every hostile case, in the order the runner sends them (the FIFO case ends its class). */
export const HOSTILE_CASES: readonly HostileCase[] = [
  ...poisonedStrings,
  ...collapsedIds,
  ...urlEscapes,
  ...utf8Bytes,
  ...depth,
  ...prototype,
  ...redaction,
  ...ssrf,
  ...allowList,
  ...jsonErrors,
  ...protocol,
  ...idempotency,
  ...designFile,
  // Last: the large tasks it writes make every later table checksum slower.
  ...bounds,
  ...growing,
  ...rows,
  ...escaped,
  ...reported,
];
