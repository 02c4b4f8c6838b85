/**
 * The Keystone authoriser as API Gateway runs it: REQUEST authoriser events in, IAM policies and
 * context out, against a Keystone stand-in over real HTTP and the service's credentials from a
 * Secrets Manager stand-in through the real SDK client. Time is an injected clock shared with the
 * stand-in, so expiry and the cache's bound are tested without waiting.
 */
import { createServer } from 'node:net';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiGatewayEvent, type Deployment, lambdaContext } from '#infra/local/lambda-events.ts';
import type { AuthLogger } from '#shared/auth/authenticate.ts';
import { createRequestAuthorizer } from '#shared/auth/authorizer.ts';
import { keystoneAuthenticatorFor } from '#shared/auth/keystone-authenticator.ts';
import { RULE_NAMES } from '#shared/auth/rules.ts';
import { createSecretsManagerReader } from '#shared/aws/secrets.ts';
import type { KeystoneConfig } from '#shared/config.ts';
import { createLogger } from '#shared/logger.ts';
import {
  type KeystoneStandIn,
  STAND_IN_USERS,
  startKeystoneStandIn,
} from '#test/support/keystone-stand-in.ts';
import {
  type SecretsManagerStandIn,
  secretsManagerClientAt,
  startSecretsManagerStandIn,
} from '#test/support/secrets-manager-stand-in.ts';
import { stdoutOf } from '#test/support/stdout.ts';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:drydock/keystone-AbCdEf';
const SERVICE_PASSWORD = 'drydock-password';
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/GET/api/v1.0/tasks';

const clock = { t: Date.parse('2026-11-30T12:00:00Z'), now: () => clock.t };
/** How far Keystone's clock runs behind the service's (0 but in the clock-skew case). */
let keystoneLagMs = 0;

let keystone: KeystoneStandIn;
let secrets: SecretsManagerStandIn;

beforeAll(async () => {
  keystone = await startKeystoneStandIn({
    users: STAND_IN_USERS,
    now: () => clock.t - keystoneLagMs,
    tokenLifetimeMs: 60 * 60_000,
  });
  secrets = await startSecretsManagerStandIn({
    [SECRET_ARN]: JSON.stringify({
      auth_url: keystone.url,
      username: 'drydock',
      password: SERVICE_PASSWORD,
      project_name: 'service',
    }),
  });
});
afterEach(async () => {
  keystone.fail('none');
  keystoneLagMs = 0;
});
afterAll(async () => {
  await Promise.all([keystone?.close(), secrets?.close()]);
});

