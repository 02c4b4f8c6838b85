import { lookup as realLookup } from 'node:dns';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DesignResolver } from '#shared/design-refs/design-resolver.ts';
import { DesignRefError } from '#shared/design-refs/errors.ts';
import { recordingClock } from '#test/support/retry-clock.ts';
import { captureLogger, rejection, startServer, type TestServer, testResolver } from './servers.ts';

const DESIGN = 'schema: drydock/Region/v1\nmetadata: {name: r}\ndata: {}\n';
/** The test server's host and port: a bare host would exempt port 80 only. */
const allow = () => [`127.0.0.1:${server.port}`];

let server: TestServer;
// Per-path scripted answers; counters live in the request log.
const failuresLeft = new Map<string, number>();

beforeAll(async () => {
  server = await startServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    switch (url.pathname) {
      case '/site.yaml':
        res.setHeader('content-type', 'application/x-yaml');
        res.end(DESIGN);
        return;
      case '/basic.yaml': {
        const expected = `Basic ${Buffer.from('designer:pa ss:word').toString('base64')}`;
        if (req.headers.authorization !== expected) {
          res.statusCode = 401;
          res.end('<html>login required</html>');
          return;
        }
        res.end(DESIGN);
        return;
      }
      case '/missing.yaml':
        res.statusCode = 404;
        res.end('<html>not here</html>');
        return;
      case '/forbidden.yaml':
        res.statusCode = 403;
        res.end('<html>no</html>');
        return;
      case '/flaky.yaml':
      case '/throttled.yaml': {
        const left = failuresLeft.get(url.pathname) ?? 0;
        if (left > 0) {
          failuresLeft.set(url.pathname, left - 1);
          res.statusCode = url.pathname === '/flaky.yaml' ? 500 : 429;
          if (res.statusCode === 429) res.setHeader('retry-after', '2');
          res.end('<html>error page that must never be ingested</html>');
          return;
        }
        res.end(DESIGN);
        return;
      }
      case '/always-500.yaml':
        res.statusCode = 503;
        res.end('down');
        return;
      case '/slow-headers.yaml':
        // Never answers; the headers timeout must fire.
        return;
      case '/slow-body.yaml':
        res.writeHead(200, { 'content-type': 'application/x-yaml' });
        res.write('schema: drydock/Region/v1\n');
        return; // and stalls
      case '/big.yaml':
        res.setHeader('content-length', String(200 * 1024));
        res.end(Buffer.alloc(200 * 1024, 0x61));
        return;
      case '/big-chunked.yaml':
        res.writeHead(200);
        for (let i = 0; i < 20; i++) res.write(Buffer.alloc(16 * 1024, 0x61));
        res.end();
        return;
      case '/gzip.yaml':
        res.setHeader('content-encoding', 'gzip');
        res.end(gzipSync(DESIGN));
        return;
      case '/gzip-bomb.yaml':
        // ~10 MiB of zeros compresses to about 10 KiB: small on the wire, huge in memory.
        res.setHeader('content-encoding', 'gzip');
        res.end(gzipSync(Buffer.alloc(10 * 1024 * 1024)));
        return;
      case '/redirect': {
        const n = Number(url.searchParams.get('n') ?? '0');
        res.statusCode = 302;
        res.setHeader('location', n > 1 ? `/redirect?n=${n - 1}` : '/site.yaml');
        res.end();
        return;
      }
      case '/loop':
        res.statusCode = 302;
        res.setHeader('location', '/loop');
        res.end();
        return;
      case '/snappy.yaml':
        res.setHeader('content-encoding', 'snappy');
        res.end(DESIGN);
        return;
      case '/corrupt-gzip.yaml':
        res.setHeader('content-encoding', 'gzip');
        res.end(DESIGN);
        return;
      case '/redirect-to':
        res.statusCode = 307;
        res.setHeader('location', url.searchParams.get('target') ?? '/');
        res.end();
        return;
      default:
        res.statusCode = 404;
        res.end();
    }
  });
});
afterAll(() => server.close());

let resolver: DesignResolver | undefined;
afterEach(async () => {
  await resolver?.close();
  resolver = undefined;
  server.requests.length = 0;
  failuresLeft.clear();
});
/** Registers the resolver for closing after the test. */
const use = (r: DesignResolver) => {
  resolver = r;
  return r;
};
const hits = (path: string) => server.requests.filter((r) => r.url.startsWith(path)).length;

