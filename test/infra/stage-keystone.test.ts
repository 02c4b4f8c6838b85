/**
 * The API's three authorisation modes: `apiAuth=keystone` (the REQUEST authoriser on every
 * method but the public probes, a custom domain at the root for Drydock's clients) and
 * `apiAuth=both` (the IAM API unchanged beside a second, Keystone-authorised API over the same
 * functions). `iam`, the default, is the dev stage's test. Bundling is skipped; the dev test
 * bundles the same entries, and the authoriser's entry is loaded by its own test.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveStageConfig } from '#infra/config/stage-config.ts';
import { loadHttpFunctions } from '#infra/local/functions.ts';
import { UNAUTHENTICATED_MESSAGE } from '#shared/auth/authenticate.ts';
import * as synth from './synth.ts';

const KEYSTONE_URL = 'https://keystone.example.com/v3';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:drydock/keystone-AbCdEf';
const CERTIFICATE_ARN =
  'arn:aws:acm:eu-west-1:123456789012:certificate/0e2a1c3b-4d5e-4f60-8a9b-0c1d2e3f4a5b';
const POLICY = {
  readers: 'role:reader or rule:admin_required',
  'physical_provisioner:read_task': 'rule:readers',
};
const KEYSTONE_CONTEXT = {
  keystoneUrl: KEYSTONE_URL,
  keystoneSecretArn: SECRET_ARN,
  keystoneCacheSeconds: '30',
  keystonePolicy: POLICY,
};

const keystone = synth.synthesizedStage('dev', {
  context: {
    apiAuth: 'keystone',
    ...KEYSTONE_CONTEXT,
    apiDomainName: 'drydock.example.com',
    apiCertificateArn: CERTIFICATE_ARN,
  },
});
const both = synth.synthesizedStage('dev', { context: { apiAuth: 'both', ...KEYSTONE_CONTEXT } });

const restApiIds = (stage: synth.SynthesizedStage) =>
  Object.keys(synth.resourcesOf(stage.statelessTemplate, 'AWS::ApiGateway::RestApi'));
const logicalIdOf = (stage: synth.SynthesizedStage, id: string) =>
  synth.restApiLogicalId(stage.statelessTemplate, id);

/**
 * `GET /versions`, `GET /api/v1.0/health`: the routes without a policy rule (the node-facing
 * boot-action routes aside: they live on the node API, authenticated by the node's key).
 */
async function publicRoutes(): Promise<string[]> {
  const routes = (await loadHttpFunctions())
    .flatMap((fn) => fn.routes)
    .filter((route) => route.authenticate === undefined);
  // The HTTP kit answers HEAD on a GET route and OPTIONS on every path: a public GET route is
  // public with both.
  return routes
    .filter((route) => route.policy === undefined)
    .flatMap((route) =>
      (route.method === 'GET' ? ['GET', 'HEAD', 'OPTIONS'] : [route.method]).map(
        (method) => `${method} ${route.path}`,
      ),
    )
    .sort();
}

