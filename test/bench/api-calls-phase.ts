import { request } from 'undici';
import {
  type EventBridgeStandIn,
  startEventBridgeStandIn,
} from '#test/support/eventbridge-stand-in.ts';
import type { BenchSchema } from './bench-db.ts';
import { startChildServer } from './child-server.ts';
import { emulateBenchSchema } from './statements-phase.ts';

/** Data API calls one HTTP API operation cost, counted at the emulator. */
export interface ApiOperationCount {
  readonly operation: string;
  readonly status: number;
  /** The request's own calls: events left to the schedule (`EVENTS_PUBLISH=schedule`). */
  readonly dataApiCalls: number;
  /**
   * The same request with its events published inline before it answers, as a Lambda does
   * (`EVENTS_SINK=eventbridge`): its Data API calls and its PutEvents calls.
   */
  readonly inline: { readonly dataApiCalls: number; readonly putEvents: number };
}

type State = Record<string, string | number>;

interface ApiCall {
  readonly name: string;
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly path: (s: State) => string;
  readonly body?: (s: State) => unknown;
  readonly headers?: Record<string, string>;
  /** Uncounted first call (a replay needs an original). */
  readonly replay?: boolean;
  /** Keeps what later calls need from the answer. */
  readonly keep?: (body: unknown, s: State) => void;
}

const T = '/api/v1.0/tasks';
const LEADER = '/api/v1.0/leader';
const who = { instance_id: 'bench-api' };
const taskIdOf = (body: unknown) => (body as { task_id: string }).task_id;
const MSG = { message: 'step done', error: false, context_type: 'node', context: 'n1' };

/** The API in an order where each call finds the state it needs. */
const CALLS: readonly ApiCall[] = [
  { name: 'GET /health', method: 'GET', path: () => '/api/v1.0/health' },
  {
    name: 'POST /leader/claim',
    method: 'POST',
    path: () => `${LEADER}/claim`,
    body: () => ({ ...who, grace_seconds: 600 }),
    keep: (b, s) => {
      s.epoch = (b as { epoch: number }).epoch;
    },
  },
  {
    name: 'POST /leader/renew',
    method: 'POST',
    path: () => `${LEADER}/renew`,
    body: (s) => ({ ...who, epoch: s.epoch }),
  },
  { name: 'GET /leader', method: 'GET', path: () => LEADER },
  {
    name: 'POST /tasks',
    method: 'POST',
    path: () => T,
    body: () => ({ action: 'verify_site', design_ref: 'https://designs.example.com/site.yaml' }),
    keep: (b, s) => {
      s.task = taskIdOf(b);
    },
  },
  {
    name: 'POST /tasks (Idempotency-Key replay)',
    method: 'POST',
    path: () => T,
    headers: { 'idempotency-key': 'bench-replay-1' },
    body: () => ({ action: 'verify_site', design_ref: 'https://designs.example.com/site.yaml' }),
    replay: true,
  },
  {
    name: 'POST /tasks/{id}/subtasks',
    method: 'POST',
    path: (s) => `${T}/${s.task}/subtasks`,
    body: (s) => ({ action: 'prepare_nodes', epoch: s.epoch }),
    keep: (b, s) => {
      s.sub = taskIdOf(b);
    },
  },
  { name: 'GET /tasks/{id}', method: 'GET', path: (s) => `${T}/${s.task}` },
  { name: 'GET /tasks/{id}?layers=-1', method: 'GET', path: (s) => `${T}/${s.task}?layers=-1` },
  {
    name: 'GET /tasks/{id}?subtaskerrors=true',
    method: 'GET',
    path: (s) => `${T}/${s.task}?subtaskerrors=true`,
  },
  { name: 'GET /tasks?limit=10', method: 'GET', path: () => `${T}?limit=10` },
  { name: 'GET /tasks (every task, with messages)', method: 'GET', path: () => T },
  { name: 'GET /queue', method: 'GET', path: () => '/api/v1.0/queue' },
  { name: 'GET /tasks/{id}/subtasks', method: 'GET', path: (s) => `${T}/${s.task}/subtasks` },
  {
    name: 'POST /tasks/claim',
    method: 'POST',
    path: () => `${T}/claim`,
    body: (s) => ({ ...who, epoch: s.epoch, limit: 5 }),
  },
  {
    name: 'PATCH /tasks/{id}',
    method: 'PATCH',
    path: (s) => `${T}/${s.sub}`,
    body: (s) => ({ status: 'running', epoch: s.epoch }),
  },
  {
    name: 'POST /tasks/{id}/messages (1)',
    method: 'POST',
    path: (s) => `${T}/${s.task}/messages`,
    body: () => MSG,
  },
  {
    name: 'POST /tasks/{id}/messages (10)',
    method: 'POST',
    path: (s) => `${T}/${s.task}/messages`,
    body: () => Array.from({ length: 10 }, () => MSG),
  },
  { name: 'GET /tasks/{id}/messages', method: 'GET', path: (s) => `${T}/${s.task}/messages` },
  {
    name: 'PATCH /tasks/{id} (complete, a failure)',
    method: 'PATCH',
    path: (s) => `${T}/${s.sub}`,
    body: (s) => ({
      status: 'complete',
      epoch: s.epoch,
      result: { status: 'failure', add_failures: ['n1'] },
    }),
  },
  {
    name: 'POST /tasks/{id}/retry',
    method: 'POST',
    path: (s) => `${T}/${s.sub}/retry`,
    body: (s) => ({ epoch: s.epoch, max_attempts: 3 }),
  },
  {
    name: 'POST /nodes/{name}/builddata',
    method: 'POST',
    path: () => '/api/v1.0/nodes/n1/builddata',
    body: (s) => ({
      task_id: s.task,
      generator: 'lshw',
      data_format: 'text/plain',
      data_element: 'x'.repeat(30_000),
    }),
  },
  {
    name: 'GET /nodes/{name}/builddata?latest=true',
    method: 'GET',
    path: () => '/api/v1.0/nodes/n1/builddata?latest=true',
  },
  { name: 'GET /tasks/{id}/builddata', method: 'GET', path: (s) => `${T}/${s.task}/builddata` },
  {
    name: 'GET /tasks/{id}?builddata=true',
    method: 'GET',
    path: (s) => `${T}/${s.task}?builddata=true`,
  },
  {
    name: 'POST /tasks/{id}/terminate',
    method: 'POST',
    path: (s) => `${T}/${s.task}/terminate`,
    body: () => ({ recursive: true }),
  },
  {
    name: 'POST /tasks/{id}/rollup',
    method: 'POST',
    path: (s) => `${T}/${s.task}/rollup`,
    body: (s) => ({ epoch: s.epoch }),
  },
  {
    name: 'POST /leader/requeue',
    method: 'POST',
    path: () => `${LEADER}/requeue`,
    body: (s) => ({ ...who, epoch: s.epoch }),
  },
  { name: 'DELETE /tasks?days=30', method: 'DELETE', path: () => `${T}?days=30` },
  {
    name: 'POST /leader/abdicate',
    method: 'POST',
    path: () => `${LEADER}/abdicate`,
    body: (s) => ({ ...who, epoch: s.epoch }),
  },
];

