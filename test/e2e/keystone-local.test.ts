/**
 * The local server with `KEYSTONE_URL`: it asks for tokens exactly as the deployed Keystone API
 * does, through the same authenticator, against a Keystone stand-in over real HTTP. The requests
 * are the ones Drydock's client and CLI make (`drydock_client/client.py`): `X-Auth-Token` (and
 * `X-Context-Marker`) on GET/POST/DELETE /tasks, GET /tasks/{id} and POST /validatedesign.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, statement } from '#shared/db/sql.ts';
import {
  type KeystoneStandIn,
  STAND_IN_USERS,
  startKeystoneStandIn,
} from '#test/support/keystone-stand-in.ts';
import { TEST_DRIVERS, type TestDriver } from '#test/support/test-db.ts';
import { type RunningServer, request, startServer } from './harness.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/designs/', import.meta.url));
const DESIGN_REF = 'deckhand+https://deckhand.example/api/v1.0/revisions/3/rendered-documents';
// Authorisation does not depend on the driver: the quickest one available.
const DRIVER = TEST_DRIVERS[0] as TestDriver;

let keystone: KeystoneStandIn;
let folder: string;
let secretFile: string;

beforeAll(async () => {
  keystone = await startKeystoneStandIn({ users: STAND_IN_USERS });
  folder = await mkdtemp(join(tmpdir(), 'drydock-keystone-'));
  secretFile = join(folder, 'keystone.json');
  await writeFile(
    secretFile,
    JSON.stringify({ username: 'drydock', password: 'drydock-password', project_name: 'service' }),
    { mode: 0o600 },
  );
});
afterAll(async () => {
  await keystone?.close();
  if (folder) await rm(folder, { recursive: true, force: true });
});

/** What Drydock's session sends with every request. */
const drydockHeaders = (token: string) => ({
  'X-Auth-Token': token,
  'X-Context-Marker': randomUUID(),
  'User-Agent': 'python-requests/2.28.1',
});

function keystoneEnv(policy = ''): Record<string, string> {
  return {
    KEYSTONE_URL: keystone.url,
    KEYSTONE_SECRET_FILE: secretFile,
    // Every request asks Keystone, so a revocation shows at once (the cache is tested with the
    // authoriser's injected clock).
    KEYSTONE_CACHE_SECONDS: '0',
    KEYSTONE_POLICY: policy,
    DESIGN_FILE_ROOTS: FIXTURES,
  };
}