describe('apiAuth=keystone', () => {
  it('puts the REQUEST authoriser on every method but the routes without a policy rule', async () => {
    // The Keystone API, and the node API (no Keystone there: nodes use their key).
    expect(restApiIds(keystone)).toHaveLength(2);
    const authorizers = synth.resourcesOf(
      keystone.statelessTemplate,
      'AWS::ApiGateway::Authorizer',
    );
    expect(Object.keys(authorizers)).toHaveLength(1);
    const [authorizerId, authorizer] = Object.entries(authorizers)[0] as [
      string,
      (typeof authorizers)[string],
    ];
    expect(authorizer.Properties).toMatchObject({
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.X-Auth-Token',
      // API Gateway's cache is off: the authoriser's own cache is bounded and never negative.
      AuthorizerResultTtlInSeconds: 0,
    });
    expect(JSON.stringify(authorizer.Properties?.AuthorizerUri)).toContain(
      synth.functionLogicalId(keystone.statelessTemplate, 'KeystoneAuthorizer'),
    );

    const methods = synth.apiMethods(keystone.statelessTemplate, logicalIdOf(keystone, 'Api'));
    const open = [...methods].filter(([, m]) => m.authorization === 'NONE').map(([r]) => r);
    expect(open.sort()).toEqual(await publicRoutes());
    for (const [route, method] of methods) {
      if (open.includes(route)) continue;
      expect(method.authorization, route).toBe('CUSTOM');
      expect(method.properties.AuthorizerId, route).toEqual({ Ref: authorizerId });
    }
  });

  it("answers the authoriser's refusals in Drydock's shape: 401 with WWW-Authenticate, 503 on failure", () => {
    const responses = Object.values(
      synth.resourcesOf(keystone.statelessTemplate, 'AWS::ApiGateway::GatewayResponse'),
    ).map((r) => r.Properties as Record<string, unknown>);
    const byType = (type: string) => responses.find((r) => r.ResponseType === type);
    const body = (type: string) => {
      const templates = byType(type)?.ResponseTemplates as Record<string, string> | undefined;
      const template = templates?.['application/json'] ?? '';
      return JSON.parse(template.replace('$context.requestId', 'req-1'));
    };
    expect(byType('UNAUTHORIZED')).toMatchObject({
      StatusCode: '401',
      ResponseParameters: {
        'gatewayresponse.header.WWW-Authenticate': `'Keystone uri="${KEYSTONE_URL}"'`,
      },
    });
    expect(body('UNAUTHORIZED')).toEqual({
      type: 'error',
      message: UNAUTHENTICATED_MESSAGE,
      retry: false,
      request_id: 'req-1',
    });
    expect(byType('AUTHORIZER_FAILURE')?.StatusCode).toBe('503');
    expect(body('AUTHORIZER_FAILURE')).toMatchObject({ type: 'error', retry: true });
  });

  it('gives the authoriser its settings and the service secret, nothing of the database', () => {
    const fn = synth.functionResource(keystone.statelessTemplate, 'KeystoneAuthorizer');
    const env = synth.environmentOf(fn);
    expect(env).toMatchObject({
      KEYSTONE_URL,
      KEYSTONE_SECRET_ARN: SECRET_ARN,
      KEYSTONE_CACHE_SECONDS: '30',
      KEYSTONE_TIMEOUT_MS: '5000',
    });
    expect(JSON.parse(env.KEYSTONE_POLICY as string)).toEqual(POLICY);
    expect(Object.keys(env).filter((key) => key.startsWith('DB_'))).toEqual([]);
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Handler: 'index.handler' });

    const statements = synth.statementsOf(keystone.statelessTemplate);
    const secretReaders = statements.filter((s) =>
      s.Action.includes('secretsmanager:GetSecretValue'),
    );
    const granted = secretReaders.filter((s) => s.Resource.includes(SECRET_ARN));
    expect(granted).toHaveLength(1);
    const role = JSON.stringify(fn.Properties?.Role);
    expect(role).toContain('KeystoneAuthorizerRole');
    expect(granted[0]?.policy).toMatch(/^KeystoneAuthorizerRoleDefaultPolicy/);
    const authorizerStatements = statements.filter((s) =>
      s.policy.startsWith('KeystoneAuthorizerRoleDefaultPolicy'),
    );
    expect(
      authorizerStatements.flatMap((s) => s.Action).filter((a) => a.startsWith('rds')),
    ).toEqual([]);
    // API Gateway may invoke it as the authoriser of this API.
    const permissions = Object.values(
      synth.resourcesOf(keystone.statelessTemplate, 'AWS::Lambda::Permission'),
    ).filter((p) =>
      JSON.stringify(p.Properties?.FunctionName).includes(
        synth.functionLogicalId(keystone.statelessTemplate, 'KeystoneAuthorizer'),
      ),
    );
    expect(permissions).toHaveLength(1);
    expect(JSON.stringify(permissions[0]?.Properties?.SourceArn)).toContain('/authorizers/');
  });

  it("serves the API at a custom domain's root, for Drydock's CLI and Shipyard", () => {
    keystone.statelessTemplate.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'drydock.example.com',
      RegionalCertificateArn: CERTIFICATE_ARN,
      SecurityPolicy: 'TLS_1_2',
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    const mappings = Object.values(
      synth.resourcesOf(keystone.statelessTemplate, 'AWS::ApiGateway::BasePathMapping'),
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.Properties).toMatchObject({
      RestApiId: { Ref: logicalIdOf(keystone, 'Api') },
    });
    expect(mappings[0]?.Properties).not.toHaveProperty('BasePath');
    keystone.statelessTemplate.hasOutput('ApiDomainUrl', { Value: 'https://drydock.example.com/' });
    keystone.statelessTemplate.hasOutput('ApiDomainTarget', {});
  });

  it('leaves execute-api out of the caller policy: IAM decides nothing on this API', () => {
    const caller = synth
      .statementsOf(keystone.statelessTemplate)
      .filter((s) => s.policy.startsWith('CallerPolicy'));
    expect(caller.flatMap((s) => s.Action).sort()).toEqual(['sqs:GetQueueUrl', 'sqs:SendMessage']);
  });

  it('passes AwsSolutions with every acknowledgement silencing a real finding', () => {
    const cog4 = synth
      .expectEarnedAcknowledgements(keystone.app)
      .find((a) => a.ruleId === 'AwsSolutions-COG4');
    expect(cog4?.reason).toContain('Keystone');
  });
});

