import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, request, startServer } from '#test/e2e/harness.ts';
import { TEST_DRIVERS } from '#test/support/test-db.ts';

const DESIGN = 'deckhand+https://deckhand.local/api/v1.0/revisions/1/rendered-documents';

/** Reads an SSE response frame by frame (the data lines' JSON). */
function frames(body: ReadableStream<Uint8Array>) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    /** The next frame with data that passes `match` (comments and other frames are skipped). */
    async next(match: (data: Record<string, unknown>) => boolean = () => true) {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (data) {
            const parsed = JSON.parse(data) as Record<string, unknown>;
            if (match(parsed)) return { id, data: parsed };
          }
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += value;
      }
    },
    cancel: () => reader.cancel(),
  };
}

const detailOf = (data: Record<string, unknown>) => data.detail as Record<string, unknown>;

describe.each(TEST_DRIVERS)(
  'events, waits and metrics through the local server on %s',
  (driver) => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer(driver);
    });
    afterAll(async () => server.stop());

    it('streams task events over SSE, and replays after Last-Event-ID', async () => {
      const controller = new AbortController();
      const res = await fetch(`${server.url}/api/v1.0/events`, { signal: controller.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const stream = frames(res.body as ReadableStream<Uint8Array>);
      const created = await request(server.url, 'POST', '/api/v1.0/tasks', {
        body: { action: 'verify_site', design_ref: DESIGN },
      });
      expect(created.status).toBe(201);
      const taskId = created.body.task_id as string;
      const first = await stream.next((d) => detailOf(d).task_id === taskId);
      expect(first.data).toMatchObject({
        source: 'drydock.statemgmt',
        'detail-type': 'Task Status Change',
        detail: {
          task_id: taskId,
          action: 'verify_site',
          old_status: null,
          new_status: 'queued',
          version: 1,
        },
      });
      const ended = await request(server.url, 'POST', `/api/v1.0/tasks/${taskId}/terminate`, {
        body: {},
      });
      expect(ended.status).toBe(200);
      const second = await stream.next((d) => detailOf(d).task_id === taskId);
      expect(detailOf(second.data)).toMatchObject({
        old_status: 'queued',
        new_status: 'terminated',
        version: 2,
      });
      controller.abort();
      await stream.cancel().catch(() => undefined);

      // A client that reconnects with the last id it saw gets what came after it, filtered.
      const again = new AbortController();
      const replay = await fetch(`${server.url}/api/v1.0/events?task_id=${taskId}`, {
        headers: { 'Last-Event-ID': String(first.id) },
        signal: again.signal,
      });
      const replayed = frames(replay.body as ReadableStream<Uint8Array>);
      expect((await replayed.next()).id).toBe(second.id);
      again.abort();
      await replayed.cancel().catch(() => undefined);

      const bad = await request(server.url, 'GET', '/api/v1.0/events?task_id=nope');
      expect(bad.status).toBe(400);
    });

    it('answers a wait as soon as the task changes, and says so', async () => {
      const created = await request(server.url, 'POST', '/api/v1.0/tasks', {
        body: { action: 'verify_site', design_ref: DESIGN },
      });
      const taskId = created.body.task_id as string;
      const waiting = request(server.url, 'GET', `/api/v1.0/tasks/${taskId}?wait=20&version=1`);
      const ended = await request(server.url, 'POST', `/api/v1.0/tasks/${taskId}/terminate`, {
        body: {},
      });
      expect(ended.status).toBe(200);
      const answer = await waiting;
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-wait')).toBe('changed');
      expect(answer.body).toMatchObject({ task_id: taskId, status: 'terminated', version: 2 });
      expect(answer.headers.get('etag')).toBe('"2"');
      // A version already passed answers at once; without wait nothing changes for Drydock's clients.
      const passed = await request(
        server.url,
        'GET',
        `/api/v1.0/tasks/${taskId}?wait=20&version=1`,
      );
      expect(passed.headers.get('x-wait')).toBe('changed');
      const plain = await request(server.url, 'GET', `/api/v1.0/tasks/${taskId}`);
      expect(plain.headers.get('x-wait')).toBeNull();
      // version alone is a mistake, not a silent no-op.
      expect((await request(server.url, 'GET', `/api/v1.0/tasks/${taskId}?version=1`)).status).toBe(
        400,
      );
      expect(
        (await request(server.url, 'GET', `/api/v1.0/tasks/${crypto.randomUUID()}?wait=1`)).status,
      ).toBe(404);
    });

    it('answers a messages wait when a message arrives', async () => {
      const created = await request(server.url, 'POST', '/api/v1.0/tasks', {
        body: { action: 'verify_site', design_ref: DESIGN },
      });
      const taskId = created.body.task_id as string;
      const waiting = request(
        server.url,
        'GET',
        `/api/v1.0/tasks/${taskId}/messages?after=0&wait=20`,
      );
      const posted = await request(server.url, 'POST', `/api/v1.0/tasks/${taskId}/messages`, {
        body: { message: 'hello', error: false, context_type: 'task', context: taskId },
      });
      expect(posted.status).toBe(201);
      const answer = await waiting;
      expect(answer.headers.get('x-wait')).toBe('changed');
      expect(answer.body.map((m: { message: string }) => m.message)).toEqual(['hello']);
    });

    it('serves the figures in the Prometheus text format', async () => {
      const created = await request(server.url, 'POST', '/api/v1.0/tasks', {
        body: { action: 'prepare_site', design_ref: DESIGN },
      });
      expect(created.status).toBe(201);
      // The count follows the event's delivery; the stream shows when it went out.
      const controller = new AbortController();
      const res = await fetch(
        `${server.url}/api/v1.0/events?after=0&task_id=${created.body.task_id}`,
        {
          signal: controller.signal,
        },
      );
      await frames(res.body as ReadableStream<Uint8Array>).next();
      controller.abort();
      let text = '';
      for (let i = 0; i < 50 && !text.includes('action="prepare_site"'); i++) {
        const metrics = await fetch(`${server.url}/api/v1.0/metrics`);
        expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
        text = await metrics.text();
      }
      expect(text).toMatch(/^drydock_tasks_created_total\{action="prepare_site"\} 1$/m);
      expect(text).toMatch(/^# TYPE drydock_claim_latency_seconds summary$/m);
      expect(text).toMatch(/^drydock_queue_depth \d+$/m);
      expect(text).toMatch(/^drydock_oldest_queued_age_seconds [\d.]+$/m);
      expect((await request(server.url, 'POST', '/api/v1.0/metrics')).status).toBe(405);
    });
  },
);
