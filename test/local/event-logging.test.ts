import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLogger } from '#shared/deps.ts';
import { type RunningServer, request, startServer } from '#test/e2e/harness.ts';
import { stdoutOf } from '#test/support/stdout.ts';

const SECRET = 'token-and-body-never-logged';

// Its own file: Powertools reads POWERTOOLS_LOGGER_LOG_EVENT when the logger is built, so the
// server must be the first to build it in this module graph.
describe('the invocation event in the logs', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer('pglite', {
      LOG_LEVEL: 'INFO',
      POWERTOOLS_LOGGER_LOG_EVENT: 'true',
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('is never written, even when Powertools is told to log events', async () => {
    // The switch reached the server's logger: Powertools itself would log every event.
    expect(getLogger().getLogEvent()).toBe(true);
    const { text, records } = await stdoutOf(async () => {
      const created = await request(server.url, 'POST', '/api/v1.0/tasks', {
        headers: { 'X-Auth-Token': SECRET, 'X-Correlation-Id': 'corr-event-log' },
        body: {
          action: 'verify_site',
          design_ref: `deckhand+https://deckhand/api/v1.0/r/${SECRET}`,
        },
      });
      expect(created.status).toBe(201);
    });
    // The capture saw the request's own line, so a logged event would have been seen too.
    expect(records.some((line) => line.correlationId === 'corr-event-log')).toBe(true);
    expect(text).not.toContain(SECRET);
  });
});
