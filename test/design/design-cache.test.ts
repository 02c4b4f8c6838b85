import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DesignCache } from '#shared/design-refs/design-cache.ts';
import { captureLogger, rejection, startServer, type TestServer, testResolver } from './servers.ts';

const DESIGN = 'schema: drydock/Region/v1\nmetadata: {name: cached}\ndata: {}\n';

let server: TestServer;
let failNext = 0;
beforeAll(async () => {
  server = await startServer((req, res) => {
    if (
      req.url === '/private.yaml' &&
      req.headers.authorization !== `Basic ${btoa('ops:right-pw')}`
    ) {
      res.statusCode = 401;
      res.end();
      return;
    }
    if (failNext > 0) {
      failNext--;
      res.statusCode = 500;
      res.end();
      return;
    }
    res.end(DESIGN);
  });
});
afterAll(() => server.close());
afterEach(() => {
  server.requests.length = 0;
  failNext = 0;
});

const clock = { t: 1_000_000, now: () => clock.t };

describe('design cache', () => {
  it('keeps references that differ only in a query value apart, though both show redacted', async () => {
    const r = testResolver(
      { allowHosts: [`127.0.0.1:${server.port}`], cacheTtlSeconds: 180 },
      { clock },
    );
    const first = await r.resolve(`${server.origin}/site.yaml?rev=1&token=a`);
    const second = await r.resolve(`${server.origin}/site.yaml?rev=2&token=b`);
    expect([first.fromCache, second.fromCache]).toEqual([false, false]);
    expect(second.designRef).toBe(`${server.origin}/site.yaml?rev=redacted&token=redacted`);
    expect((await r.resolve(`${server.origin}/site.yaml?rev=1&token=a`)).fromCache).toBe(true);
    expect(server.requests.map((q) => q.url)).toEqual([
      '/site.yaml?rev=1&token=a',
      '/site.yaml?rev=2&token=b',
    ]);
    await r.close();
  });

  it('serves a design again until the TTL runs out, then fetches anew', async () => {
    const r = testResolver(
      { allowHosts: [`127.0.0.1:${server.port}`], cacheTtlSeconds: 180 },
      { clock },
    );
    const ref = `${server.origin}/site.yaml`;
    expect((await r.resolve(ref)).fromCache).toBe(false);
    clock.t += 179_000;
    const hit = await r.resolve(ref);
    expect(hit.fromCache).toBe(true);
    expect(hit.bytes.toString()).toBe(DESIGN);
    expect(server.requests).toHaveLength(1);
    clock.t += 1_000; // 180 s after the fetch: expired
    expect((await r.resolve(ref)).fromCache).toBe(false);
    expect(server.requests).toHaveLength(2);
    await r.close();
  });

  it('never caches a failure', async () => {
    const r = testResolver(
      { allowHosts: [`127.0.0.1:${server.port}`], cacheTtlSeconds: 180, httpRetries: 0 },
      { clock },
    );
    const ref = `${server.origin}/flaky.yaml`;
    failNext = 1;
    await rejection(() => r.resolve(ref));
    expect((await r.resolve(ref)).fromCache).toBe(false);
    expect((await r.resolve(ref)).fromCache).toBe(true);
    expect(server.requests).toHaveLength(2);
    await r.close();
  });

  it('does not hand a copy fetched with credentials to a caller with other or no credentials', async () => {
    const logger = captureLogger();
    const r = testResolver(
      { allowHosts: [`127.0.0.1:${server.port}`], cacheTtlSeconds: 180 },
      { clock, logger },
    );
    const path = `127.0.0.1:${server.port}/private.yaml`;
    await r.resolve(`http://ops:right-pw@${path}`);
    expect((await r.resolve(`http://ops:right-pw@${path}`)).fromCache).toBe(true);
    await expect(r.resolve(`http://ops:wrong-pw@${path}`)).rejects.toThrow(/HTTP 401/);
    await expect(r.resolve(`http://${path}`)).rejects.toThrow(/HTTP 401/);
    expect(server.requests).toHaveLength(3);
    expect(logger.lines.join('\n')).not.toMatch(/right-pw|wrong-pw|ops:/);
    await r.close();
  });

  it('is disabled by a TTL of 0', async () => {
    const r = testResolver(
      { allowHosts: [`127.0.0.1:${server.port}`], cacheTtlSeconds: 0 },
      { clock },
    );
    await r.resolve(`${server.origin}/a.yaml`);
    expect((await r.resolve(`${server.origin}/a.yaml`)).fromCache).toBe(false);
    await r.close();
  });
});

describe('DesignCache bounds', () => {
  const bytes = (n: number) => Buffer.alloc(n);

  it('evicts the least recently used entry beyond the entry limit', () => {
    const cache = new DesignCache({ ttlMs: 60_000, maxEntries: 2, maxBytes: 1_000, now: () => 0 });
    cache.set('a', bytes(1));
    cache.set('b', bytes(1));
    cache.get('a'); // a is now the most recently used
    cache.set('c', bytes(1));
    expect([cache.get('a'), cache.get('b'), cache.get('c')].map((v) => v !== undefined)).toEqual([
      true,
      false,
      true,
    ]);
  });

  it('keeps the total size under its byte budget and skips entries larger than it', () => {
    const cache = new DesignCache({ ttlMs: 60_000, maxEntries: 10, maxBytes: 100, now: () => 0 });
    cache.set('a', bytes(60));
    cache.set('b', bytes(60));
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeDefined();
    cache.set('huge', bytes(101));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.size).toBe(1);
  });
});
