import { randomUUID } from 'node:crypto';
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  Context,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import { expect, vi } from 'vitest';
import type * as z from 'zod';
import {
  apiGatewayEvent,
  type Deployment,
  lambdaContext as lambdaContextFor,
  scheduledEvent as scheduledEventFor,
} from '#infra/local/lambda-events.ts';
import type { TaskDictSchema } from '#shared/api/schemas.ts';
import type { Db } from '#shared/db/port.ts';
import { sql, statement } from '#shared/db/sql.ts';
import type { Deps } from '#shared/deps.ts';
import type { ApiHandler } from '#shared/http/handler.ts';
import type { SqsHandler } from '#shared/triggers/sqs.ts';
import type { EmulatedDatabase } from '#test/support/data-api-emulator/index.ts';
import { urlWithSchema } from '#test/support/pg-server.ts';
import { openTestDb, type TestDb, type TestDriver } from '#test/support/test-db.ts';

type TaskDict = z.infer<ReturnType<typeof TaskDictSchema>>;

type FunctionsModule = {
  tasks: typeof import('#functions/tasks.ts');
  messages: typeof import('#functions/messages.ts');
  buildData: typeof import('#functions/build-data.ts');
  leader: typeof import('#functions/leader.ts');
  health: typeof import('#functions/health.ts');
  migrate: typeof import('#functions/migrate.ts');
};

/** The Lambda functions loaded over a fresh database, as a deployed container would run them. */
export interface LoadedService {
  readonly driver: TestDriver;
  readonly fns: FunctionsModule;
  /** The container's own dependencies (the same Db the handlers use). */
  readonly deps: Deps;
  readonly db: Db;
  /** data-api only: the cluster the functions reach (its emulator, its call counts). */
  readonly dataApi?: EmulatedDatabase;
  close(): Promise<void>;
}

const ENV_KEYS = [
  'DB_DRIVER',
  'DATABASE_URL',
  'DATABASE_SECRET_ARN',
  'DB_CLUSTER_ARN',
  'DB_SECRET_ARN',
  'DB_NAME',
  'PGLITE_DATA_DIR',
  'DB_STATEMENT_TIMEOUT_MS',
  'LEASE_GRACE_SECONDS',
  'LEASE_MODE',
  'LEASE_INSTANCE_ID',
  'RETENTION_DAYS',
  'RETENTION_BATCH_SIZE',
  'LOG_LEVEL',
  'MAX_BODY_BYTES',
  'AWS_ENDPOINT_URL_RDS_DATA',
];

/**
 * Sets the environment a Lambda container would have, then imports the function modules afresh
 * (new module instances: config, deps and logger are built again from this environment).
 * PGlite runs in memory and is migrated by the migrate function itself; pg gets its own schema.
 */
export interface PreparedEnvironment {
  /** data-api only: the cluster the environment points at (its emulator, its call counts). */
  readonly dataApi?: EmulatedDatabase;
  /** Drops the test database (and lets go of the emulator). */
  release(): Promise<void>;
}

/**
 * Sets the environment a Lambda container would have for `driver` over a fresh, empty database
 * (a new schema for pg and the Data API emulator, in-memory PGlite) and resets the module
 * registry, so the next imports build config, deps and logger again from this environment.
 */
export async function prepareEnvironment(
  driver: TestDriver,
  env: Readonly<Record<string, string>> = {},
): Promise<PreparedEnvironment> {
  let testDb: TestDb | undefined;
  for (const key of ENV_KEYS) delete process.env[key];
  process.env.LOG_LEVEL = 'SILENT';
  if (driver === 'pg') {
    testDb = await openTestDb('pg', { migrate: false });
    process.env.DB_DRIVER = 'pg';
    process.env.DATABASE_URL = urlWithSchema(testDb.schema as string);
  } else if (driver === 'data-api') {
    // The deployed configuration, pointed at the local Data API emulator through the SDK's own
    // endpoint variable: the handlers build the real data-api adapter from config.
    testDb = await openTestDb('data-api', { migrate: false });
    Object.assign(process.env, testDb.dataApi?.env);
  } else {
    process.env.DB_DRIVER = 'pglite';
    process.env.PGLITE_DATA_DIR = 'memory://';
  }
  Object.assign(process.env, env);
  vi.resetModules();
  return {
    ...(testDb?.dataApi ? { dataApi: testDb.dataApi } : {}),
    async release() {
      await testDb?.close();
    },
  };
}

