import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSecretsManagerReader } from '#shared/aws/secrets.ts';
import { loadConfig } from '#shared/config.ts';
import type { DesignResolver } from '#shared/design-refs/design-resolver.ts';
import { DesignRefError } from '#shared/design-refs/errors.ts';
import { secretsManagerClientAt } from '#test/support/secrets-manager-stand-in.ts';
import { captureLogger, rejection, startServer, type TestServer, testResolver } from './servers.ts';

const DESIGN = 'schema: drydock/Rack/v1\nmetadata: {name: rack-a}\ndata: {}\n';
const PASSWORD = 'keystone-Pa55w0rd!';
const KEYSTONE_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:drydock/keystone';
const TOKEN_LIFETIME_MS = 60 * 60_000;

// The resolver's clock, also used by the fake Keystone to stamp expiry, so the test moves time.
const clock = { t: Date.parse('2026-11-24T20:00:00Z'), now: () => clock.t };

let keystone: TestServer;
let deckhand: TestServer;
let secretsManager: TestServer;
let issued = 0;
const valid = new Set<string>();
let lastAuthBody: unknown;

beforeAll(async () => {
  keystone = await startServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/identity/v3/auth/tokens') {
      res.statusCode = 404;
      res.end();
      return;
    }
    lastAuthBody = JSON.parse(req.body);
    const user = (
      lastAuthBody as {
        auth: { identity: { password: { user: { name: string; password: string } } } };
      }
    ).auth.identity.password.user;
    if (user.name !== 'drydock' || user.password !== PASSWORD) {
      res.statusCode = 401;
      res.end('{"error":{"code":401}}');
      return;
    }
    const token = `gAAAA-token-${++issued}`;
    valid.add(token);
    res.statusCode = 201;
    res.setHeader('x-subject-token', token);
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        token: { expires_at: new Date(clock.t + TOKEN_LIFETIME_MS).toISOString() },
      }),
    );
  });
  deckhand = await startServer((req, res) => {
    const token = req.headers['x-auth-token'];
    if (typeof token !== 'string' || !valid.has(token)) {
      res.statusCode = 401;
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/x-yaml');
    res.end(DESIGN);
  });
  // Secrets Manager's JSON protocol: POST / with X-Amz-Target, answering the secret string.
  secretsManager = await startServer((req, res) => {
    const target = req.headers['x-amz-target'];
    const { SecretId } = JSON.parse(req.body) as { SecretId: string };
    if (target !== 'secretsmanager.GetSecretValue' || SecretId !== KEYSTONE_ARN) {
      res.statusCode = 400;
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'no such secret' }));
      return;
    }
    res.setHeader('content-type', 'application/x-amz-json-1.1');
    res.end(
      JSON.stringify({
        ARN: KEYSTONE_ARN,
        Name: 'drydock/keystone',
        SecretString: JSON.stringify({
          auth_url: `${keystone.origin}/identity`,
          username: 'drydock',
          password: PASSWORD,
          project_name: 'service',
          user_domain_name: 'Default',
          project_domain_name: 'Default',
        }),
      }),
    );
  });
});
afterAll(async () => {
  await Promise.all([keystone.close(), deckhand.close(), secretsManager.close()]);
});

let resolver: DesignResolver | undefined;
afterEach(async () => {
  await resolver?.close();
  resolver = undefined;
  for (const s of [keystone, deckhand, secretsManager]) s.requests.length = 0;
});

const secretsClient = () => secretsManagerClientAt(secretsManager.origin);

/** The allow-list entries of the Keystone and Deckhand test servers (each on its own port). */
const ucpHosts = () => [`127.0.0.1:${keystone.port}`, `127.0.0.1:${deckhand.port}`];

/** Registers the resolver for closing after the test. */
const use = (r: DesignResolver) => {
  resolver = r;
  return r;
};

function ucpResolver(logger = captureLogger()) {
  return use(
    testResolver(
      { allowHosts: ucpHosts(), keystoneSecretArn: KEYSTONE_ARN },
      { clock, logger, readSecret: createSecretsManagerReader(secretsClient()) },
    ),
  );
}

