/** The stage configuration: defaults per stage, context overrides, refusals with a reason. */
import { describe, expect, it } from 'vitest';
import {
  API_GATEWAY_MAX_BODY_BYTES,
  ConfigError,
  resolveStageConfig,
} from '#infra/config/stage-config.ts';
import { CDK_JSON, environmentOf, resourcesOf, synthStage } from './synth.ts';

const configFor = (context: Record<string, unknown>) =>
  resolveStageConfig({ tryGetContext: (key: string) => context[key] });

describe('resolveStageConfig', () => {
  it('defaults to dev, with the one-minute schedule and 0.5 ACU minimum', () => {
    const config = configFor({});
    expect(config).toMatchObject({
      stage: 'dev',
      isLocal: false,
      isProd: false,
      prefix: 'drydock-statemgmt-dev',
      schedule: true,
      database: { minCapacity: 0.5, maxCapacity: 4, readers: 0, name: 'drydock' },
    });
  });

  it('reads cdk.json: dev by default, strong cross-stack references, a local database URL', () => {
    expect(CDK_JSON.app).toBe('node infra/app.ts');
    expect(configFor(CDK_JSON.context).stage).toBe('dev');
    expect(CDK_JSON.context['@aws-cdk/core:defaultCrossStackReferences']).toBe('strong');
    expect(configFor({ ...CDK_JSON.context, stage: 'local' }).databaseUrl).toMatch(
      /^postgres:\/\/.+@host\.docker\.internal:5432\//,
    );
  });

  it('makes prod durable and larger', () => {
    expect(configFor({ stage: 'prod' })).toMatchObject({
      isProd: true,
      logLevel: 'INFO',
      logRetentionDays: 365,
      database: { minCapacity: 0.5, maxCapacity: 16, readers: 1, backupRetentionDays: 14 },
    });
  });

  it('parses -c strings and cdk.json JSON alike', () => {
    const fromCli = configFor({
      stage: 'dev',
      dbMaxCapacity: '8',
      schedule: 'false',
      dbMinCapacity: '0',
      designAllowHosts: 'a.example, b.example',
    });
    const fromJson = configFor({
      stage: 'dev',
      dbMaxCapacity: 8,
      schedule: false,
      dbMinCapacity: 0,
      designAllowHosts: ['a.example', 'b.example'],
    });
    expect(fromCli).toEqual(fromJson);
    expect(fromCli.database.maxCapacity).toBe(8);
    expect(fromCli.design.allowHosts).toEqual(['a.example', 'b.example']);
  });

  it('runs on arm64 unless x86_64 is asked for (LocalStack on an x86 host)', () => {
    expect(configFor({ stage: 'local' }).lambdaArchitecture).toBe('arm64');
    expect(configFor({ stage: 'local', lambdaArchitecture: 'x86_64' }).lambdaArchitecture).toBe(
      'x86_64',
    );
  });

  it('allows auto-pause (0 ACU) only in a non-prod stage without the schedule', () => {
    expect(configFor({ dbMinCapacity: '0', schedule: 'false' }).database.minCapacity).toBe(0);
    expect(() => configFor({ dbMinCapacity: '0' })).toThrow(/schedule=false/);
    expect(() => configFor({ stage: 'prod', dbMinCapacity: '0', schedule: 'false' })).toThrow(
      /not allowed in prod/,
    );
  });

  it.each([
    [{ stage: 'staging' }, /stage=staging is unknown/],
    [{ dbMinCapacity: '0.3' }, /dbMinCapacity/],
    [{ dbMaxCapacity: '300' }, /dbMaxCapacity/],
    [{ dbMaxCapacity: 'lots' }, /not a number/],
    [{ schedule: 'yes' }, /true or false/],
    [{ maxBodyBytes: String(API_GATEWAY_MAX_BODY_BYTES + 1) }, /API Gateway's cap/],
    [{ queueMaxConcurrency: '1' }, /queueMaxConcurrency/],
    [{ designFileRoots: 'relative/path' }, /absolute/],
    [{ stage: 'local', databaseUrl: 'mysql://x' }, /postgres:\/\//],
    [
      { designKeystoneSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:keystone' },
      /complete secret ARN/,
    ],
    [{ retentionDays: '0' }, /retentionDays/],
    [{ lambdaArchitecture: 'riscv' }, /arm64 or x86_64/],
  ])('refuses %j', (context, message) => {
    expect(() => configFor(context)).toThrow(ConfigError);
    expect(() => configFor(context)).toThrow(message);
  });
});

describe('the lease schedule', () => {
  it('holds no lease by default, and holds one only for an explicit in-schedule orchestrator', () => {
    expect(configFor({}).leaseHoldInstanceId).toBeUndefined();
    const stage = synthStage('dev', { context: { leaseHoldInstanceId: 'orch-in-schedule' } });
    try {
      const schedule = Object.values(
        resourcesOf(stage.statelessTemplate, 'AWS::Lambda::Function'),
      ).find((fn) =>
        String(fn.Properties?.Description ?? '').includes('the one-minute lease schedule'),
      );
      expect(schedule && environmentOf(schedule)).toMatchObject({
        LEASE_MODE: 'hold',
        LEASE_INSTANCE_ID: 'orch-in-schedule',
      });
    } finally {
      stage.dispose();
    }
  }, 300_000);
});

describe('a dev stack without the schedule', () => {
  it('may scale the writer to zero: auto-pause on, the rule disabled', () => {
    const stage = synthStage('dev', {
      context: { schedule: 'false', dbMinCapacity: '0', dbAutoPauseMinutes: '15' },
    });
    try {
      stage.statefulTemplate.hasResourceProperties('AWS::RDS::DBCluster', {
        ServerlessV2ScalingConfiguration: {
          MinCapacity: 0,
          MaxCapacity: 4,
          SecondsUntilAutoPause: 900,
        },
      });
      const rules = Object.values(resourcesOf(stage.statelessTemplate, 'AWS::Events::Rule'));
      expect(rules.map((rule) => rule.Properties?.State)).toEqual(['DISABLED']);
    } finally {
      stage.dispose();
    }
  }, 300_000);
});