/**
 * Loads the function modules over a fresh database, as a deployed container would run them;
 * the migrate function prepares the schema.
 */
export async function loadService(
  driver: TestDriver,
  env: Readonly<Record<string, string>> = {},
): Promise<LoadedService> {
  const prepared = await prepareEnvironment(driver, env);
  const fns: FunctionsModule = {
    tasks: await import('#functions/tasks.ts'),
    messages: await import('#functions/messages.ts'),
    buildData: await import('#functions/build-data.ts'),
    leader: await import('#functions/leader.ts'),
    health: await import('#functions/health.ts'),
    migrate: await import('#functions/migrate.ts'),
  };
  await fns.migrate.handler();
  const depsModule = await import('#shared/deps.ts');
  const deps = await depsModule.getDeps();
  return {
    driver,
    fns,
    deps,
    db: deps.db,
    ...(prepared.dataApi ? { dataApi: prepared.dataApi } : {}),
    async close() {
      await depsModule.closeDeps();
      await prepared.release();
    },
  };
}

/** Where the functions under test run: a deployed stack's account, region and API. */
export const TEST_DEPLOYMENT: Deployment = {
  accountId: '123456789012',
  region: 'eu-west-1',
  apiId: 'abc123',
  stage: 'prod',
  resourceId: 'res123',
};

/** A Lambda context as the runtime passes it. */
export function lambdaContext(functionName = 'drydock-test'): Context {
  return lambdaContextFor(functionName, TEST_DEPLOYMENT, {
    logStreamName: '2026/11/24/[$LATEST]0123456789abcdef',
  });
}

export const TEST_PRINCIPAL = 'arn:aws:iam::123456789012:role/drydock-orchestrator';

export interface ApiRequest {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** An object is sent as JSON with `Content-Type: application/json`; a string is sent as is. */
  body?: unknown;
  base64?: boolean;
  userArn?: string | null;
  /** A Lambda authoriser's context (the Keystone authoriser's): replaces the IAM identity. */
  authorizer?: Record<string, string>;
}

/** An API Gateway REST API proxy event, shaped as API Gateway sends it with IAM authorisation. */
export function apiEvent(request: ApiRequest): APIGatewayProxyEvent {
  const json = request.body !== undefined && typeof request.body !== 'string';
  const given = Object.entries(request.headers ?? {});
  // A header the test gives replaces the default of that name, however it is spelt.
  const named = new Set(given.map(([name]) => name.toLowerCase()));
  const defaults: [string, string][] = [
    ['Host', 'abc123.execute-api.eu-west-1.amazonaws.com'],
    ['User-Agent', 'drydock-test'],
    ...(json ? [['Content-Type', 'application/json'] as [string, string]] : []),
  ];
  const text =
    request.body === undefined
      ? null
      : typeof request.body === 'string'
        ? request.body
        : JSON.stringify(request.body);
  return apiGatewayEvent(
    {
      method: request.method,
      path: request.path,
      headers: [...defaults.filter(([name]) => !named.has(name.toLowerCase())), ...given],
      query: Object.entries(request.query ?? {}),
      body: text !== null && request.base64 ? Buffer.from(text).toString('base64') : text,
      isBase64Encoded: request.base64 ?? false,
      // Behind the Keystone authoriser the request was not signed: no IAM principal ARN.
      iam: {
        userArn:
          request.authorizer !== undefined
            ? null
            : request.userArn === undefined
              ? TEST_PRINCIPAL
              : request.userArn,
        caller: 'AROAEXAMPLE:orchestrator',
        accessKey: 'ASIAEXAMPLEKEY',
      },
      authorizer: request.authorizer ?? null,
      sourceIp: '10.0.0.7',
    },
    TEST_DEPLOYMENT,
  );
}