describe('deckhand+http and promenade+http design references', () => {
  it('strips the service prefix and authenticates with a Keystone v3 token', async () => {
    const r = ucpResolver();
    const got = await r.resolve(
      `deckhand+http://127.0.0.1:${deckhand.port}/api/v1.0/revisions/4/rendered-documents`,
    );
    expect(got.bytes.toString()).toBe(DESIGN);
    expect(got.scheme).toBe('deckhand+http');
    expect(deckhand.requests[0]?.url).toBe('/api/v1.0/revisions/4/rendered-documents');
    expect(deckhand.requests[0]?.headers['x-auth-token']).toMatch(/^gAAAA-token-/);
    expect(lastAuthBody).toEqual({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'drydock', password: PASSWORD, domain: { name: 'Default' } } },
        },
        scope: { project: { name: 'service', domain: { name: 'Default' } } },
      },
    });
    // The secret came through the real Secrets Manager client.
    expect(secretsManager.requests).toHaveLength(1);
  });

  it('reuses the token until shortly before it expires', async () => {
    const r = ucpResolver();
    const ref = `promenade+http://127.0.0.1:${deckhand.port}/api/v1.0/config`;
    await r.resolve(ref);
    await r.resolve(ref);
    clock.t += TOKEN_LIFETIME_MS - 2 * 60_000; // still outside the renewal margin
    await r.resolve(ref);
    expect(keystone.requests).toHaveLength(1);
    clock.t += 90_000; // now within a minute of expiry
    await r.resolve(ref);
    expect(keystone.requests).toHaveLength(2);
    expect(deckhand.requests).toHaveLength(4);
  });

  it('authenticates again once when Deckhand rejects a revoked token', async () => {
    const r = ucpResolver();
    const ref = `deckhand+http://127.0.0.1:${deckhand.port}/api/v1.0/revisions/5/rendered-documents`;
    await r.resolve(ref);
    valid.clear();
    expect((await r.resolve(ref)).bytes.toString()).toBe(DESIGN);
    expect(keystone.requests).toHaveLength(2);
    expect(deckhand.requests).toHaveLength(3);
  });

  it('reports bad Keystone credentials without revealing them', async () => {
    const logger = captureLogger();
    const r = use(
      testResolver(
        { allowHosts: ucpHosts(), keystoneSecretArn: KEYSTONE_ARN },
        {
          clock,
          logger,
          readSecret: async () =>
            JSON.stringify({
              auth_url: `${keystone.origin}/identity/v3`,
              username: 'drydock',
              password: 'wrong-Pa55w0rd',
              project_id: 'abc123',
            }),
        },
      ),
    );
    const e = (await rejection(() =>
      r.resolve(`deckhand+http://127.0.0.1:${deckhand.port}/api/v1.0/revisions/1`),
    )) as DesignRefError;
    expect(e).toBeInstanceOf(DesignRefError);
    expect(e.failure).toBe('rejected');
    expect(e.message).toContain('DESIGN_KEYSTONE_SECRET_ARN');
    expect([e.message, ...logger.lines].join('\n')).not.toContain('wrong-Pa55w0rd');
    expect(deckhand.requests).toHaveLength(0);
  });

  it('reports an unreadable or malformed secret by setting name, not content', async () => {
    const r = use(
      testResolver(
        { allowHosts: ucpHosts(), keystoneSecretArn: KEYSTONE_ARN },
        {
          clock,
          readSecret: async () => JSON.stringify({ auth_url: 'not a url', password: PASSWORD }),
        },
      ),
    );
    const e = await rejection(() => r.resolve(`deckhand+http://127.0.0.1:${deckhand.port}/x`));
    expect(e.message).toContain('DESIGN_KEYSTONE_SECRET_ARN');
    expect(e.message).toContain('auth_url');
    expect(e.message).not.toContain(PASSWORD);
  });

  it('refuses deckhand references when Keystone is not configured', async () => {
    const r = use(testResolver({ allowHosts: ucpHosts() }));
    const e = (await rejection(() =>
      r.resolve(`deckhand+https://127.0.0.1:${deckhand.port}/x`),
    )) as DesignRefError;
    expect([e.failure, e.status]).toEqual(['refused', 400]);
    expect(e.message).toContain('DESIGN_KEYSTONE_SECRET_ARN');
  });

  it('applies the SSRF guard to Deckhand and Keystone hosts', async () => {
    const r = use(
      testResolver(
        { allowHosts: [], keystoneSecretArn: KEYSTONE_ARN },
        {
          clock,
          readSecret: createSecretsManagerReader(secretsClient()),
        },
      ),
    );
    const e = (await rejection(() =>
      r.resolve(`deckhand+http://127.0.0.1:${deckhand.port}/x`),
    )) as DesignRefError;
    expect(e.failure).toBe('refused');
    expect(keystone.requests).toHaveLength(0);
    expect(deckhand.requests).toHaveLength(0);
  });
});