describe('apiAuth=both', () => {
  it('keeps the IAM API as it is and adds a Keystone API with the same routes', () => {
    expect(restApiIds(both)).toHaveLength(3);
    const iamApi = logicalIdOf(both, 'Api');
    const keystoneApi = logicalIdOf(both, 'KeystoneApi');
    const iamMethods = synth.apiMethods(both.statelessTemplate, iamApi);
    const keystoneMethods = synth.apiMethods(both.statelessTemplate, keystoneApi);
    expect([...keystoneMethods.keys()].sort()).toEqual([...iamMethods.keys()].sort());
    for (const [route, method] of iamMethods) {
      const other = keystoneMethods.get(route);
      if (method.authorization === 'NONE') {
        expect(other?.authorization, route).toBe('NONE');
      } else {
        expect(method.authorization, route).toBe('AWS_IAM');
        expect(other?.authorization, route).toBe('CUSTOM');
      }
      // Both APIs call the same functions.
      expect(other?.integrationUri, route).toBe(method.integrationUri);
    }
    both.statelessTemplate.hasOutput('ApiUrl', {});
    both.statelessTemplate.hasOutput('KeystoneApiUrl', {});
  });

  it('shares the account-level logging role instead of setting it twice', () => {
    const accounts = synth.resourcesOf(both.statelessTemplate, 'AWS::ApiGateway::Account');
    expect(Object.keys(accounts)).toHaveLength(1);
    const stages = Object.entries(
      synth.resourcesOf(both.statelessTemplate, 'AWS::ApiGateway::Stage'),
    );
    // The IAM API, the Keystone API and the node API.
    expect(stages).toHaveLength(3);
    for (const [, stage] of stages) {
      expect(stage.DependsOn ?? [], 'the stage waits for the logging role').toContain(
        Object.keys(accounts)[0],
      );
    }
  });

  it('grants execute-api on the IAM API only, and passes AwsSolutions', () => {
    const invoke = synth
      .statementsOf(both.statelessTemplate)
      .filter((s) => s.Action.includes('execute-api:Invoke'));
    expect(invoke).toHaveLength(1);
    expect(JSON.stringify(invoke[0]?.Resource)).toContain(logicalIdOf(both, 'Api'));
    expect(JSON.stringify(invoke[0]?.Resource)).not.toContain('KeystoneApi');
    synth.expectEarnedAcknowledgements(both.app);
  });
});