describe('http(s) design references', () => {
  it('fetches a design from an allow-listed server', async () => {
    const r = use(testResolver({ allowHosts: allow() }));
    const got = await r.resolve(`${server.origin}/site.yaml`);
    expect(got.bytes.toString()).toBe(DESIGN);
    expect(got).toMatchObject({
      scheme: 'http',
      fromCache: false,
      designRef: `${server.origin}/site.yaml`,
    });
  });

  it('sends basic auth from credentials embedded in the reference, never showing them', async () => {
    const logger = captureLogger();
    const r = use(testResolver({ allowHosts: allow() }, { logger }));
    const ref = `http://designer:pa%20ss%3Aword@127.0.0.1:${server.port}/basic.yaml`;
    const got = await r.resolve(ref);
    expect(got.bytes.toString()).toBe(DESIGN);
    expect(got.designRef).toBe(`${server.origin}/basic.yaml`);
    // Wrong password: the error names the redacted reference only.
    const e = await rejection(() =>
      r.resolve(`http://designer:wrong-secret@127.0.0.1:${server.port}/basic.yaml`),
    );
    expect(e).toBeInstanceOf(DesignRefError);
    expect((e as DesignRefError).failure).toBe('rejected');
    expect(e.message).toContain('HTTP 401');
    const shown = [e.message, String(e.cause ?? ''), ...logger.lines].join('\n');
    expect(shown).not.toMatch(/wrong-secret|pa%20ss|pa ss|designer:/);
  });

  it('never shows a query value: not in the info, debug or warning lines, nor in an error', async () => {
    const logger = captureLogger();
    const clock = recordingClock();
    const r = use(
      testResolver(
        { allowHosts: allow(), httpRetries: 1, cacheTtlSeconds: 60 },
        { logger, clock, sleep: clock.sleep },
      ),
    );
    const site = `${server.origin}/site.yaml?rev=1&token=QUERYSECRET1`;
    await r.resolve(site); // info: resolved
    expect((await r.resolve(site)).fromCache).toBe(true); // debug: served from cache
    failuresLeft.set('/flaky.yaml', 1);
    await r.resolve(`${server.origin}/flaky.yaml?X-Amz-Signature=QUERYSECRET2`); // warn: retrying
    const refused = await rejection(() =>
      r.resolve(`${server.origin}/forbidden.yaml?sig=QUERYSECRET3`),
    );
    const shown = [refused.message, String(refused.cause ?? ''), ...logger.lines].join('\n');
    expect(shown).not.toMatch(/QUERYSECRET/);
    // Each line and the error still name the reference, its query values redacted.
    expect(logger.lines).toEqual([
      expect.stringMatching(/^info design reference resolved .*token=redacted/),
      expect.stringMatching(/^debug design reference served from cache .*token=redacted/),
      expect.stringMatching(
        /^warn design reference fetch failed; retrying .*X-Amz-Signature=redacted/,
      ),
      expect.stringMatching(/^info design reference resolved .*X-Amz-Signature=redacted/),
    ]);
    expect(refused.message).toContain('forbidden.yaml?sig=redacted');
  });

  it('sends basic auth from the per-host credentials secret', async () => {
    const secretReads: string[] = [];
    const r = use(
      testResolver(
        {
          allowHosts: allow(),
          httpCredentialsSecretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:creds',
        },
        {
          readSecret: async (arn) => {
            secretReads.push(arn);
            return JSON.stringify({
              [`127.0.0.1:${server.port}`]: { username: 'designer', password: 'pa ss:word' },
            });
          },
        },
      ),
    );
    await r.resolve(`${server.origin}/basic.yaml`);
    await r.resolve(`${server.origin}/basic.yaml`);
    // Fetched lazily, once, and reused.
    expect(secretReads).toEqual(['arn:aws:secretsmanager:eu-west-1:1:secret:creds']);
  });

  it('never ingests an error page: 404 is not found, 403 is rejected, neither retried', async () => {
    const r = use(testResolver({ allowHosts: allow() }));
    const e404 = (await rejection(() =>
      r.resolve(`${server.origin}/missing.yaml`),
    )) as DesignRefError;
    expect([e404.failure, e404.status, e404.upstreamStatus]).toEqual(['not_found', 400, 404]);
    const e403 = (await rejection(() =>
      r.resolve(`${server.origin}/forbidden.yaml`),
    )) as DesignRefError;
    expect([e403.failure, e403.status]).toEqual(['rejected', 502]);
    expect(e403.message).not.toContain('<html>');
    expect(hits('/missing.yaml')).toBe(1);
    expect(hits('/forbidden.yaml')).toBe(1);
  });

  it('retries 500 and 429 with backoff, then succeeds; a Retry-After is waited out', async () => {
    const logger = captureLogger();
    const clock = recordingClock();
    const r = use(
      testResolver({ allowHosts: allow(), httpRetries: 2 }, { logger, clock, sleep: clock.sleep }),
    );
    failuresLeft.set('/flaky.yaml', 2);
    expect((await r.resolve(`${server.origin}/flaky.yaml`)).bytes.toString()).toBe(DESIGN);
    expect(hits('/flaky.yaml')).toBe(3);
    expect(logger.lines.filter((l) => l.includes('retrying'))).toHaveLength(2);
    // Full jitter at its top (random 1): 20 ms, then 40.
    expect(clock.sleeps).toEqual([20, 40]);
    failuresLeft.set('/throttled.yaml', 1);
    expect((await r.resolve(`${server.origin}/throttled.yaml`)).bytes.toString()).toBe(DESIGN);
    expect(hits('/throttled.yaml')).toBe(2);
    // The 429 asked for 2 s (Retry-After: 2), more than the backoff's 20 ms.
    expect(clock.sleeps).toEqual([20, 40, 2_000]);
  });

  it('gives up after the configured retries with a retryable 502', async () => {
    const r = use(testResolver({ allowHosts: allow(), httpRetries: 1 }));
    const e = (await rejection(() =>
      r.resolve(`${server.origin}/always-500.yaml`),
    )) as DesignRefError;
    expect([e.failure, e.status, e.retry]).toEqual(['unavailable', 502, true]);
    expect(hits('/always-500.yaml')).toBe(2);
  });

  it('makes exactly one attempt when retries are 0', async () => {
    const r = use(testResolver({ allowHosts: allow(), httpRetries: 0 }));
    failuresLeft.set('/flaky.yaml', 1);
    await rejection(() => r.resolve(`${server.origin}/flaky.yaml`));
    expect(hits('/flaky.yaml')).toBe(1);
  });

  it('never retries past the deadline', async () => {
    const clock = recordingClock();
    const r = use(
      testResolver(
        { allowHosts: allow(), httpRetries: 50 },
        { retryBaseDelayMs: 10_000, retryMaxDelayMs: 10_000, clock, sleep: clock.sleep },
      ),
    );
    const e = (await rejection(() =>
      r.resolve(`${server.origin}/always-500.yaml`, { deadline: 35_000 }),
    )) as DesignRefError;
    // 10 s per wait (virtual: the clock only records them); a fourth would end at 40 s, past
    // the deadline at 35 s: the last 503 is reported (the caller may retry later), not a
    // timeout, and 46 retries are never made.
    expect(clock.sleeps).toEqual([10_000, 10_000, 10_000]);
    expect(hits('/always-500.yaml')).toBe(4);
    expect([e.failure, e.status, e.retry]).toEqual(['unavailable', 502, true]);
  });

  it('times out a server that never answers, and one that stalls mid-body', async () => {
    const r = use(testResolver({ allowHosts: allow(), httpTimeoutMs: 300, httpRetries: 1 }));
    const started = Date.now();
    const headers = (await rejection(() =>
      r.resolve(`${server.origin}/slow-headers.yaml`),
    )) as DesignRefError;

    expect([headers.failure, headers.status, headers.retry]).toEqual(['timeout', 504, true]);
    const body = (await rejection(() =>
      r.resolve(`${server.origin}/slow-body.yaml`),
    )) as DesignRefError;
    expect(body.failure).toBe('timeout');
    expect(hits('/slow-headers.yaml')).toBe(2);
    // Two attempts per URL; undici fires its parser timeouts with up to ~1 s of slack.
    expect(Date.now() - started).toBeLessThan(9_000);
  });

  it('stops at the deadline even when timeouts are long', async () => {
    const r = use(testResolver({ allowHosts: allow(), httpTimeoutMs: 10_000 }));
    const started = Date.now();
    const e = (await rejection(() =>
      r.resolve(`${server.origin}/slow-headers.yaml`, { deadline: Date.now() + 300 }),
    )) as DesignRefError;
    expect(e.failure).toBe('timeout');
    expect(e.message).toContain('before the deadline');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('honours the caller abort signal', async () => {
    const r = use(testResolver({ allowHosts: allow() }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const e = (await rejection(() =>
      r.resolve(`${server.origin}/slow-headers.yaml`, { signal: controller.signal }),
    )) as DesignRefError;
    expect(e.failure).toBe('timeout');
    expect(e.message).toContain('cancelled');
  });

  it('caps the response size, declared or streamed', async () => {
    const r = use(testResolver({ allowHosts: allow(), maxBytes: 64 * 1024 }));
    for (const path of ['/big.yaml', '/big-chunked.yaml']) {
      const e = (await rejection(() => r.resolve(`${server.origin}${path}`))) as DesignRefError;
      expect([e.failure, e.status, e.retry], path).toEqual(['too_large', 413, false]);
    }
  });

  it('decompresses gzip, and stops a gzip bomb at the cap', async () => {
    const r = use(testResolver({ allowHosts: allow(), maxBytes: 1024 * 1024 }));
    expect((await r.resolve(`${server.origin}/gzip.yaml`)).bytes.toString()).toBe(DESIGN);
    const e = (await rejection(() =>
      r.resolve(`${server.origin}/gzip-bomb.yaml`),
    )) as DesignRefError;
    expect(e.failure).toBe('too_large');
    expect(e.message).toContain('after decompression');
  });

  it('refuses a coding it cannot undo and a body that does not decode, never ingesting either', async () => {
    const r = use(testResolver({ allowHosts: allow() }));
    for (const [path, message] of [
      ['/snappy.yaml', 'unsupported content encoding'],
      ['/corrupt-gzip.yaml', 'is corrupt'],
    ] as const) {
      const e = (await rejection(() => r.resolve(`${server.origin}${path}`))) as DesignRefError;
      expect([e.failure, e.status, e.retry], path).toEqual(['rejected', 502, false]);
      expect(e.message, path).toContain(message);
      expect(hits(path), path).toBe(1);
    }
  });

  it('gives up on a redirect loop and on a Location that is no URL', async () => {
    const r = use(testResolver({ allowHosts: allow(), httpRetries: 2 }));
    const loop = (await rejection(() => r.resolve(`${server.origin}/loop`))) as DesignRefError;
    expect([loop.failure, loop.retry]).toEqual(['rejected', false]);
    expect(hits('/loop')).toBeLessThanOrEqual(4);
    const target = encodeURIComponent('http://[zz');
    const bad = (await rejection(() =>
      r.resolve(`${server.origin}/redirect-to?target=${target}`),
    )) as DesignRefError;
    expect([bad.failure, bad.retry]).toEqual(['rejected', false]);
    expect(bad.message).toContain('invalid location');
  });

  it('follows up to three redirects and refuses a fourth', async () => {
    const r = use(testResolver({ allowHosts: allow() }));
    expect((await r.resolve(`${server.origin}/redirect?n=3`)).bytes.toString()).toBe(DESIGN);
    const e = (await rejection(() => r.resolve(`${server.origin}/redirect?n=4`))) as DesignRefError;
    expect(e.failure).toBe('rejected');
    expect(e.message).toContain('more than 3 redirects');
    expect(hits('/site.yaml')).toBe(1);
  });

  it('re-checks every redirect target with the SSRF guard', async () => {
    // 127.0.0.1 is allow-listed, but neither `localhost` nor the metadata service is.
    const r = use(testResolver({ allowHosts: allow() }));
    const targets = [
      `http://localhost:${server.port}/site.yaml`,
      'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      `http://[::ffff:127.0.0.1]:${server.port}/site.yaml`,
      'file:///etc/passwd',
    ];
    for (const target of targets) {
      const e = (await rejection(() =>
        r.resolve(`${server.origin}/redirect-to?target=${encodeURIComponent(target)}`),
      )) as DesignRefError;
      expect([e.failure, e.status], target).toEqual(['refused', 400]);
    }
    expect(hits('/site.yaml')).toBe(0);
  });

  it('drops credentials when a redirect leaves the origin', async () => {
    const other = await startServer((_req, res) => {
      res.end(DESIGN);
    });
    try {
      const r = use(testResolver({ allowHosts: [...allow(), `127.0.0.1:${other.port}`] }));
      const target = `${other.origin}/site.yaml`;
      await r.resolve(
        `http://designer:pw@127.0.0.1:${server.port}/redirect-to?target=${encodeURIComponent(target)}`,
      );
      expect(server.requests[0]?.headers.authorization).toMatch(/^Basic /);
      expect(other.requests[0]?.headers.authorization).toBeUndefined();
    } finally {
      await other.close();
    }
  });
});

describe('SSRF guard', () => {
  const refused = async (ref: string, allowHosts: string[] = [], deps = {}) => {
    const r = use(testResolver({ allowHosts, httpRetries: 3 }, deps));
    const e = (await rejection(() => r.resolve(ref))) as DesignRefError;
    expect(e, ref).toBeInstanceOf(DesignRefError);
    expect([e.failure, e.status, e.retry], ref).toEqual(['refused', 400, false]);
    expect(e.message).toContain('DESIGN_ALLOW_HOSTS');
    await r.close();
    resolver = undefined;
  };

  it('refuses loopback and metadata addresses unless allow-listed', async () => {
    await refused(`${server.origin}/site.yaml`);
    await refused('http://169.254.169.254/latest/meta-data/');
    await refused('https://169.254.169.254/latest/meta-data/');
    await refused(`http://[::1]:${server.port}/site.yaml`);
    await refused(`http://[::ffff:127.0.0.1]:${server.port}/site.yaml`);
    await refused(`http://[::ffff:7f00:1]:${server.port}/site.yaml`);
    await refused(`http://0.0.0.0:${server.port}/site.yaml`);
    // Decimal and hex shorthands of 127.0.0.1, normalised by the URL parser before the check.
    await refused(`http://2130706433:${server.port}/site.yaml`);
    await refused(`http://0x7f.1:${server.port}/site.yaml`);
    expect(server.requests).toHaveLength(0);
  });

  it('judges an IP literal in connect as written, with no lookup, first request and redirect alike', async () => {
    const resolutions: string[] = [];
    const lookup = ((hostname: string, options: object, callback: (...a: unknown[]) => void) => {
      resolutions.push(hostname);
      realLookup(hostname, options, callback as never);
    }) as unknown as typeof realLookup;
    await refused('http://169.254.169.254/latest/meta-data/', [], { lookup });
    await refused(`http://[fd00::1]:${server.port}/site.yaml`, [], { lookup });
    const r = use(testResolver({ allowHosts: allow() }, { lookup }));
    const target = encodeURIComponent('http://10.0.0.7/site.yaml');
    const e = (await rejection(() =>
      r.resolve(`${server.origin}/redirect-to?target=${target}`),
    )) as DesignRefError;
    expect([e.failure, e.status]).toEqual(['refused', 400]);
    expect(resolutions).toEqual([]);
  });

  it('refuses a host name that resolves to loopback, after DNS resolution', async () => {
    await refused(`http://localhost:${server.port}/site.yaml`);
    // Even with the IP allow-listed: the name is what the allow-list is checked against.
    await refused(`http://localhost:${server.port}/site.yaml`, ['127.0.0.1']);
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a name if any of its addresses is internal, and connects to the checked address', async () => {
    const resolutions: string[] = [];
    const lookup = ((hostname: string, options: object, callback: (...a: unknown[]) => void) => {
      resolutions.push(hostname);
      if (hostname === 'mixed.design.test') {
        callback(null, [
          { address: '93.184.216.34', family: 4 },
          { address: '10.0.0.7', family: 4 },
        ]);
        return;
      }
      // Any other name is answered with the test server's address.
      realLookup('127.0.0.1', options, callback as never);
    }) as unknown as typeof realLookup;
    await refused('http://mixed.design.test/site.yaml', [], { lookup });
    // Allow-listing the name exempts it: the socket goes to the address the lookup returned.
    const r = use(testResolver({ allowHosts: [`pinned.design.test:${server.port}`] }, { lookup }));
    const got = await r.resolve(`http://pinned.design.test:${server.port}/site.yaml`);
    expect(got.bytes.toString()).toBe(DESIGN);
    expect(resolutions).toContain('pinned.design.test');
  });

  it('exempts an allow-listed host on its listed port only; a bare host means the default port', async () => {
    // Allowing 127.0.0.1 must not open every port of it (the Lambda runtime API is on 9001).
    await refused(`${server.origin}/site.yaml`, ['127.0.0.1']);
    await refused(`${server.origin}/site.yaml`, [`127.0.0.1:${server.port + 1}`]);
    // A name whose lookup gives the test server: exempt on the listed port, guarded elsewhere.
    const lookup = ((_h: string, options: object, callback: (...a: unknown[]) => void) =>
      realLookup('127.0.0.1', options, callback as never)) as unknown as typeof realLookup;
    await refused(`http://named.design.test:${server.port}/site.yaml`, ['named.design.test'], {
      lookup,
    });
    expect(server.requests).toHaveLength(0);
    const r = use(testResolver({ allowHosts: [`named.design.test:${server.port}`] }, { lookup }));
    const got = await r.resolve(`http://named.design.test:${server.port}/site.yaml`);
    expect(got.bytes.toString()).toBe(DESIGN);
  });

  it('allows exactly the allow-listed hosts', async () => {
    const r = use(testResolver({ allowHosts: [`LOCALHOST:${server.port}`] }));
    expect((await r.resolve(`http://localhost:${server.port}/site.yaml`)).bytes.toString()).toBe(
      DESIGN,
    );
  });
});
