import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type ApiAnswer,
  type ApiRequest,
  answer,
  apiEvent,
  lambdaContext,
} from '#test/functions/harness.ts';
import { startServer, type TestServer } from './servers.ts';
import { FAILED_STATUS, PASSED_STATUS } from './site-builder.ts';

const fixtures = fileURLToPath(new URL('../fixtures/designs/', import.meta.url));
const DESIGN_ENV = [
  'DESIGN_FILE_ROOTS',
  'DESIGN_ALLOW_HOSTS',
  'DESIGN_HTTP_RETRIES',
  'DESIGN_HTTP_TIMEOUT_MS',
  'DESIGN_CACHE_TTL_SECONDS',
  'LOG_LEVEL',
];

let server: TestServer;
let design: typeof import('#functions/design.ts');
const saved = Object.fromEntries(DESIGN_ENV.map((k) => [k, process.env[k]]));

beforeAll(async () => {
  server = await startServer((req, res) => {
    if (req.url === '/private.yaml') {
      if (req.headers.authorization !== `Basic ${btoa('ops:hunter2')}`) {
        res.statusCode = 401;
        res.end();
        return;
      }
      res.end('apiVersion: drydock/v1\nkind: Rack\nmetadata: {name: rack-p}\nspec: {}\n');
      return;
    }
    if (req.url === '/broken.yaml') {
      res.end('schema: drydock/Rack/v1\nmetadata:\n  name: a: b\ndata: {}\n');
      return;
    }
    if (req.url === '/slow.yaml') return; // never answers
    res.statusCode = 503;
    res.end();
  });
  Object.assign(process.env, {
    DESIGN_FILE_ROOTS: fixtures,
    DESIGN_ALLOW_HOSTS: `127.0.0.1:${server.port}`,
    DESIGN_HTTP_RETRIES: '0',
    DESIGN_HTTP_TIMEOUT_MS: '5000',
    DESIGN_CACHE_TTL_SECONDS: '0',
    LOG_LEVEL: 'SILENT',
  });
  // Fresh modules: config, logger and the resolver are built from this environment.
  vi.resetModules();
  design = await import('#functions/design.ts');
});
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await server.close();
});

const call = async (request: ApiRequest, remainingMs?: number): Promise<ApiAnswer> => {
  const context = lambdaContext('drydock-design');
  if (remainingMs !== undefined) {
    const end = Date.now() + remainingMs;
    context.getRemainingTimeInMillis = () => end - Date.now();
  }
  return answer(await design.handler(apiEvent(request), context));
};
const resolve = (design_ref: string, remainingMs?: number) =>
  call({ method: 'POST', path: '/api/v1.0/designs/resolve', body: { design_ref } }, remainingMs);
const validate = (body: unknown) =>
  call({ method: 'POST', path: '/api/v1.0/validatedesign', body });

