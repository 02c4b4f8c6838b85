/**
 * The `local` stage for LocalStack (bundling skipped), the route table against the functions'
 * own routes, and the cdk-nag gate failing when it should.
 */
import { Aws, Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { routes as bootActionRoutes } from '#functions/boot-actions.ts';
import { routes as buildDataRoutes } from '#functions/build-data.ts';
import { routes as designRoutes } from '#functions/design.ts';
import { routes as healthRoutes } from '#functions/health.ts';
import { routes as leaderRoutes } from '#functions/leader.ts';
import { routes as messageRoutes } from '#functions/messages.ts';
import { routes as taskRoutes } from '#functions/tasks.ts';
import { DEFAULT_LOCAL_DATABASE_URL } from '#infra/config/stage-config.ts';
import { DATABASE_FUNCTIONS } from '#infra/stacks/stateless-stack.ts';
import * as synth from './synth.ts';

const local = synth.synthesizedStage('local');

describe('local stage (LocalStack free services)', () => {
  it('creates no VPC, no RDS and no Data API: only the database URL secret is stateful', () => {
    const types = (template: typeof local.statefulTemplate) =>
      Object.values(template.toJSON().Resources as Record<string, { Type: string }>).map(
        (r) => r.Type,
      );
    const all = [...types(local.statefulTemplate), ...types(local.statelessTemplate)];
    expect(all.filter((type) => /^AWS::(RDS|EC2)::/.test(type))).toEqual([]);
    expect(types(local.statefulTemplate).filter((t) => t !== 'AWS::CDK::Metadata')).toEqual([
      'AWS::SecretsManager::Secret',
    ]);
    local.statefulTemplate.hasResourceProperties('AWS::SecretsManager::Secret', {
      SecretString: DEFAULT_LOCAL_DATABASE_URL,
    });
  });

  it('points the database functions at the secret with the pg driver, never at the URL', () => {
    for (const fn of Object.values(synth.serviceFunctions(local.statelessTemplate))) {
      const env = synth.environmentOf(fn);
      expect(JSON.stringify(env)).not.toContain('postgres://');
      expect(env).not.toHaveProperty('DATABASE_URL');
      expect(env).not.toHaveProperty('DB_CLUSTER_ARN');
      if (env.DB_DRIVER !== undefined) {
        expect(env).toMatchObject({
          DB_DRIVER: 'pg',
          DATABASE_SECRET_ARN: { 'Fn::ImportValue': expect.any(String) },
        });
      }
    }
    const withDatabase = Object.values(synth.serviceFunctions(local.statelessTemplate)).filter(
      (fn) => synth.environmentOf(fn).DB_DRIVER === 'pg',
    );
    expect(withDatabase).toHaveLength(DATABASE_FUNCTIONS.length);
  });

  it('grants reading that one secret and nothing of RDS', () => {
    const statements = synth.statementsOf(local.statelessTemplate);
    expect(statements.flatMap((s) => s.Action).filter((a) => a.startsWith('rds'))).toEqual([]);
    const secretReads = statements.filter((s) =>
      s.Action.some((a) => a.startsWith('secretsmanager:')),
    );
    expect(secretReads).toHaveLength(DATABASE_FUNCTIONS.length);
    for (const statement of secretReads) {
      expect(statement.Action.sort()).toEqual([
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
      ]);
      expect(statement.Resource).toEqual([{ 'Fn::ImportValue': expect.any(String) }]);
    }
  });

  it('keeps the REST API (v1), SQS, the EventBridge rule and the trigger, all free in LocalStack', () => {
    // The service's API and the node-facing boot-action API.
    synth.expectResourceCounts(local.statelessTemplate, {
      'AWS::ApiGateway::RestApi': 2,
      'AWS::ApiGatewayV2::Api': 0,
      'AWS::Scheduler::Schedule': 0,
      'Custom::Trigger': 1,
    });
    local.statelessTemplate.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
    });
    expect(local.stateless.migrationTrigger.node.dependencies).toHaveLength(2);
    expect(
      local.assembly.getStackArtifact(local.stateless.artifactId).dependencies.map((d) => d.id),
    ).toContain(local.stateful.artifactId);
  });

  it('passes AwsSolutions with every acknowledgement silencing a real finding', () => {
    synth.expectEarnedAcknowledgements(local.app);
  });
});

