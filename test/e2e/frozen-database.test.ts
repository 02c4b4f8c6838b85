import { afterAll, describe, expect, it, vi } from 'vitest';
import { checkHealth } from '#shared/api/health.ts';
import { createDataApiDb } from '#shared/db/data-api.ts';
import type { Db } from '#shared/db/port.ts';
import { UnavailableError } from '#shared/errors.ts';
import { getTask } from '#shared/store/tasks.ts';
import { type FreezableProxy, startFreezableProxy } from '#test/support/freezable-proxy.ts';
import { SKIP_SERVER, TEST_DATABASE_URL, urlWithSchema } from '#test/support/pg-server.ts';
import { queuedTask } from '#test/support/store-fixtures.ts';
import { openTestDb, type TestDb } from '#test/support/test-db.ts';
import { request } from './harness.ts';

const DESIGN = 'deckhand+https://deckhand.example/api/v1.0/revisions/1/rendered-documents';
/** The statement deadline the server runs with here; the client gives up 2 s after it. */
const STATEMENT_TIMEOUT_MS = 1_000;
/** The pool's connection deadline (`createPgDb`): a request queued behind stuck ones waits this. */
const CONNECT_TIMEOUT_MS = 5_000;

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

/** The same URL with its host and port replaced by the proxy's. */
function throughProxy(url: string, proxy: FreezableProxy): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
}

describe.skipIf(SKIP_SERVER)('a database that stops answering', () => {
  it('pg: every request answers 503 retry:true within the deadlines, and the pool recovers on its own', {
    timeout: 60_000,
  }, async () => {
    const testDb: TestDb = await openTestDb('pg');
    cleanups.push(() => testDb.close());
    const server = new URL(TEST_DATABASE_URL);
    const proxy = await startFreezableProxy({ host: server.hostname, port: Number(server.port) });
    cleanups.push(() => proxy.close());
    const saved = { ...process.env };
    cleanups.push(async () => {
      process.env = saved;
    });
    Object.assign(process.env, {
      DB_DRIVER: 'pg',
      DATABASE_URL: throughProxy(urlWithSchema(testDb.schema as string), proxy),
      DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
      LOG_LEVEL: 'SILENT',
    });
    vi.resetModules();
    const { startLocalService } = await import('#infra/local/service.ts');
    const service = await startLocalService({ port: 0, host: '127.0.0.1', scheduleMs: 0 });
    cleanups.push(() => service.stop());
    const api = (method: string, path: string, body?: unknown) =>
      request(service.url, method, `/api/v1.0${path}`, body === undefined ? {} : { body });

    const created = await api('POST', '/tasks', { action: 'verify_site', design_ref: DESIGN });
    expect(created.status).toBe(201);
    const id = created.body.task_id as string;

    proxy.freeze();
    const started = Date.now();
    const answers = await Promise.all([
      api('GET', '/health'),
      api('GET', `/tasks/${id}`),
      api('GET', '/tasks'),
      api('POST', '/tasks', { action: 'verify_site', design_ref: DESIGN }),
      api('POST', `/tasks/${id}/messages`, {
        message: 'm',
        error: false,
        context_type: 'task',
        context: 'c',
      }),
      api('GET', `/tasks/${id}/messages`),
    ]);
    const elapsed = Date.now() - started;
    for (const answer of answers) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(503);
      expect(answer.body).toMatchObject({ type: 'error', retry: true });
    }
    // Six requests over a pool of two: the two holding a connection give up at the statement
    // deadline, the others at the pool's connection deadline; none waits for the function's.
    expect(elapsed).toBeLessThan(STATEMENT_TIMEOUT_MS + 2_000 + CONNECT_TIMEOUT_MS + 2_000);

    proxy.thaw();
    // No restart: the stuck connections were dropped, new ones are opened on demand.
    expect((await api('GET', '/health')).status).toBe(204);
    expect((await api('GET', `/tasks/${id}`)).status).toBe(200);
    expect(
      (await api('POST', '/tasks', { action: 'verify_site', design_ref: DESIGN })).status,
    ).toBe(201);
  });

  it('data-api: a call past the invocation deadline is a 503, and the client recovers', {
    timeout: 60_000,
  }, async () => {
    const testDb = await openTestDb('data-api');
    cleanups.push(() => testDb.close());
    const dataApi = testDb.dataApi;
    if (!dataApi) throw new Error('a data-api test database has its cluster');
    const endpoint = new URL(dataApi.emulator.endpoint);
    const proxy = await startFreezableProxy({
      host: endpoint.hostname,
      port: Number(endpoint.port),
    });
    cleanups.push(() => proxy.close());
    // An invocation with 3 s left: each call may take what remains, less a second.
    const db: Db = createDataApiDb(
      dataApi.adapterOptions({
        endpoint: `http://127.0.0.1:${proxy.port}`,
        remainingTimeMs: () => 3_000,
      }),
    );
    cleanups.push(() => db.close());
    const task = await queuedTask(db);

    proxy.freeze();
    const started = Date.now();
    const failures = await Promise.allSettled([
      checkHealth({ db }),
      getTask(db, task.taskId),
      queuedTask(db),
    ]);
    for (const failure of failures) {
      expect(failure.status).toBe('rejected');
      const error = (failure as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(UnavailableError);
      expect([error.status, error.retry]).toEqual([503, true]);
    }
    expect(Date.now() - started).toBeLessThan(3_000 + 2_000);

    proxy.thaw();
    expect((await getTask(db, task.taskId)).taskId).toBe(task.taskId);
    await checkHealth({ db });
  });
});
