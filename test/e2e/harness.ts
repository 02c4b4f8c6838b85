import type { StaticFiles } from '#infra/local/static-files.ts';
import type { Db } from '#shared/db/port.ts';
import { prepareEnvironment } from '#test/functions/harness.ts';
import type { EmulatedDatabase } from '#test/support/data-api-emulator/index.ts';
import type { TestDriver } from '#test/support/test-db.ts';

/** The local server (as `npm start` runs it) listening on a free port over a fresh database. */
export interface RunningServer {
  readonly url: string;
  /** The server's own database handle, for snapshots. */
  readonly db: Db;
  /** data-api only: the cluster the server reaches (its emulator, its call counts). */
  readonly dataApi?: EmulatedDatabase;
  /** One run of the lease schedule. */
  tick(): Promise<unknown>;
  /**
   * Resolves once the server's background event delivery is done: its statements (claim, mark)
   * would otherwise land among the next request's in a count of Data API calls.
   */
  eventsDelivered(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `startLocalService` in this process (schedule driven by the test, not a timer). */
export async function startServer(
  driver: TestDriver,
  env: Readonly<Record<string, string>> = {},
  options: { staticFiles?: StaticFiles } = {},
): Promise<RunningServer> {
  const prepared = await prepareEnvironment(driver, env);
  const { startLocalService } = await import('#infra/local/service.ts');
  const service = await startLocalService({
    port: 0,
    host: '127.0.0.1',
    scheduleMs: 0,
    staticFiles: options.staticFiles,
  });
  const { getDeps } = await import('#shared/deps.ts');
  const deps = await getDeps();
  return {
    url: service.url,
    db: deps.db,
    ...(prepared.dataApi ? { dataApi: prepared.dataApi } : {}),
    tick: service.tick,
    eventsDelivered: async () => deps.events?.idle(),
    async stop() {
      await service.stop();
      await prepared.release();
    },
  };
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
  body: any;
}

/** One HTTP request: an object body is sent as JSON, a string body as is (with its headers). */
export async function request(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  const raw = typeof options.body === 'string';
  const headers: Record<string, string> = {
    ...(options.body !== undefined && !raw ? { 'Content-Type': 'application/json' } : {}),
    ...options.headers,
  };
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(options.body === undefined
      ? {}
      : { body: raw ? (options.body as string) : JSON.stringify(options.body) }),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // Not JSON: left as text so the assertion shows it.
  }
  return { status: res.status, headers: res.headers, body };
}

/** The lease for `instanceId` (an hour's grace) taken over HTTP: its epoch; throws unless held. */
export async function takeLease(server: RunningServer, instanceId: string): Promise<number> {
  const lease = await request(server.url, 'POST', '/api/v1.0/leader/claim', {
    body: { instance_id: instanceId, grace_seconds: 3600 },
  });
  if (lease.body?.held !== true) throw new Error(`no lease for ${instanceId}: ${lease.status}`);
  return lease.body.epoch as number;
}