/** A logger that keeps every line, to check what was (and was not) logged. */
function captureLogger() {
  const lines: string[] = [];
  const keep = (level: string) => (message: string, attributes: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${JSON.stringify(attributes)}`);
  };
  return { lines, debug: keep('debug'), info: keep('info'), warn: keep('warn') };
}

const secretsClient = () => secretsManagerClientAt(secrets.endpoint);

/** The authoriser, logging to a capture (returned) or to `writeTo`. */
function authorizer(overrides: Partial<KeystoneConfig> = {}, writeTo?: AuthLogger) {
  const logger = captureLogger();
  const authenticator = keystoneAuthenticatorFor(
    {
      url: keystone.url,
      secretArn: SECRET_ARN,
      secretFile: undefined,
      cacheTtlSeconds: 60,
      timeoutMs: 2_000,
      policy: undefined,
      ...overrides,
    },
    {
      logger: writeTo ?? logger,
      now: clock.now,
      readSecret: createSecretsManagerReader(secretsClient()),
    },
  );
  return { handler: createRequestAuthorizer(() => authenticator), logger };
}

/** Where the authoriser runs: the `dev` stage of the API in {@link METHOD_ARN}. */
const DEPLOYMENT: Deployment = {
  accountId: '123456789012',
  region: 'eu-west-1',
  apiId: 'abc123',
  stage: 'dev',
  resourceId: 'res123',
};

/**
 * The event API Gateway sends a REQUEST authoriser for `GET /api/v1.0/tasks`: the request's part
 * of the proxy event, built as the local server builds it, with the authoriser's type and method
 * ARN (and no body or authoriser context).
 */
function authorizerEvent(headers: Record<string, string> = {}): APIGatewayRequestAuthorizerEvent {
  const {
    body: _body,
    isBase64Encoded: _base64,
    ...request
  } = apiGatewayEvent(
    {
      method: 'GET',
      path: '/api/v1.0/tasks',
      headers: Object.entries({
        Host: 'abc123.execute-api.eu-west-1.amazonaws.com',
        'User-Agent': 'python-requests/2.28.1',
        ...headers,
      }),
      body: null,
      iam: null,
      sourceIp: '10.0.0.9',
    },
    DEPLOYMENT,
  );
  // An authoriser is asked before any authoriser context exists.
  const requestContext = { ...request.requestContext, authorizer: undefined };
  return { type: 'REQUEST', methodArn: METHOD_ARN, ...request, requestContext };
}

const withToken = (token: string) => authorizerEvent({ 'X-Auth-Token': token });
/** The clock moved `ms` on, then the event carrying `token`: a request that much later. */
const withTokenAfter = (ms: number, token: string) => {
  clock.t += ms;
  return withToken(token);
};
const validations = () => keystone.counts.validations;
/** The authoriser's refusal: API Gateway answers 401 to exactly this error. */
const refused = (decision: Promise<unknown>) => expect(decision).rejects.toThrow(/^Unauthorized$/);
/** Admitted as the stand-in's admin user. */
const admitted = (decision: Promise<unknown>) =>
  expect(decision).resolves.toMatchObject({ principalId: 'u-admin' });

/** A port nobody listens on: Keystone "down". */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the Keystone REQUEST authoriser', () => {
  it('allows a valid admin token: an Allow policy on the stage and the principal as context', async () => {
    const { handler } = authorizer();
    const token = keystone.issue('admin', { project: 'admin' });
    const result = await handler(withToken(token));
    expect(result.principalId).toBe('u-admin');
    expect(result.policyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'execute-api:Invoke',
          Effect: 'Allow',
          Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/*',
        },
      ],
    });
    expect(result.context).toEqual({
      auth: 'keystone',
      user: 'admin',
      user_id: 'u-admin',
      user_domain_id: 'default',
      project_id: 'p-admin',
      project_name: 'admin',
      project_domain_id: 'default',
      domain_id: '',
      roles: 'admin',
      is_admin_project: 'true',
      granted: RULE_NAMES.join(','),
    });
    // API Gateway takes only strings, numbers and booleans as context values.
    for (const value of Object.values(result.context ?? {})) expect(typeof value).toBe('string');

    // As keystonemiddleware: GET /v3/auth/tokens, the service's own token in X-Auth-Token and
    // the caller's in X-Subject-Token; the catalog is not needed.
    const validation = keystone.seen.filter((r) => r.method === 'GET').at(-1);
    expect(validation).toMatchObject({ path: '/v3/auth/tokens', query: '?nocatalog' });
    expect(validation?.headers['x-subject-token']).toBe(token);
    expect(validation?.headers['x-auth-token']).not.toBe(token);
    const signIn = keystone.seen.find((r) => r.method === 'POST');
    expect(signIn?.path).toBe('/v3/auth/tokens');
  });

  it('lets a token without the role through with no rule granted (the function answers 403)', async () => {
    const { handler } = authorizer();
    const result = await handler(withToken(keystone.issue('reader', { project: 'admin' })));
    expect(result.context).toMatchObject({ user: 'reader', roles: 'reader', granted: '' });
    // Unscoped and domain-scoped tokens are valid too; their roles decide.
    const unscoped = await handler(withToken(keystone.issue('admin')));
    expect(unscoped.context).toMatchObject({ project_id: '', roles: '', granted: '' });
  });

  it('applies KEYSTONE_POLICY overrides to the rules it grants', async () => {
    const { handler } = authorizer({
      policy: '{"physical_provisioner:read_task": "role:admin or role:reader"}',
    });
    const reader = await handler(withToken(keystone.issue('reader', { project: 'admin' })));
    expect(reader.context?.granted).toBe('physical_provisioner:read_task');
  });

  it('refuses missing, malformed, unknown, revoked and expired tokens as Unauthorized', async () => {
    const { handler } = authorizer({ cacheTtlSeconds: 0 });
    const before = validations();
    await refused(handler(authorizerEvent()));
    await refused(handler(withToken('   ')));
    await refused(handler(withToken('token with spaces')));
    await refused(handler(withToken('t\u00e9st')));
    await refused(handler(withToken('x'.repeat(8193))));
    const twice = authorizerEvent({ 'X-Auth-Token': 'gAAAAAone' });
    twice.multiValueHeaders = { 'X-Auth-Token': ['gAAAAAone', 'gAAAAAtwo'] };
    await refused(handler(twice));
    // None of those reached Keystone.
    expect(validations()).toBe(before);

    await refused(handler(withToken('gAAAAAnever-issued')));
    const revoked = keystone.issue('admin', { project: 'admin' });
    keystone.revoke(revoked);
    await refused(handler(withToken(revoked)));
    const expiring = keystone.issue('admin', { project: 'admin' }, { lifetimeMs: 1_000 });
    await admitted(handler(withToken(expiring)));
    await refused(handler(withTokenAfter(1_000, expiring)));
    expect(validations()).toBe(before + 4);
  });

  it("refuses a token past its expires_at even when Keystone's clock says otherwise", async () => {
    const { handler } = authorizer({ cacheTtlSeconds: 0 });
    const token = keystone.issue('admin', { project: 'admin' }, { lifetimeMs: 1_000 });
    keystoneLagMs = 5_000;
    clock.t += 1_000;
    const before = validations();
    await refused(handler(withToken(token)));
    // Keystone did answer 200: the service's own check refused it, as keystonemiddleware does.
    expect(validations()).toBe(before + 1);
    expect(keystone.seen.at(-1)?.method).toBe('GET');
  });

  it("writes each request's ids on its own lines, with requests served side by side", async () => {
    // The function's logger (functions/keystone-authorizer.ts): its lines carry the ids of the
    // invocation being served, whatever the other one appended or reset meanwhile.
    const logger = createLogger({ log: { serviceName: 'drydock-statemgmt', level: 'DEBUG' } });
    const { handler } = authorizer({ cacheTtlSeconds: 0 }, logger);
    const admin = withToken(keystone.issue('admin', { project: 'admin' }));
    const unknown = withToken('gAAAAAnever-issued');
    const adminContext = lambdaContext('drydock-keystone-authorizer', DEPLOYMENT);
    const unknownContext = lambdaContext('drydock-keystone-authorizer', DEPLOYMENT);
    const { records } = await stdoutOf(async () => {
      // Both ask Keystone: each writes its line after the other has started.
      await Promise.all([
        admitted(handler(admin, adminContext)),
        refused(handler(unknown, unknownContext)),
      ]);
    });
    expect(records.find((r) => r.message === 'keystone token accepted')).toMatchObject({
      requestId: admin.requestContext.requestId,
      function_request_id: adminContext.awsRequestId,
    });
    expect(records.find((r) => r.message === 'keystone token refused')).toMatchObject({
      requestId: unknown.requestContext.requestId,
      function_request_id: unknownContext.awsRequestId,
    });
    expect(admin.requestContext.requestId).not.toBe(unknown.requestContext.requestId);
  });

  it('takes the header in any case, as API Gateway passes it on', async () => {
    const { handler } = authorizer();
    const token = keystone.issue('admin', { project: 'admin' });
    const event = authorizerEvent({ 'x-auth-token': token });
    event.multiValueHeaders = null;
    await admitted(handler(event));
  });

  it('fails (AUTHORIZER_FAILURE, 503) when Keystone is down, failing, garbled or slow: never Unauthorized', async () => {
    const token = keystone.issue('admin', { project: 'admin' });
    const down = authorizer({ url: `http://127.0.0.1:${await closedPort()}/v3` });
    const refusedConnection = await down.handler(withToken(token)).catch((e: Error) => e);
    expect(refusedConnection).toBeInstanceOf(Error);
    expect((refusedConnection as Error).message).toBe('The identity service is unavailable');
    expect(down.logger.lines.join('\n')).toMatch(/keystone unavailable .*ECONNREFUSED/);

    const { handler, logger } = authorizer({ timeoutMs: 300 });
    for (const mode of ['error', 'garbage', 'hang'] as const) {
      keystone.fail(mode);
      const error = await handler(withToken(token)).catch((e: Error) => e);
      expect((error as Error).message, mode).toBe('The identity service is unavailable');
    }
    expect(logger.lines.join('\n')).toContain('HTTP 500');
  });

  it('keeps a positive answer for KEYSTONE_CACHE_SECONDS and not a moment longer', async () => {
    const { handler } = authorizer({ cacheTtlSeconds: 60 });
    const token = keystone.issue('admin', { project: 'admin' });
    const before = validations();
    await handler(withToken(token));
    await handler(withToken(token));
    expect(validations()).toBe(before + 1);

    // Revoked in Keystone: still accepted from the cache until the bound, refused after it.
    keystone.revoke(token);
    await admitted(handler(withTokenAfter(59_999, token)));
    expect(validations()).toBe(before + 1);
    await refused(handler(withTokenAfter(1, token)));
    expect(validations()).toBe(before + 2);
  });

  it("never keeps an answer past the token's own expiry", async () => {
    const { handler } = authorizer({ cacheTtlSeconds: 600 });
    const token = keystone.issue('admin', { project: 'admin' }, { lifetimeMs: 10_000 });
    await handler(withToken(token));
    await admitted(handler(withTokenAfter(9_999, token)));
    await refused(handler(withTokenAfter(1, token)));
  });

  it('never keeps a refusal or an outage: the next request asks Keystone again', async () => {
    const { handler } = authorizer({ cacheTtlSeconds: 60 });
    const before = validations();
    await refused(handler(withToken('gAAAAAunknown')));
    await refused(handler(withToken('gAAAAAunknown')));
    expect(validations()).toBe(before + 2);

    const token = keystone.issue('admin', { project: 'admin' });
    keystone.fail('error');
    await expect(handler(withToken(token))).rejects.toThrow('unavailable');
    keystone.fail('none');
    await admitted(handler(withToken(token)));
  });

  it('signs the service in once, and again when Keystone refuses its token', async () => {
    const { handler } = authorizer({ cacheTtlSeconds: 0 });
    const signIns = keystone.counts.signIns;
    await handler(withToken(keystone.issue('admin', { project: 'admin' })));
    await handler(withToken(keystone.issue('admin', { project: 'admin' })));
    expect(keystone.counts.signIns).toBe(signIns + 1);
    const serviceToken = keystone.seen.filter((r) => r.method === 'GET').at(-1)?.headers[
      'x-auth-token'
    ] as string;
    keystone.revoke(serviceToken);
    await admitted(handler(withToken(keystone.issue('admin', { project: 'admin' }))));
    expect(keystone.counts.signIns).toBe(signIns + 2);
  });

  it('answers 503 when the service credentials are refused or unreadable, and logs neither them nor tokens', async () => {
    const wrongArn = `${SECRET_ARN.slice(0, -7)}-wrong1`;
    secrets.set(
      wrongArn,
      JSON.stringify({
        username: 'drydock',
        password: 'not-the-password',
        project_name: 'service',
      }),
    );
    const token = keystone.issue('admin', { project: 'admin' });
    const refused = authorizer({ secretArn: wrongArn });
    await expect(refused.handler(withToken(token))).rejects.toThrow('unavailable');
    expect(refused.logger.lines.join('\n')).toContain(
      'Keystone refused the service credentials in KEYSTONE_SECRET_ARN (HTTP 401)',
    );
    // A service user without the service (or admin) role may not validate others' tokens.
    const unprivilegedArn = `${SECRET_ARN.slice(0, -7)}-reader`;
    secrets.set(
      unprivilegedArn,
      JSON.stringify({ username: 'reader', password: 'reader-password', project_name: 'admin' }),
    );
    const unprivileged = authorizer({ secretArn: unprivilegedArn });
    await expect(unprivileged.handler(withToken(token))).rejects.toThrow('unavailable');
    expect(unprivileged.logger.lines.join('\n')).toContain(
      'Keystone does not let the service user validate tokens (HTTP 403)',
    );
    const missing = authorizer({
      secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:nothing-AbCdEf',
    });
    await expect(missing.handler(withToken(token))).rejects.toThrow('unavailable');
    expect(missing.logger.lines.join('\n')).toContain('KEYSTONE_SECRET_ARN');

    const { handler, logger } = authorizer();
    await handler(withToken(token));
    await handler(withToken(token)).catch(() => undefined);
    await handler(withToken('gAAAAAunknown')).catch(() => undefined);
    const logged = [
      ...refused.logger.lines,
      ...unprivileged.logger.lines,
      ...missing.logger.lines,
      ...logger.lines,
    ].join('\n');
    expect(logged).toContain('keystone token accepted');
    for (const request of keystone.seen) {
      for (const header of ['x-auth-token', 'x-subject-token']) {
        const value = request.headers[header];
        if (typeof value === 'string') expect(logged).not.toContain(value);
      }
    }
    for (const secret of [
      SERVICE_PASSWORD,
      'not-the-password',
      'reader-password',
      'gAAAAAunknown',
    ]) {
      expect(logged).not.toContain(secret);
    }
  });
});