describe('POST /api/v1.0/designs/resolve', () => {
  it('answers the documents, counts per kind, digest, size and validation', async () => {
    const res = await resolve(`file://${fixtures}site-legacy.yaml`);
    expect(res.status).toBe(200);
    expect(res.headers['X-Drydock-Req']).toBeTruthy();
    expect(res.body).toMatchObject({
      design_ref: `file://${fixtures}site-legacy.yaml`,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      size_bytes: expect.any(Number),
      from_cache: false,
      counts_by_kind: { Region: 1, BaremetalNode: 1, 'promenade/v1/Cluster': 1 },
      validation: PASSED_STATUS,
    });
    expect(res.body.documents).toHaveLength(9);
  });

  it('uses credentials in the reference but never echoes them', async () => {
    const res = await resolve(`http://ops:hunter2@127.0.0.1:${server.port}/private.yaml`);
    expect(res.status).toBe(200);
    expect(res.body.design_ref).toBe(`${server.origin}/private.yaml`);
    expect(JSON.stringify(res)).not.toContain('hunter2');
    const refused = await resolve(`http://ops:wrong@127.0.0.1:${server.port}/private.yaml`);
    expect(refused.status).toBe(502);
    expect(JSON.stringify(refused)).not.toMatch(/wrong|ops:/);
  });

  it('maps refusals and failures to 400, 502 and 504 with Drydock error bodies', async () => {
    const unknown = await resolve('gopher://designs.example/site.yaml');
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ type: 'error', retry: false });
    expect(unknown.body.message).toContain("unsupported design reference scheme 'gopher'");
    const metadata = await resolve('http://169.254.169.254/latest/meta-data/');
    expect(metadata.status).toBe(400);
    expect(metadata.body.message).toContain('DESIGN_ALLOW_HOSTS');
    const outside = await resolve('file:///etc/passwd');
    expect(outside.status).toBe(400);
    const down = await resolve(`${server.origin}/down.yaml`);
    expect(down.status).toBe(502);
    expect(down.body.retry).toBe(true);
  });

  it('answers a YAML syntax error as 400 with its line and column', async () => {
    const res = await resolve(`${server.origin}/broken.yaml`);
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('line 3, column 10');
    expect(res.body.issues[0].path).toBe('yaml:3:10');
  });

  it("stops at the invocation's remaining time", async () => {
    const started = Date.now();
    const res = await resolve(`${server.origin}/slow.yaml`, 1_600);
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('refuses other methods and malformed bodies', async () => {
    expect((await call({ method: 'GET', path: '/api/v1.0/designs/resolve' })).status).toBe(405);
    const extra = await call({
      method: 'POST',
      path: '/api/v1.0/designs/resolve',
      body: { design_ref: 'file:///x.yaml', extra: 1 },
    });
    expect(extra.status).toBe(400);
  });
});

describe('POST /api/v1.0/validatedesign', () => {
  it("answers Drydock's Status with 200/code 200 for a valid design", async () => {
    const res = await validate({
      rel: 'design',
      href: `file://${fixtures}site-deckhand.yaml`,
      type: 'application/x-yaml',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ...PASSED_STATUS, code: 200 });
  });

  it('answers 400/code 400 with the messages for an invalid design or unreadable YAML', async () => {
    const invalid = await validate({ href: `file://${fixtures}invalid-deckhand.yaml` });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ ...FAILED_STATUS, code: 400, details: { errorCount: 8 } });
    const broken = await validate({ href: `${server.origin}/broken.yaml` });
    expect(broken.status).toBe(400);
    expect(broken.body.details.messageList[0]).toMatchObject({ name: 'DD000', level: 'Error' });
  });

  it('answers 400 for a missing href and 502 when the source is down', async () => {
    const missing = await validate({ rel: 'design' });
    expect(missing.status).toBe(400);
    expect(missing.body.type).toBe('error');
    const down = await validate({ href: `${server.origin}/down.yaml` });
    expect(down.status).toBe(502);
  });
});

describe('POST /api/v1.0/validatedesign with the design inline', () => {
  it('validates pasted YAML as it validates the same design by reference', async () => {
    const { readFile } = await import('node:fs/promises');
    for (const [file, status] of [
      ['site-deckhand.yaml', 200],
      ['invalid-deckhand.yaml', 400],
    ] as const) {
      const content = await readFile(`${fixtures}${file}`, 'utf8');
      const inline = await validate({ content });
      const byRef = await validate({ href: `file://${fixtures}${file}` });
      expect(inline.status).toBe(status);
      expect(inline.body.details).toEqual(
        expect.objectContaining({ errorCount: byRef.body.details.errorCount }),
      );
      expect(inline.body.details.messageList.map((m: { name: string }) => m.name)).toEqual(
        byRef.body.details.messageList.map((m: { name: string }) => m.name),
      );
    }
    const broken = await validate({
      content: 'schema: drydock/Rack/v1\nmetadata:\n  name: a: b\n',
    });
    expect(broken.status).toBe(400);
    expect(broken.body.details.messageList[0]).toMatchObject({ name: 'DD000', level: 'Error' });
  });

  it('takes either href or content, never both or neither', async () => {
    const both = await validate({ href: `file://${fixtures}site-deckhand.yaml`, content: 'a: 1' });
    expect(both.status).toBe(400);
    expect(both.body.message).toBeTypeOf('string');
    expect((await validate({ content: '' })).status).toBe(400);
  });
});
