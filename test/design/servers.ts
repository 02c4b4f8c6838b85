import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createDesignResolver,
  type DesignResolver,
  type DesignResolverDeps,
  type DesignResolverSettings,
} from '#shared/design-refs/design-resolver.ts';
import type { DesignLogger } from '#shared/design-refs/logger.ts';

/** A real HTTP server on 127.0.0.1 with a record of the requests it answered. */
export type TestServer = {
  origin: string;
  port: number;
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  close(): Promise<void>;
};

/** Starts a server on an ephemeral 127.0.0.1 port; the handler sees the request body read. */
export async function startServer(
  handler: (req: IncomingMessage & { body: string }, res: ServerResponse) => void | Promise<void>,
): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      Promise.resolve(handler(Object.assign(req, { body }), res)).catch((error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Settings for tests: small limits, fast retries, no cache unless asked for. */
export function testSettings(
  overrides: Partial<DesignResolverSettings> = {},
): DesignResolverSettings {
  return {
    fileRoots: [],
    allowHosts: [],
    maxBytes: 64 * 1024,
    cacheTtlSeconds: 0,
    httpTimeoutMs: 2_000,
    httpRetries: 2,
    ...overrides,
  };
}

/** A logger that keeps every line, to assert on what was (not) logged. */
export function captureLogger(): DesignLogger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (message: string, attributes?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${JSON.stringify(attributes ?? {})}`);
  };
  return { lines, debug: keep('debug'), info: keep('info'), warn: keep('warn') };
}

/** Builds a resolver with fast, deterministic retries; closes it after the test via the returned function. */
export function testResolver(
  overrides: Partial<DesignResolverSettings> = {},
  deps: DesignResolverDeps = {},
): DesignResolver {
  return createDesignResolver(testSettings(overrides), {
    retryBaseDelayMs: 20,
    retryMaxDelayMs: 50,
    random: () => 1,
    ...deps,
  });
}

/** Runs `fn` and returns what it threw (fails the test if it did not throw). */
export async function rejection(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection, got a result');
}