describe('the deployed entry point (functions/keystone-authorizer.ts)', () => {
  /** The entry point's settings: this Keystone and its secret, `policy`, no logs; loaded afresh. */
  const stubEntryEnv = (policy: string, more: Record<string, string> = {}) => {
    const env = {
      LOG_LEVEL: 'SILENT',
      KEYSTONE_URL: keystone.url,
      KEYSTONE_SECRET_ARN: SECRET_ARN,
      KEYSTONE_POLICY: policy,
      ...more,
    };
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    vi.resetModules();
  };
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('reads its service credentials from Secrets Manager and answers an API Gateway event', async () => {
    stubEntryEnv('{"physical_provisioner:read_task": "role:reader"}', {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'test-secret-key',
    });
    const reads = secrets.reads.length;
    const { handler } = await import('#functions/keystone-authorizer.ts');
    // The entry point uses the real clock, so the stand-in issues this token on it too.
    clock.t = Date.now();
    const result = await handler(withToken(keystone.issue('reader', { project: 'admin' })));
    expect(result.context).toMatchObject({
      user: 'reader',
      granted: 'physical_provisioner:read_task',
    });
    expect(secrets.reads.slice(reads)).toEqual([SECRET_ARN]);
    await refused(handler(authorizerEvent()));
  });

  it('fails its cold start on a policy document it cannot read', async () => {
    stubEntryEnv('{"physical_provisioner:read_task": "role:admin or"}');
    await expect(import('#functions/keystone-authorizer.ts')).rejects.toThrow(
      /KEYSTONE_POLICY: rule physical_provisioner:read_task/,
    );
  });
});