describe('npm start with KEYSTONE_URL, default policy', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(DRIVER, keystoneEnv());
  });
  afterAll(async () => {
    await server?.stop();
  });
  const call = (method: string, path: string, token?: string, body?: unknown) =>
    request(server.url, method, path, {
      ...(token === undefined ? {} : { headers: drydockHeaders(token) }),
      ...(body === undefined ? {} : { body }),
    });

  it('serves the public probes without a token', async () => {
    expect((await call('GET', '/api/v1.0/health')).status).toBe(204);
    expect((await call('GET', '/versions')).status).toBe(200);
  });

  it("answers 401 in Drydock's shape, with Keystone's WWW-Authenticate, to missing and bad tokens", async () => {
    for (const token of [undefined, 'not a token', 'gAAAAAnever-issued']) {
      const res = await call('GET', '/api/v1.0/tasks', token);
      expect(res.status, String(token)).toBe(401);
      expect(res.body).toEqual({
        type: 'error',
        message: 'Unauthenticated: send a valid Keystone token in X-Auth-Token.',
        retry: false,
      });
      expect(res.headers.get('www-authenticate')).toBe(`Keystone uri="${keystone.url}"`);
    }
    // Unknown routes ask for a token first, as the authoriser runs on every Keystone API method.
    expect((await call('GET', '/api/v1.0/nothing-here')).status).toBe(401);
    const admin = keystone.issue('admin', { project: 'admin' });
    expect((await call('GET', '/api/v1.0/nothing-here', admin)).status).toBe(404);
  });

  it("serves Drydock's client calls to an admin token; created_by is the Keystone user", async () => {
    const token = keystone.issue('admin', { project: 'admin' });
    const created = await call('POST', '/api/v1.0/tasks', token, {
      action: 'verify_site',
      design_ref: DESIGN_REF,
      node_filter: null,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'queued', created_by: 'admin' });
    const id = created.body.task_id as string;

    const list = await call('GET', '/api/v1.0/tasks', token);
    expect(list.status).toBe(200);
    expect(list.body.map((t: { task_id: string }) => t.task_id)).toContain(id);
    const one = await call('GET', `/api/v1.0/tasks/${id}`, token);
    expect(one).toMatchObject({ status: 200, body: { task_id: id } });
    const validated = await call('POST', '/api/v1.0/validatedesign', token, {
      rel: 'design',
      href: `file://${FIXTURES}site-deckhand.yaml`,
      type: 'application/x-yaml',
    });
    expect(validated).toMatchObject({ status: 200, body: { status: 'Success', code: 200 } });
    const purged = await call('DELETE', '/api/v1.0/tasks?days=1', token);
    expect(purged.status).toBe(200);

    const [row] = await server.db.query(
      statement(
        { createdBy: 'text', ctx: 'json' },
        sql`select created_by as "createdBy", request_context as "ctx" from tasks where task_id = ${id}::uuid`,
      ),
    );
    expect(row?.createdBy).toBe('admin');
    expect(row?.ctx).toMatchObject({
      auth: 'keystone',
      principal: 'admin',
      user_id: 'u-admin',
      project_id: 'p-admin',
      roles: ['admin'],
      account_id: null,
    });
    // The token went to Keystone and nowhere else: not into the stored context.
    expect(JSON.stringify(row)).not.toContain(token);
  });

  it('answers 403 to a valid token without the role, for every one of those calls', async () => {
    const token = keystone.issue('reader', { project: 'admin' });
    const calls: [string, string, unknown?][] = [
      ['GET', '/api/v1.0/tasks'],
      ['POST', '/api/v1.0/tasks', { action: 'verify_site', design_ref: DESIGN_REF }],
      ['GET', `/api/v1.0/tasks/${randomUUID()}`],
      ['POST', '/api/v1.0/validatedesign', { href: `file://${FIXTURES}site-deckhand.yaml` }],
      ['DELETE', '/api/v1.0/tasks?days=1'],
    ];
    for (const [method, path, body] of calls) {
      const res = await call(method, path, token, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body).toMatchObject({ type: 'error', retry: false });
      expect(res.body.message).toMatch(/^Forbidden: the policy rule physical_provisioner:\w+/);
    }
  });

  it('refuses expired and revoked tokens, and answers 503 (retry) while Keystone fails', async () => {
    const expired = keystone.issue('admin', { project: 'admin' }, { lifetimeMs: -1 });
    expect((await call('GET', '/api/v1.0/tasks', expired)).status).toBe(401);
    const revoked = keystone.issue('admin', { project: 'admin' });
    expect((await call('GET', '/api/v1.0/tasks', revoked)).status).toBe(200);
    keystone.revoke(revoked);
    expect((await call('GET', '/api/v1.0/tasks', revoked)).status).toBe(401);

    const token = keystone.issue('admin', { project: 'admin' });
    keystone.fail('error');
    try {
      const down = await call('GET', '/api/v1.0/tasks', token);
      expect(down.status).toBe(503);
      expect(down.body).toEqual({
        type: 'error',
        message: 'The identity service (Keystone) is unavailable; retry later.',
        retry: true,
      });
      // The public probe does not depend on Keystone.
      expect((await call('GET', '/api/v1.0/health')).status).toBe(204);
    } finally {
      keystone.fail('none');
    }
    expect((await call('GET', '/api/v1.0/tasks', token)).status).toBe(200);
  });
});

describe('npm start with KEYSTONE_URL and a policy document', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(
      DRIVER,
      keystoneEnv(
        JSON.stringify({
          operators: 'role:admin or role:reader',
          'physical_provisioner:read_task': 'rule:operators',
          'physical_provisioner:create_task': 'rule:operators',
          'physical_provisioner:verify_site': 'rule:operators',
        }),
      ),
    );
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("applies the overrides, and the action's own rule on POST /tasks", async () => {
    const token = keystone.issue('reader', { project: 'admin' });
    const headers = drydockHeaders(token);
    expect((await request(server.url, 'GET', '/api/v1.0/tasks', { headers })).status).toBe(200);
    const verify = await request(server.url, 'POST', '/api/v1.0/tasks', {
      headers,
      body: { action: 'verify_site', design_ref: DESIGN_REF },
    });
    expect(verify).toMatchObject({ status: 201, body: { created_by: 'reader' } });
    const deploy = await request(server.url, 'POST', '/api/v1.0/tasks', {
      headers,
      body: { action: 'deploy_nodes', design_ref: DESIGN_REF },
    });
    expect(deploy.status).toBe(403);
    expect(deploy.body.message).toContain('physical_provisioner:deploy_nodes');
    const purge = await request(server.url, 'DELETE', '/api/v1.0/tasks?days=1', { headers });
    expect(purge.status).toBe(403);
  });
});
