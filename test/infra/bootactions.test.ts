/**
 * The boot-action routes on AWS: the orchestrator's on the service's API (IAM), the nodes' on an
 * API of their own with no IAM or Keystone, only three methods, their own throttling, binary
 * tarballs, no logged headers or bodies, and the report URL pointing back at it.
 */
import { describe, expect, it } from 'vitest';
import { NODE_API_THROTTLE } from '#infra/stacks/stateless-stack.ts';
import * as synth from './synth.ts';

const dev = synth.synthesizedStage('dev');
const restApi = (id: string): string => synth.restApiLogicalId(dev.statelessTemplate, id);

/** `methods` are exactly `routes`, each with `authorization` and integrated with function `fn`. */
function expectServedBy(
  methods: [string, { authorization: string; integrationUri: string }][],
  fn: string,
  authorization: string,
  routes: string[],
): void {
  expect(methods.map(([route]) => route).sort()).toEqual(routes);
  const fnId = synth.functionLogicalId(dev.statelessTemplate, fn);
  for (const [route, method] of methods) {
    expect(method.authorization, route).toBe(authorization);
    expect(method.integrationUri, route).toContain(`"${fnId}"`);
  }
}

describe('boot actions on AWS', () => {
  it('serves exactly the three node routes on the node API, unauthorised, to the node function', () => {
    const nodeApi = restApi('NodeApi');
    const methods = [...synth.apiMethods(dev.statelessTemplate, nodeApi)];
    expectServedBy(methods, 'BootActionNodes', 'NONE', [
      'GET /api/v1.0/bootactions/nodes/{hostname}/files',
      'GET /api/v1.0/bootactions/nodes/{hostname}/units',
      'POST /api/v1.0/bootactions/{action_id}',
    ]);
    for (const [route, method] of methods) {
      // No key, no invocation: API Gateway refuses it (as Drydock's 401, below).
      expect(method.properties.RequestParameters, route).toEqual({
        'method.request.header.X-Bootaction-Key': true,
      });
      expect(method.properties.RequestValidatorId, route).toBeDefined();
    }
    dev.statelessTemplate.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      RestApiId: { Ref: nodeApi },
      ResponseType: 'BAD_REQUEST_PARAMETERS',
      StatusCode: '401',
    });
    expect(
      synth.resourcesOf(dev.statelessTemplate, 'AWS::ApiGateway::RestApi')[nodeApi]?.Properties,
    ).toMatchObject({ BinaryMediaTypes: ['*/*'] });
  });

  it("keeps the orchestrator's routes on the IAM API, and no node route there", () => {
    const methods = synth.apiMethods(dev.statelessTemplate, restApi('Api'));
    const bootActionRoutes = [...methods].filter(([route]) => route.includes('/bootactions'));
    expectServedBy(bootActionRoutes, 'BootActions', 'AWS_IAM', [
      'ANY /api/v1.0/bootactions/actions/{action_id}',
      'ANY /api/v1.0/bootactions/nodes/{hostname}',
      'POST /api/v1.0/bootactions/nodes/{hostname}',
    ]);
  });

  it('throttles the node API on its own and never logs headers or bodies', () => {
    const stages = Object.values(
      synth.resourcesOf(dev.statelessTemplate, 'AWS::ApiGateway::Stage'),
    );
    const nodeStage = stages.find(
      (stage) => (stage.Properties?.RestApiId as { Ref?: string })?.Ref === restApi('NodeApi'),
    );
    expect(nodeStage?.Properties).toMatchObject({
      StageName: 'dev',
      TracingEnabled: true,
      MethodSettings: [
        expect.objectContaining({
          HttpMethod: '*',
          ResourcePath: '/*',
          DataTraceEnabled: false,
          LoggingLevel: 'ERROR',
          ThrottlingRateLimit: NODE_API_THROTTLE.rateLimit,
          ThrottlingBurstLimit: NODE_API_THROTTLE.burstLimit,
        }),
      ],
    });
    const format = String(
      (nodeStage?.Properties?.AccessLogSetting as { Format?: string } | undefined)?.Format,
    );
    expect(format).not.toMatch(/header|requestBody|X-Bootaction-Key/i);
  });

  it('gives the node function the database, the design settings and its own report URL', () => {
    const env = synth.environmentOf(
      synth.functionResource(dev.statelessTemplate, 'BootActionNodes'),
    );
    expect(env).toMatchObject({ DB_DRIVER: 'data-api', DESIGN_CACHE_TTL_SECONDS: '300' });
    expect(JSON.stringify(env.BOOTACTION_REPORT_URL)).toContain(restApi('NodeApi'));
    expect(JSON.stringify(env.BOOTACTION_REPORT_URL)).toContain('/dev/api/v1.0/bootactions/');
    const orchestrator = synth.environmentOf(
      synth.functionResource(dev.statelessTemplate, 'BootActions'),
    );
    expect(orchestrator).toMatchObject({ DB_DRIVER: 'data-api' });
    expect(orchestrator).not.toHaveProperty('DESIGN_MAX_BYTES');
  });

  it('grants callers execute-api on the IAM API only: nodes need no AWS identity', () => {
    const invoke = synth
      .statementsOf(dev.statelessTemplate)
      .filter((s) => s.Action.includes('execute-api:Invoke'));
    expect(invoke).toHaveLength(1);
    expect(JSON.stringify(invoke[0]?.Resource)).not.toContain(restApi('NodeApi'));
  });

  it('passes AwsSolutions, each node-API exemption said why', () => {
    synth.expectEarnedAcknowledgements(dev.app);
  });
});