/** The parsed answer of an HTTP handler. */
export interface ApiAnswer {
  status: number;
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
  body: any;
}

export function answer(result: APIGatewayProxyResult): ApiAnswer {
  return {
    status: result.statusCode,
    headers: (result.headers ?? {}) as Record<string, string>,
    body: result.body ? JSON.parse(result.body) : undefined,
  };
}

/** The design reference of the tasks the functions' tests create. */
export const TEST_DESIGN_REF =
  'deckhand+https://deckhand.example/api/v1.0/revisions/7/rendered-documents';

/** An HTTP function's parsed answer to `request`, delivered as API Gateway delivers it. */
export async function callHttp(
  fn: { readonly handler: ApiHandler },
  request: ApiRequest,
  context: Context = lambdaContext(),
): Promise<ApiAnswer> {
  return answer(await fn.handler(apiEvent(request), context));
}

/**
 * A new top-level task through the tasks function's `POST /tasks` (by default a `verify_site` of
 * {@link TEST_DESIGN_REF}); fails the test unless it answered 201.
 */
export async function postTask(
  service: LoadedService,
  body: object = { action: 'verify_site', design_ref: TEST_DESIGN_REF },
): Promise<TaskDict> {
  const res = await callHttp(service.fns.tasks, { method: 'POST', path: '/api/v1.0/tasks', body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as TaskDict;
}

/** An SQS record as the Lambda event source mapping delivers it. */
export function sqsRecord(body: string | object, messageId: string = randomUUID()): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'AROAEXAMPLE:producer',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '0',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:drydock-events',
    awsRegion: 'eu-west-1',
  };
}

export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** An SQS function's answer to `records` delivered as one batch (its partial batch failures). */
export function deliverSqs(
  fn: { readonly sqsHandler: SqsHandler },
  records: SQSRecord[],
): Promise<SQSBatchResponse> {
  return fn.sqsHandler(sqsEvent(records), lambdaContext());
}

/** The EventBridge scheduled event of the one-minute rule. */
export function scheduledEvent(): Record<string, unknown> {
  return scheduledEventFor(TEST_DEPLOYMENT, 'drydock-lease');
}

/** Every table of the schema but the migration ledger (a test compares it with the catalog). */
export const SNAPSHOT_TABLES = [
  'tasks',
  'task_queue',
  'result_message',
  'build_data',
  'build_data_latest',
  'active_instance',
  'applied_event',
  'maintenance_claim',
  'boot_action',
  'boot_action_status',
  'event_outbox',
] as const;

/**
 * What a table's rows are compared on: the whole row, except the outbox's delivery columns
 * (claimed_until, published_at), which a publisher moves in the background: a refused request
 * must write no event, whatever the publisher has done meanwhile.
 */
const ROW_TEXT: Partial<Record<(typeof SNAPSHOT_TABLES)[number], string>> = {
  event_outbox: `(t.event_id, t.detail_type, t.task_id, t.old_status, t.new_status, t.result_status,
    t.epoch, t.version, t.extra, t.created)::text`,
};

/**
 * Row count and content checksum of every table, in one statement: equal snapshots mean nothing
 * was written (a version bump, an `updated` stamp or a new row all change it).
 */
export async function snapshot(db: Db): Promise<Record<string, string>> {
  // Table names come from the constant list above, never from input.
  const text = `select ${SNAPSHOT_TABLES.map(
    (table) =>
      `(select count(*) || ':' || coalesce(md5(string_agg(${ROW_TEXT[table] ?? 't::text'}, '|' order by ${ROW_TEXT[table] ?? 't::text'})), '') from ${table} t) as "${table}"`,
  ).join(', ')}`;
  const columns = Object.fromEntries(SNAPSHOT_TABLES.map((table) => [table, 'text'] as const));
  const rows = await db.query(statement(columns, { ...sql``, text, params: [] }));
  return { ...(rows[0] as Record<string, string>) };
}

/** Runs one SQL statement of a test's own setup (ageing rows, say). */
export async function exec(db: Db, text: string): Promise<void> {
  await db.query(statement({}, { ...sql``, text, params: [] }));
}