describe('Keystone credentials from local settings (npm start)', () => {
  const credentials = () => ({
    auth_url: `${keystone.origin}/identity`,
    username: 'drydock',
    password: PASSWORD,
    project_name: 'service',
  });

  it('reads them from the file DESIGN_KEYSTONE_SECRET_FILE names, without Secrets Manager', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keystone-'));
    const file = join(dir, 'keystone.json');
    await writeFile(file, JSON.stringify(credentials()));
    try {
      const r = use(
        testResolver(
          { allowHosts: ucpHosts(), keystoneLocal: { file } },
          {
            clock,
            readSecret: async () => {
              throw new Error('Secrets Manager is not used locally');
            },
          },
        ),
      );
      const got = await r.resolve(
        `deckhand+http://127.0.0.1:${deckhand.port}/api/v1.0/revisions/2`,
      );
      expect(got.bytes.toString()).toBe(DESIGN);
      expect(lastAuthBody).toMatchObject({
        auth: { scope: { project: { name: 'service', domain: { name: 'Default' } } } },
      });
      // A file that does not hold credentials is named, its content is not shown.
      await writeFile(file, JSON.stringify({ ...credentials(), auth_url: 'nope' }));
      const broken = use(
        testResolver({ allowHosts: ucpHosts(), keystoneLocal: { file } }, { clock }),
      );
      const e = await rejection(() =>
        broken.resolve(`deckhand+http://127.0.0.1:${deckhand.port}/x`),
      );
      expect(e.message).toContain('DESIGN_KEYSTONE_SECRET_FILE');
      expect(e.message).not.toContain(PASSWORD);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("takes OpenStack's OS_* variables (a sourced openrc), and names them when incomplete", async () => {
    const env = {
      OS_AUTH_URL: `${keystone.origin}/identity/v3`,
      OS_USERNAME: 'drydock',
      OS_PASSWORD: PASSWORD,
      OS_PROJECT_NAME: 'service',
      OS_USER_DOMAIN_NAME: 'Default',
      OS_PROJECT_DOMAIN_NAME: 'Default',
    };
    const r = use(testResolver({ allowHosts: ucpHosts(), keystoneLocal: { env } }, { clock }));
    const got = await r.resolve(`promenade+http://127.0.0.1:${deckhand.port}/api/v1.0/config`);
    expect(got.bytes.toString()).toBe(DESIGN);
    await r.close();
    const incomplete = use(
      testResolver(
        { allowHosts: ucpHosts(), keystoneLocal: { env: { ...env, OS_PASSWORD: undefined } } },
        { clock },
      ),
    );
    const e = await rejection(() =>
      incomplete.resolve(`deckhand+http://127.0.0.1:${deckhand.port}/x`),
    );
    expect(e.message).toContain(
      'the OS_* variables do not give complete Keystone credentials (at: password',
    );
  });

  it('is refused by the configuration on AWS, where the password belongs in Secrets Manager', () => {
    expect(() =>
      loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'design', OS_AUTH_URL: 'https://keystone.test/v3' }),
    ).toThrow(
      /OS_AUTH_URL: local Keystone credentials are for npm start; on AWS set DESIGN_KEYSTONE_SECRET_ARN/,
    );
    expect(
      loadConfig({ DESIGN_KEYSTONE_SECRET_FILE: '/etc/drydock/keystone.json' }).design
        .keystoneLocal,
    ).toEqual({ file: '/etc/drydock/keystone.json' });
    expect(
      loadConfig({ OS_AUTH_URL: 'https://k/v3', OS_USERNAME: 'u' }).design.keystoneLocal,
    ).toEqual({
      env: expect.objectContaining({ OS_AUTH_URL: 'https://k/v3', OS_USERNAME: 'u' }),
    });
  });
});