describe('API Gateway routes against the functions', () => {
  /**
   * API Gateway's choice for a concrete path: literal segments beat `{param}`, which beats a
   * greedy `{proxy+}`; an explicit method beats ANY.
   */
  function resolve(method: string, path: string): { route: string; target: string } | undefined {
    const segments = path.split('/').filter(Boolean);
    const candidates = [...synth.apiMethods(local.statelessTemplate)].flatMap(([route, info]) => {
      const [routeMethod, routePath = ''] = route.split(' ');
      if (routeMethod !== method && routeMethod !== 'ANY') return [];
      const parts = routePath.split('/').filter(Boolean);
      let score = 0;
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i] as string;
        if (part.endsWith('+}')) {
          if (segments.length <= i) return [];
          return [{ route, info, score: score * 3 + 0, length: i, method: routeMethod }];
        }
        if (segments[i] === undefined) return [];
        if (part.startsWith('{')) score = score * 3 + 1;
        else if (part === segments[i]) score = score * 3 + 2;
        else return [];
      }
      if (parts.length !== segments.length) return [];
      return [{ route, info, score, length: parts.length + 1, method: routeMethod }];
    });
    candidates.sort(
      (a, b) =>
        b.length - a.length ||
        b.score - a.score ||
        Number(b.method !== 'ANY') - Number(a.method !== 'ANY'),
    );
    const best = candidates[0];
    if (!best) return undefined;
    const target = Object.keys(synth.serviceFunctions(local.statelessTemplate)).find((id) =>
      best.info.integrationUri.includes(`"${id}"`),
    );
    return { route: best.route, target: target ?? 'none' };
  }

  const tables = [
    ['Tasks', taskRoutes],
    ['Messages', messageRoutes],
    ['BuildData', buildDataRoutes],
    ['Leader', leaderRoutes],
    ['Health', healthRoutes],
    ['Design', designRoutes],
    ['BootActions', bootActionRoutes],
  ] as const;

  it.each(tables)('sends every %s route to that function, with HEAD and OPTIONS', (id, routes) => {
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      // A concrete path, as a caller sends it: parameters become sample values.
      const path = route.path.replace(/\{[^}]+\}/g, 'sample-1');
      // The HTTP kit answers HEAD on every GET route and OPTIONS everywhere: API Gateway must
      // let both through to the function.
      const methods = [route.method, 'OPTIONS', ...(route.method === 'GET' ? ['HEAD'] : [])];
      for (const method of methods) {
        const resolved = resolve(method, path);
        expect(resolved?.target, `${method} ${route.path} → ${resolved?.route}`).toBe(
          synth.functionLogicalId(local.statelessTemplate, id),
        );
      }
    }
  });
});

describe('the cdk-nag gate', () => {
  it('fails synthesis on an unacknowledged finding', () => {
    expect(() =>
      synth.synthStage('local', {
        beforeSynth: ({ stateless }) => {
          // No DLQ, no TLS enforcement: AwsSolutions-SQS3 and SQS4.
          new sqs.Queue(stateless, 'Unsafe', {
            encryption: sqs.QueueEncryption.SQS_MANAGED,
            retentionPeriod: Duration.days(1),
            queueName: `${Aws.STACK_NAME}-unsafe`,
          });
        },
      }),
    ).toThrow(
      // Exactly the planted findings: the rest of the app stays clean.
      /^(?![\s\S]*AwsSolutions-(?!SQS3|SQS4))[\s\S]*AwsSolutions-SQS3[\s\S]*AwsSolutions-SQS4/,
    );
  }, 300_000);
});