/** How a pass publishes the outbox: not at all (the schedule would), or inline as on AWS. */
type Publishing =
  | { readonly kind: 'schedule' }
  | { readonly kind: 'inline'; bus: EventBridgeStandIn };

interface PassCount {
  readonly operation: string;
  readonly status: number;
  readonly dataApiCalls: number;
  readonly putEvents: number;
}

/**
 * The local server as a child process over the `data-api` driver, its SDK client pointed at the
 * emulator (AWS_ENDPOINT_URL_RDS_DATA), so every Data API call an HTTP operation makes, through
 * the whole handler stack, is counted where AWS would bill it. Two passes over the same calls:
 * with publishing left to the schedule, the count is the request's own statements (the local
 * server otherwise publishes in the background, where its calls would land in whichever request
 * is being counted); with events published inline (the EventBridge sink against a stand-in, as
 * a Lambda does before it answers), the count is what a request costs on AWS, publisher included.
 */
export async function runApiCallsPhase(
  schema: BenchSchema,
  progress: (text: string) => void,
): Promise<ApiOperationCount[]> {
  const own = await countPass(schema, { kind: 'schedule' }, progress);
  const bus = await startEventBridgeStandIn();
  try {
    const inline = await countPass(schema, { kind: 'inline', bus }, progress);
    return own.map((o, i) => {
      const with_ = inline[i] as PassCount;
      return {
        operation: o.operation,
        status: o.status,
        dataApiCalls: o.dataApiCalls,
        inline: { dataApiCalls: with_.dataApiCalls, putEvents: with_.putEvents },
      };
    });
  } finally {
    await bus.close();
  }
}

async function countPass(
  schema: BenchSchema,
  publishing: Publishing,
  progress: (text: string) => void,
): Promise<PassCount[]> {
  await schema.query(
    'truncate tasks, result_message, build_data, active_instance, applied_event, maintenance_claim, boot_action, boot_action_status, event_outbox',
  );
  const emulated = await emulateBenchSchema(schema);
  try {
    progress(`starting the local server over the Data API emulator (events: ${publishing.kind})`);
    const server = await startChildServer(['infra/local/server.ts'], {
      ...process.env,
      ...emulated.env,
      HOST: '127.0.0.1',
      PORT: '0',
      LOCAL_SCHEDULE: 'off',
      ...(publishing.kind === 'inline'
        ? {
            EVENTS_SINK: 'eventbridge',
            EVENT_BUS_NAME: 'bench-bus',
            AWS_ENDPOINT_URL_EVENTBRIDGE: publishing.bus.endpoint,
          }
        : { EVENTS_PUBLISH: 'schedule' }),
    });
    try {
      const state: State = {};
      const counts: PassCount[] = [];
      const send = async (call: ApiCall) => {
        const body = call.body?.(state);
        const response = await request(`${server.url}${call.path(state)}`, {
          method: call.method,
          headers: {
            ...call.headers,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await response.body.text();
        if (response.statusCode >= 300) {
          throw new Error(`${call.name} answered ${response.statusCode}: ${text.slice(0, 300)}`);
        }
        return {
          status: response.statusCode,
          json: text === '' ? null : (JSON.parse(text) as unknown),
        };
      };
      // The server delivers what the outbox holds once it is up (in the background): let that
      // finish before the first count.
      let seen = -1;
      while (emulated.calls().total !== seen) {
        seen = emulated.calls().total;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      for (const call of CALLS) {
        progress(`Data API calls (events: ${publishing.kind}): ${call.name}`);
        if (call.replay) await send(call);
        emulated.resetCalls();
        const putBefore = publishing.kind === 'inline' ? publishing.bus.calls : 0;
        const { status, json } = await send(call);
        call.keep?.(json, state);
        counts.push({
          operation: call.name,
          status,
          dataApiCalls: emulated.calls().total,
          putEvents: publishing.kind === 'inline' ? publishing.bus.calls - putBefore : 0,
        });
      }
      return counts;
    } finally {
      await server.stop();
    }
  } finally {
    await emulated.close();
  }
}
