import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localContext } from '#infra/local/app.ts';
import { type RunningServer, request, startServer } from '#test/e2e/harness.ts';
import { stdoutOf } from '#test/support/stdout.ts';

describe("the local server's request logs", () => {
  let server: RunningServer;
  beforeAll(async () => {
    // On the pg driver, each statement is a round trip to the server: requests interleave there.
    server = await startServer('pg', { LOG_LEVEL: 'INFO' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('give every line of a request its own ids while requests run concurrently', async () => {
    const created = await request(server.url, 'POST', '/api/v1.0/tasks', {
      body: { action: 'verify_site', design_ref: 'deckhand+https://deckhand/api/v1.0/r/1' },
    });
    expect(created.status).toBe(201);
    const taskId = created.body.task_id as string;
    const answers: { correlationId: string; requestId: string | null; status: number }[] = [];
    const { records: lines } = await stdoutOf(async () => {
      // Served, refused (404) and invalid (400) requests, all in flight at once, so each one's
      // lines are written while the others have already set the shared logger's keys.
      const paths = [
        `/api/v1.0/tasks/${taskId}`,
        '/api/v1.0/tasks/00000000-0000-4000-8000-000000000000',
        '/api/v1.0/tasks/not-a-uuid',
      ];
      await Promise.all(
        Array.from({ length: 24 }, async (_, i) => {
          const correlationId = `corr-${i}`;
          const res = await request(server.url, 'GET', paths[i % paths.length] as string, {
            headers: { 'X-Correlation-Id': correlationId },
          });
          answers.push({
            correlationId,
            requestId: res.headers.get('x-request-id'),
            status: res.status,
          });
        }),
      );
    });
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200, 404, 400]));
    const invocations = new Set<unknown>();
    for (const answer of answers) {
      const own = lines.filter((line) => line.correlationId === answer.correlationId);
      // The access line, and for a refused request its refusal line.
      expect(own.map((line) => line.message)).toEqual(
        answer.status === 200 ? ['request served'] : ['request refused', 'request served'],
      );
      for (const line of own) expect(line.requestId).toBe(answer.requestId);
      expect(own.at(-1)?.status).toBe(answer.status);
      // One invocation per request: its Lambda request id on each of its lines, no other's.
      expect(new Set(own.map((line) => line.function_request_id)).size).toBe(1);
      invocations.add(own[0]?.function_request_id);
    }
    expect(invocations.size).toBe(answers.length);
  });

  it("write the access line Powertools' own logger writes, the request's ids appended", async () => {
    const path = '/api/v1.0/tasks?status=queued';
    const { text } = await stdoutOf(async () => {
      const res = await request(server.url, 'GET', path, {
        headers: { 'X-Correlation-Id': 'corr-line' },
      });
      expect(res.status).toBe(200);
    });
    const served = text.split('\n').find((line) => line.includes('"correlationId":"corr-line"'));
    const fields = JSON.parse(served ?? '{}') as Record<string, unknown>;
    // What the stock logger prints for the same invocation: its Lambda context (not its first,
    // as the server's is not), the ids appended with appendKeys, the access line's fields.
    const stock = new Logger({ serviceName: 'drydock-statemgmt', logLevel: 'INFO' });
    const context = {
      ...localContext('drydock-tasks'),
      awsRequestId: String(fields.function_request_id),
    };
    stock.addContext(context);
    stock.addContext(context);
    stock.appendKeys({ requestId: String(fields.requestId), correlationId: 'corr-line' });
    const { text: expected } = await stdoutOf(async () => {
      stock.info('request served', {
        method: 'GET',
        path: '/api/v1.0/tasks',
        status: 200,
        durationMs: fields.durationMs as number,
      });
    });
    const sameTime = (line: string) => line.replace(/"timestamp":"[^"]+"/, '"timestamp":"T"');
    expect(sameTime(served ?? '')).toBe(sameTime(expected.trim()));
    expect(fields.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