describe('stage settings for Keystone', () => {
  const configFor = (context: Record<string, unknown>) =>
    resolveStageConfig({ tryGetContext: (key: string) => context[key] });
  const refusal = (context: Record<string, unknown>) => {
    try {
      configFor(context);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error(`accepted ${JSON.stringify(context)}`);
  };

  it('defaults to IAM only, with no Keystone settings', () => {
    const config = configFor({});
    expect(config.api.auth).toBe('iam');
    expect(config.keystone).toBeUndefined();
    expect(config.api.domain).toBeUndefined();
  });

  it('reads -c strings and cdk.json values alike, the policy as YAML, JSON or an object', () => {
    const fromJson = configFor({ apiAuth: 'keystone', ...KEYSTONE_CONTEXT });
    const fromCli = configFor({
      apiAuth: 'keystone',
      ...KEYSTONE_CONTEXT,
      keystonePolicy: JSON.stringify(POLICY),
    });
    const fromYaml = configFor({
      apiAuth: 'keystone',
      ...KEYSTONE_CONTEXT,
      keystonePolicy:
        'readers: "role:reader or rule:admin_required"\n"physical_provisioner:read_task": rule:readers\n',
    });
    expect(fromCli).toEqual(fromJson);
    expect(fromYaml).toEqual(fromJson);
    expect(fromJson.keystone).toEqual({
      url: KEYSTONE_URL,
      secretArn: SECRET_ARN,
      cacheSeconds: 30,
      timeoutMs: 5000,
      policy: POLICY,
    });
  });

  it('refuses incomplete, misplaced or unusable Keystone settings, saying which', () => {
    expect(refusal({ apiAuth: 'tokens' })).toContain('apiAuth must be one of iam, keystone, both');
    expect(refusal({ apiAuth: 'keystone', keystoneSecretArn: SECRET_ARN })).toContain(
      'needs keystoneUrl',
    );
    expect(refusal({ apiAuth: 'both', keystoneUrl: KEYSTONE_URL })).toContain(
      'needs keystoneSecretArn',
    );
    expect(refusal({ keystoneUrl: KEYSTONE_URL })).toContain('only apply with apiAuth=keystone');
    expect(
      refusal({ apiAuth: 'keystone', ...KEYSTONE_CONTEXT, keystoneSecretArn: 'drydock/keystone' }),
    ).toContain('complete secret ARN');
    expect(
      refusal({
        stage: 'prod',
        apiAuth: 'keystone',
        ...KEYSTONE_CONTEXT,
        keystoneUrl: 'http://keystone.example.com/v3',
      }),
    ).toContain('https:// in prod');
    expect(
      refusal({ apiAuth: 'keystone', ...KEYSTONE_CONTEXT, keystoneCacheSeconds: '86400' }),
    ).toContain('keystoneCacheSeconds');
    expect(
      refusal({
        apiAuth: 'keystone',
        ...KEYSTONE_CONTEXT,
        keystonePolicy: { 'physical_provisioner:read_tasks': 'role:admin' },
      }),
    ).toContain('context keystonePolicy: unknown rule physical_provisioner:read_tasks');
    expect(
      refusal({
        apiAuth: 'keystone',
        ...KEYSTONE_CONTEXT,
        keystonePolicy: { 'physical_provisioner:read_task': 'role:admin and' },
      }),
    ).toContain('physical_provisioner:read_task');
    expect(
      refusal({
        apiAuth: 'keystone',
        ...KEYSTONE_CONTEXT,
        keystonePolicy: Object.fromEntries(
          Array.from({ length: 80 }, (_, i) => [`alias_${i}`, 'role:admin or role:reader']),
        ),
      }),
    ).toContain('4 KB');
    expect(refusal({ apiDomainName: 'drydock.example.com' })).toContain('go together');
    expect(
      refusal({ apiDomainName: 'Drydock Example', apiCertificateArn: CERTIFICATE_ARN }),
    ).toContain('DNS name');
  });
});
