import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '#test/e2e/harness.ts';
import { DESIGN_REF } from '#test/support/deploy-flow.ts';
import { runCli, startCli } from './run-cli.ts';

const REGION = 'eu-west-1';
const CREDENTIALS = {
  accessKeyId: 'AKIDCONSOLETEST00001',
  secretAccessKey: 'console-test-secret-key/with+symbols',
  sessionToken: 'console-test-session-token',
};
/** The standard credential chain reads these first, as on an operator's machine. */
const AWS_ENV = {
  AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
  AWS_REGION: REGION,
};

interface Seen {
  method: string;
  path: string;
  auth: 'sigv4' | 'keystone' | 'none';
  verified: boolean;
  reason?: string;
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * API Gateway's side of IAM authorisation, as far as a signature goes: the request is signed
 * again with the AWS SDK's own signer, from the same credentials, date, region and signed
 * headers; only an identical Authorization header passes. A passing request is sent on to the
 * local server, so the CLI sees the real service behind it.
 */
async function verify(req: IncomingMessage, body: Buffer): Promise<string | null> {
  const authorization = req.headers.authorization ?? '';
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (!m) return `not a SigV4 Authorization header: ${authorization.slice(0, 40)}`;
  const [, accessKey, , region, service, signedHeaders] = m;
  if (accessKey !== CREDENTIALS.accessKeyId) return 'unknown access key';
  if (region !== REGION || service !== 'execute-api') return `wrong scope ${region}/${service}`;
  const amzDate = req.headers['x-amz-date'];
  if (typeof amzDate !== 'string') return 'no X-Amz-Date';
  const signingDate = new Date(
    amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  const headers: Record<string, string> = {};
  for (const name of (signedHeaders as string).split(';')) {
    if (name === 'x-amz-date' || name === 'x-amz-security-token') continue;
    const value = req.headers[name];
    if (typeof value !== 'string') return `signed header ${name} missing`;
    headers[name] = value;
  }
  const url = new URL(req.url ?? '/', 'http://placeholder');
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const seen = query[key];
    query[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  const signer = new SignatureV4({
    service: 'execute-api',
    region: REGION,
    credentials: CREDENTIALS,
    sha256: Sha256,
  });
  const expected = await signer.sign(
    new HttpRequest({
      method: req.method ?? 'GET',
      protocol: 'http:',
      hostname: (req.headers.host ?? '').split(':')[0] ?? '',
      path: url.pathname,
      query,
      headers,
      ...(body.length > 0 ? { body: body.toString('utf8') } : {}),
    }),
    { signingDate },
  );
  if (expected.headers.authorization !== authorization) return 'signature mismatch';
  if (req.headers['x-amz-security-token'] !== CREDENTIALS.sessionToken) return 'no session token';
  return null;
}

describe('drydock-state signing its requests', () => {
  let server: RunningServer;
  let gateway: Server;
  let gatewayUrl: string;
  const seen: Seen[] = [];

  beforeAll(async () => {
    server = await startServer('pglite', { LOG_LEVEL: 'SILENT' });
    gateway = createServer((req, res) => {
      void (async () => {
        const body = await bodyOf(req);
        const token = req.headers['x-auth-token'];
        const auth = req.headers.authorization ? 'sigv4' : token ? 'keystone' : 'none';
        const reason =
          auth === 'sigv4'
            ? await verify(req, body)
            : auth === 'keystone'
              ? token === 'keystone-token-123'
                ? null
                : 'bad token'
              : 'no credentials';
        seen.push({
          method: req.method ?? '',
          path: req.url ?? '',
          auth,
          verified: reason === null,
          ...(reason ? { reason } : {}),
        });
        if (reason !== null) {
          res.writeHead(403, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ type: 'error', message: `Forbidden: ${reason}`, retry: false }));
          return;
        }
        const headers: Record<string, string> = {};
        for (const name of ['content-type', 'idempotency-key', 'if-match', 'accept']) {
          const value = req.headers[name];
          if (typeof value === 'string') headers[name] = value;
        }
        const answer = await fetch(`${server.url}${req.url}`, {
          method: req.method ?? 'GET',
          headers,
          ...(body.length > 0 ? { body } : {}),
        });
        const out: Record<string, string> = {};
        answer.headers.forEach((value, name) => {
          if (!['content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(name)) {
            out[name] = value;
          }
        });
        res.writeHead(answer.status, out);
        res.end(Buffer.from(await answer.arrayBuffer()));
      })();
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => gateway?.close(resolve));
    await server?.stop();
  });

  it('signs with SigV4 from the standard credential chain: bodies, headers and query strings', async () => {
    seen.length = 0;
    const args = ['--url', gatewayUrl, '--auth', 'sigv4', '--json'];
    const created = await runCli(
      [
        ...args,
        'tasks',
        'create',
        'deploy_nodes',
        '--design-ref',
        DESIGN_REF,
        '--node',
        'n 1/é',
        '--idempotency-key',
        'signed-1',
      ],
      AWS_ENV,
    );
    expect(created.code, created.stderr).toBe(0);
    const task = JSON.parse(created.stdout);
    const listed = await runCli(
      [...args, 'tasks', 'list', '--status', 'queued', '--action', 'deploy_nodes'],
      AWS_ENV,
    );
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)[0].task_id).toBe(task.task_id);
    const terminated = await runCli([...args, 'tasks', 'terminate', task.task_id], AWS_ENV);
    expect(terminated.code, terminated.stderr).toBe(0);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.filter((s) => !s.verified)).toEqual([]);
    expect(seen.every((s) => s.auth === 'sigv4')).toBe(true);
  });

  it('is refused (exit 5) when the signature does not match the credentials', async () => {
    seen.length = 0;
    const wrong = await runCli(['--url', gatewayUrl, '--auth', 'sigv4', 'tasks', 'list'], {
      ...AWS_ENV,
      AWS_SECRET_ACCESS_KEY: 'not-the-secret',
    });
    expect(wrong.code).toBe(5);
    expect(seen).toEqual([
      expect.objectContaining({ verified: false, reason: 'signature mismatch' }),
    ]);
    const noRegion = await runCli(['--url', gatewayUrl, '--auth', 'sigv4', 'tasks', 'list'], {
      ...AWS_ENV,
      AWS_REGION: '',
    });
    expect(noRegion.code).toBe(2);
    expect(noRegion.stderr).toContain('needs a region');
  });

  it('sends a Keystone token as X-Auth-Token', async () => {
    seen.length = 0;
    const ok = await runCli(['--url', gatewayUrl, 'lease', 'show'], {
      DRYDOCK_TOKEN: 'keystone-token-123',
    });
    // No lease yet: 3 (not found), but the request was authorised by its token.
    expect(ok.code).toBe(3);
    expect(seen).toEqual([expect.objectContaining({ auth: 'keystone', verified: true })]);
    const bad = await runCli(['--url', gatewayUrl, '--token', 'stolen', 'tasks', 'list']);
    expect(bad.code).toBe(5);
  });

  it("serves the console on loopback and signs the console's API calls", async () => {
    seen.length = 0;
    const proxy = startCli(['console', '--url', gatewayUrl, '--auth', 'sigv4', '--json'], AWS_ENV);
    try {
      const [line] = await proxy.waitFor(/^\{.*\}$/m);
      const { url, auth } = JSON.parse(line);
      expect(auth).toBe('sigv4');
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await page.text()).toContain('<div id="app">');

      const console = { 'X-Drydock-Console': '1' };
      const created = await fetch(`${url}/api/v1.0/tasks`, {
        method: 'POST',
        headers: { ...console, 'Content-Type': 'application/json' },
        body: JSON.stringify({ action: 'verify_site', design_ref: DESIGN_REF }),
      });
      expect(created.status).toBe(201);
      const task = (await created.json()) as { task_id: string };
      const read = await fetch(`${url}/api/v1.0/tasks/${task.task_id}?layers=-1`, {
        headers: console,
      });
      expect(read.status).toBe(200);
      expect(((await read.json()) as { init_task_id: string }).init_task_id).toBe(task.task_id);
      expect(seen.map((s) => [s.method, s.auth, s.verified])).toEqual([
        ['POST', 'sigv4', true],
        ['GET', 'sigv4', true],
      ]);

      // What another web page could send is refused before anything is signed.
      const forged = await fetch(`${url}/api/v1.0/tasks`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain', 'Sec-Fetch-Site': 'cross-site' },
        body: '{}',
      });
      expect(forged.status).toBe(403);
      // DNS rebinding: a page of attacker.example whose name now points at 127.0.0.1 (fetch
      // cannot forge Host, so the raw request is sent by hand).
      const rebound = await new Promise<number>((resolve, reject) => {
        const target = new URL(`${url}/api/v1.0/tasks`);
        const req = httpRequest(
          {
            host: target.hostname,
            port: target.port,
            path: target.pathname,
            headers: { ...console, Host: `attacker.example:${target.port}` },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(rebound).toBe(403);
      expect(seen).toHaveLength(2);
    } finally {
      proxy.child.kill('SIGINT');
      expect(await proxy.exit()).toBe(0);
    }
  });
});
