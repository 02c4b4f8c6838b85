/**
 * The local server's own routes, beside the Lambdas' (AWS has EventBridge and CloudWatch for
 * these): `GET /api/v1.0/events`, a server-sent-events stream of the outbox events the local
 * publisher delivers, and `GET /api/v1.0/metrics`, the service's figures in the Prometheus text
 * format. Both sit behind the Keystone gate when `KEYSTONE_URL` is set.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { runOutboxTick } from '#shared/api/outbox-tick.ts';
import { API_PREFIX } from '#shared/api/shapes.ts';
import type { Deps } from '#shared/deps.ts';
import { PrometheusRegistry } from '#shared/metrics.ts';
import { EVENT_SOURCE } from '#shared/notify/sinks.ts';
import { type OutboxEvent, readEventsAfter } from '#shared/store/outbox.ts';
import { toApiGatewayEvent } from './app.ts';
import type { RequestGate } from './keystone.ts';

export const EVENTS_PATH = `${API_PREFIX}/events`;
export const METRICS_PATH = `${API_PREFIX}/metrics`;

/** Comment lines keep proxies and browsers from closing an idle stream. */
const HEARTBEAT_MS = 15_000;
/** Events replayed after a reconnect (`Last-Event-ID`), at most. */
const REPLAY_LIMIT = 1000;

/** Handles a request when it is one of these routes; false lets the server dispatch it. */
export type LocalRoutes = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;

/** One event as an SSE frame: its outbox id (for `Last-Event-ID`) and EventBridge's envelope. */
export function sseFrame(event: OutboxEvent): string {
  const data = {
    id: String(event.eventId),
    source: EVENT_SOURCE,
    'detail-type': event.detailType,
    time: event.detail.time,
    detail: event.detail,
  };
  return `id: ${event.eventId}\ndata: ${JSON.stringify(data)}\n\n`;
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ type: 'error', message: text, retry: false }));
}

/** Filters of the stream: one task's events, or one detail type. */
function streamFilter(url: URL): ((event: OutboxEvent) => boolean) | string {
  const taskId = url.searchParams.get('task_id');
  const type = url.searchParams.get('detail_type');
  if (
    taskId !== null &&
    !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(taskId)
  ) {
    return 'task_id must be a task id (uuid)';
  }
  for (const name of url.searchParams.keys()) {
    if (!['task_id', 'detail_type', 'after', 'messages'].includes(name)) {
      return `unknown parameter ${name}`;
    }
  }
  return (event) =>
    (taskId === null ||
      event.detail.task_id === taskId.toLowerCase() ||
      event.detail.parent_task_id === taskId.toLowerCase()) &&
    (type === null || event.detailType === type);
}

/** Where a (re)connecting client resumes: `Last-Event-ID`, else `?after=`, else live only. */
function resumeFrom(req: IncomingMessage, url: URL): number | undefined | string {
  const raw = req.headers['last-event-id'] ?? url.searchParams.get('after') ?? undefined;
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw))
    return 'Last-Event-ID (or after) must be an event id';
  return Number(raw);
}

export function createLiveRoutes(deps: Deps, gate: RequestGate | undefined): LocalRoutes {
  const allowed = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (!gate) return true;
    const refused = await gate(toApiGatewayEvent(req, url, Buffer.alloc(0), url.pathname, null), {
      kind: 'not-found',
    });
    if (!refused) return true;
    res.writeHead(refused.statusCode, refused.headers as Record<string, string>);
    res.end(refused.body);
    return false;
  };

  const stream = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const bus = deps.bus;
    if (!bus) return plain(res, 404, 'the event stream needs EVENTS_SINK=local');
    const filter = streamFilter(url);
    if (typeof filter === 'string') return plain(res, 400, filter);
    const after = resumeFrom(req, url);
    if (typeof after === 'string') return plain(res, 400, after);
    if (!(await allowed(req, res, url))) return;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    // Live events are held back while the replay runs, then sent after it without repeats.
    let last = after ?? 0;
    let held: OutboxEvent[] | undefined = after === undefined ? undefined : [];
    const send = (event: OutboxEvent) => {
      if (event.eventId <= last && after !== undefined) return;
      last = Math.max(last, event.eventId);
      if (filter(event)) res.write(sseFrame(event));
    };
    const unsubscribe = bus.subscribe((event) => (held ? held.push(event) : send(event)));
    // `messages=true`: also a hint, without an id (it is no event and is not replayed), when a
    // task gets a new message, so a live view of a task's messages need not poll.
    const hints = url.searchParams.get('messages') === 'true';
    const taskFilter = url.searchParams.get('task_id')?.toLowerCase();
    const stopHints = hints
      ? bus.onAnySignal((signal) => {
          if (signal.kind !== 'message' || (taskFilter && signal.taskId !== taskFilter)) return;
          res.write(
            `data: ${JSON.stringify({ 'detail-type': 'Task Message', detail: { task_id: signal.taskId } })}\n\n`,
          );
        })
      : undefined;
    const heartbeat = setInterval(() => res.write(': keepalive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    res.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      stopHints?.();
    });
    // Tells the client the stream is open (and a retry delay for reconnects).
    res.write('retry: 2000\n: connected\n\n');
    if (after !== undefined) {
      try {
        for (const event of await readEventsAfter(deps.db, after, REPLAY_LIMIT)) send(event);
      } finally {
        const pending = held ?? [];
        held = undefined;
        for (const event of pending) send(event);
      }
    }
  };

  const metrics = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const registry = deps.telemetry;
    if (!(registry instanceof PrometheusRegistry)) {
      return plain(res, 404, 'metrics are served locally with METRICS=prometheus');
    }
    if ([...url.searchParams.keys()].length > 0)
      return plain(res, 400, 'metrics take no parameters');
    if (!(await allowed(req, res, url))) return;
    // Fresh gauges on every scrape (one statement), as the schedule publishes them on AWS.
    await runOutboxTick({ ...deps, events: undefined });
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(registry.render());
  };

  return (req, res, url) => {
    const route =
      url.pathname === EVENTS_PATH ? stream : url.pathname === METRICS_PATH ? metrics : undefined;
    if (!route) return false;
    if (req.method !== 'GET') {
      res.writeHead(405, { Allow: 'GET', 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', message: 'Method not allowed.', retry: false }));
      return true;
    }
    route(req, res, url).catch((error: unknown) => {
      deps.logger.error('local live route failed', { errorName: (error as Error).name });
      if (!res.headersSent) plain(res, 503, 'the database is unavailable; retry later');
      else res.end();
    });
    return true;
  };
}
