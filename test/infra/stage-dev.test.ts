/**
 * The `dev` stage, synthesized once with the real functions bundled by esbuild: the database,
 * the functions, the API, the queues, the schedule, the migration trigger and the grants.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FUNCTION_ENTRIES } from '#infra/stacks/function-entries.ts';
import {
  constructIdOf,
  DATABASE_FUNCTIONS,
  FUNCTION_SPECS,
  type FunctionName,
} from '#infra/stacks/stateless-stack.ts';
import * as synth from './synth.ts';

const dev = synth.synthesizedStage('dev', { bundle: true });

const FUNCTION_NAMES = Object.keys(FUNCTION_SPECS) as FunctionName[];
const FUNCTION_IDS: string[] = FUNCTION_NAMES.map(constructIdOf);
const DATABASE_IDS: string[] = DATABASE_FUNCTIONS.map(constructIdOf);

/** The service's API (the node-facing boot-action API is the other RestApi). */
const mainApi = (): string => synth.restApiLogicalId(dev.statelessTemplate, 'Api');

describe('dev stage: stateful stack', () => {
  it('runs Aurora PostgreSQL 17 Serverless v2 with the Data API, encrypted, IAM auth, backups', () => {
    dev.statefulTemplate.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      EngineVersion: Match.stringLikeRegexp('^17\\.'),
      EnableHttpEndpoint: true,
      StorageEncrypted: true,
      EnableIAMDatabaseAuthentication: true,
      BackupRetentionPeriod: 7,
      DeletionProtection: false,
      DatabaseName: 'drydock',
      EnableCloudwatchLogsExports: ['postgresql'],
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 4 },
    });
    const cluster = Object.values(
      synth.resourcesOf(dev.statefulTemplate, 'AWS::RDS::DBCluster'),
    )[0];
    // The schedule runs in dev by default, so auto-pause would never happen: none configured.
    expect(cluster?.Properties?.ServerlessV2ScalingConfiguration).not.toHaveProperty(
      'SecondsUntilAutoPause',
    );
  });

  it('keeps a final snapshot of a dev cluster and destroys the rest', () => {
    const cluster = Object.values(
      synth.resourcesOf(dev.statefulTemplate, 'AWS::RDS::DBCluster'),
    )[0];
    expect(cluster?.DeletionPolicy).toBe('Snapshot');
    expect(cluster?.UpdateReplacePolicy).toBe('Snapshot');
    for (const group of Object.values(
      synth.resourcesOf(dev.statefulTemplate, 'AWS::Logs::LogGroup'),
    )) {
      expect(group.DeletionPolicy).toBe('Delete');
    }
  });

  it('generates the credentials into Secrets Manager', () => {
    dev.statefulTemplate.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({
        SecretStringTemplate: '{"username":"drydock_admin"}',
        GenerateStringKey: 'password',
      }),
    });
    dev.statefulTemplate.resourceCountIs('AWS::SecretsManager::SecretTargetAttachment', 1);
  });

  it('has one serverless writer, not publicly accessible, and no reader in dev', () => {
    const instances = synth.resourcesOf(dev.statefulTemplate, 'AWS::RDS::DBInstance');
    expect(Object.values(instances)).toHaveLength(1);
    for (const instance of Object.values(instances)) {
      expect(instance.Properties).toMatchObject({
        DBInstanceClass: 'db.serverless',
        PubliclyAccessible: false,
      });
    }
  });

  it('puts the cluster in isolated subnets: no internet or NAT gateway, flow logs on', () => {
    synth.expectResourceCounts(dev.statefulTemplate, {
      'AWS::EC2::NatGateway': 0,
      'AWS::EC2::InternetGateway': 0,
      'AWS::EC2::Subnet': 2,
    });
    dev.statefulTemplate.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      LogDestinationType: 'cloud-watch-logs',
    });
    const groups = synth.resourcesOf(dev.statefulTemplate, 'AWS::EC2::SecurityGroup');
    for (const group of Object.values(groups)) {
      expect(group.Properties?.SecurityGroupIngress).toBeUndefined();
    }
    dev.statefulTemplate.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });
});

describe('dev stage: functions', () => {
  it('builds exactly the service functions, each on nodejs24.x and arm64', () => {
    const functions = synth.serviceFunctions(dev.statelessTemplate);
    expect(Object.keys(functions).sort()).toEqual(
      FUNCTION_IDS.map((id) => synth.functionLogicalId(dev.statelessTemplate, id)).sort(),
    );
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: expect.stringMatching(/^index\.(handler|sqsHandler|scheduledHandler)$/),
        TracingConfig: { Mode: 'Active' },
      });
      expect(synth.environmentOf(fn)).toMatchObject({
        LOG_LEVEL: 'DEBUG',
        POWERTOOLS_SERVICE_NAME: 'drydock-statemgmt',
      });
      // Stack traces are mapped by the bundle itself when one is formatted (stack-traces.test.ts),
      // not by Node reading every source map at each cold start.
      expect(synth.environmentOf(fn)).not.toHaveProperty('NODE_OPTIONS');
    }
  });

  it('runs every Lambda in the stack, CDK providers included, on nodejs24.x', () => {
    for (const fn of Object.values(
      synth.resourcesOf(dev.statelessTemplate, 'AWS::Lambda::Function'),
    )) {
      expect(fn.Properties?.Runtime).toBe('nodejs24.x');
    }
  });

  it('gives each function its own log group with a retention', () => {
    const groups = synth.resourcesOf(dev.statelessTemplate, 'AWS::Logs::LogGroup');
    for (const fn of Object.values(synth.serviceFunctions(dev.statelessTemplate))) {
      const ref = (fn.Properties as { LoggingConfig: { LogGroup: { Ref: string } } }).LoggingConfig
        .LogGroup.Ref;
      expect(groups[ref]?.Properties?.RetentionInDays).toBe(14);
    }
  });

  it('sets the Data API environment on the database functions only', () => {
    for (const id of FUNCTION_IDS) {
      const env = synth.environmentOf(synth.functionResource(dev.statelessTemplate, id));
      if (DATABASE_IDS.includes(id)) {
        expect(env).toMatchObject({
          DB_DRIVER: 'data-api',
          DB_NAME: 'drydock',
          DB_SECRET_ARN: { 'Fn::ImportValue': expect.any(String) },
        });
        // The cluster ARN is formatted from the imported cluster identifier.
        expect(JSON.stringify(env.DB_CLUSTER_ARN)).toMatch(/":cluster:",\{"Fn::ImportValue"/);
        expect(env).not.toHaveProperty('DATABASE_SECRET_ARN');
      } else {
        expect(Object.keys(env).filter((key) => key.startsWith('DB_'))).toEqual([]);
      }
    }
  });

  it('gives the lease schedule its settings but no lease of its own, and the design function its settings', () => {
    const env = (id: string) =>
      synth.environmentOf(synth.functionResource(dev.statelessTemplate, id));
    expect(env('LeaseSchedule')).toMatchObject({
      LEASE_GRACE_SECONDS: '90',
      RETENTION_DAYS: '90',
      RETENTION_BATCH_SIZE: '500',
    });
    // The schedule must never keep a dead orchestrator's lease alive: it holds none by default.
    for (const id of FUNCTION_IDS) {
      expect(env(id)).not.toHaveProperty('LEASE_INSTANCE_ID');
      expect(env(id)).not.toHaveProperty('LEASE_MODE');
    }
    expect(env('Design')).toMatchObject({
      MAX_BODY_BYTES: '1048576',
      DESIGN_MAX_BYTES: String(10 * 1024 * 1024),
      DESIGN_CACHE_TTL_SECONDS: '300',
    });
    // Unconfigured design secrets are neither in the environment nor granted.
    expect(env('Design')).not.toHaveProperty('DESIGN_KEYSTONE_SECRET_ARN');
    expect(env('Tasks')).not.toHaveProperty('DESIGN_MAX_BYTES');
    // The design function parses designs inline: more memory is more CPU.
    expect(synth.functionResource(dev.statelessTemplate, 'Design').Properties?.MemorySize).toBe(
      1536,
    );
    expect(synth.functionResource(dev.statelessTemplate, 'Tasks').Properties?.MemorySize).toBe(512);
  });

  it('bundles each real entry as a minified ESM file with a linked source map', () => {
    const sizes = new Map<string, { bytes: number; gzip: number; map: number; initMs: number }>();
    for (const name of FUNCTION_NAMES) {
      const spec = FUNCTION_SPECS[name];
      const entry = FUNCTION_ENTRIES[spec.entry];
      const fn = synth.functionResource(dev.statelessTemplate, constructIdOf(name));
      expect(fn.Properties?.Handler).toBe(`index.${spec.handler}`);
      const s3Key = (fn.Properties as { Code: { S3Key: string } }).Code.S3Key;
      const dir = join(dev.outdir, `asset.${s3Key.replace(/\.zip$/, '')}`);
      const bundle = join(dir, 'index.mjs');
      expect(existsSync(bundle), `${entry} was bundled to ${bundle}`).toBe(true);
      const code = readFileSync(bundle);
      const text = code.toString('utf8');
      // The createRequire banner comes first, the source map link last.
      expect(text.startsWith('import { createRequire as __drydockCreateRequire }')).toBe(true);
      expect(text.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true);
      expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
      const loaded = loadBundle(bundle);
      expect(loaded.exports, `${entry} exports ${spec.handler}`).toContain(spec.handler);
      sizes.set(entry, {
        bytes: code.length,
        gzip: gzipSync(code).length,
        map: statSync(join(dir, 'index.mjs.map')).size,
        initMs: loaded.initMs,
      });
    }
    expect([...sizes.keys()].sort()).toEqual(Object.values(FUNCTION_ENTRIES).sort());
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
    console.log(
      [
        '| function | index.mjs | gzip | source map | module init (this machine) |',
        '|---|---:|---:|---:|---:|',
        ...[...sizes].map(
          ([entry, s]) =>
            `| \`${entry}\` | ${kib(s.bytes)} | ${kib(s.gzip)} | ${kib(s.map)} | ${s.initMs} ms |`,
        ),
      ].join('\n'),
    );
  });
});

/**
 * Imports a bundle in a fresh Node process, as Lambda's init phase does (no network: nothing
 * connects at import), and reports its exports and how long the import took.
 */
function loadBundle(bundle: string): { exports: string[]; initMs: number } {
  const script = `const t = performance.now(); const m = await import(${JSON.stringify(
    `file://${bundle}`,
  )}); console.log(JSON.stringify({ exports: Object.keys(m), initMs: Math.round(performance.now() - t) }));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      DB_DRIVER: 'data-api',
      DB_CLUSTER_ARN: 'arn:aws:rds:us-east-1:123456789012:cluster:drydock',
      DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:drydock-AbCdEf',
      DB_NAME: 'drydock',
    },
  });
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}');
}

describe('dev stage: REST API', () => {
  const PUBLIC = ['GET', 'HEAD', 'OPTIONS'].flatMap((verb) => [
    `${verb} /versions`,
    `${verb} /api/v1.0/health`,
  ]);

  it('requires IAM on every method except GET, HEAD and OPTIONS of /versions and /api/v1.0/health', () => {
    const methods = synth.apiMethods(dev.statelessTemplate, mainApi());
    expect(methods.size).toBeGreaterThan(PUBLIC.length);
    for (const [route, method] of methods) {
      expect(method.authorization, route).toBe(PUBLIC.includes(route) ? 'NONE' : 'AWS_IAM');
    }
    expect(PUBLIC.every((route) => methods.has(route))).toBe(true);
    // IAM only by default: no Keystone authoriser, one API (and the nodes' own, see bootactions).
    synth.expectResourceCounts(dev.statelessTemplate, {
      'AWS::ApiGateway::Authorizer': 0,
      'AWS::ApiGateway::RestApi': 2,
    });
  });

  it('routes every prefix to its function', () => {
    const methods = synth.apiMethods(dev.statelessTemplate, mainApi());
    const target = (route: string) => {
      const method = methods.get(route);
      if (!method) throw new Error(`no method ${route}`);
      return FUNCTION_IDS.find((id) =>
        method.integrationUri.includes(`"${synth.functionLogicalId(dev.statelessTemplate, id)}"`),
      );
    };
    const expected: Record<string, string> = {
      'GET /versions': 'Health',
      'HEAD /versions': 'Health',
      'OPTIONS /versions': 'Health',
      'GET /api/v1.0/health': 'Health',
      'HEAD /api/v1.0/health': 'Health',
      'OPTIONS /api/v1.0/health': 'Health',
      'ANY /api/v1.0/health/extended': 'Health',
      'ANY /api/v1.0/openapi.json': 'Health',
      'ANY /api/v1.0/tasks': 'Tasks',
      'POST /api/v1.0/tasks': 'Tasks',
      'ANY /api/v1.0/tasks/{task_id}': 'Tasks',
      'ANY /api/v1.0/tasks/{task_id}/{proxy+}': 'Tasks',
      'ANY /api/v1.0/tasks/{task_id}/messages': 'Messages',
      'ANY /api/v1.0/queue': 'Tasks',
      'ANY /api/v1.0/nodes/{node_name}/builddata': 'BuildData',
      'ANY /api/v1.0/leader': 'Leader',
      'ANY /api/v1.0/leader/{proxy+}': 'Leader',
      'ANY /api/v1.0/designs/resolve': 'Design',
      'POST /api/v1.0/designs/resolve': 'Design',
      'ANY /api/v1.0/validatedesign': 'Design',
      'POST /api/v1.0/validatedesign': 'Design',
      'ANY /api/v1.0/nodefilter': 'Design',
      'POST /api/v1.0/nodefilter': 'Design',
      'ANY /api/v1.0/bootactions/actions/{action_id}': 'BootActions',
      'ANY /api/v1.0/bootactions/nodes/{hostname}': 'BootActions',
      'POST /api/v1.0/bootactions/nodes/{hostname}': 'BootActions',
    };
    expect([...methods.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [route, fn] of Object.entries(expected)) {
      expect(target(route), route).toBe(fn);
      expect(methods.get(route)?.properties.Integration).toMatchObject({
        Type: 'AWS_PROXY',
        IntegrationHttpMethod: 'POST',
      });
    }
  });

  it('validates JSON object bodies on the POST routes that take one', () => {
    // The service API's validator (the node API has its own, for the key header).
    const validators = Object.fromEntries(
      Object.entries(
        synth.resourcesOf(dev.statelessTemplate, 'AWS::ApiGateway::RequestValidator'),
      ).filter(([, v]) => (v.Properties?.RestApiId as { Ref?: string })?.Ref === mainApi()),
    );
    expect(Object.values(validators)).toHaveLength(1);
    expect(Object.values(validators)[0]?.Properties).toMatchObject({ ValidateRequestBody: true });
    const methods = synth.apiMethods(dev.statelessTemplate, mainApi());
    for (const route of [
      'POST /api/v1.0/bootactions/nodes/{hostname}',
      'POST /api/v1.0/tasks',
      'POST /api/v1.0/designs/resolve',
      'POST /api/v1.0/validatedesign',
      'POST /api/v1.0/nodefilter',
    ]) {
      expect(methods.get(route)?.properties).toMatchObject({
        RequestValidatorId: { Ref: Object.keys(validators)[0] },
        RequestModels: { 'application/json': expect.anything() },
      });
    }
    dev.statelessTemplate.hasResourceProperties('AWS::ApiGateway::Model', {
      ContentType: 'application/json',
      Schema: { $schema: 'http://json-schema.org/draft-04/schema#', type: 'object' },
    });
  });

  it('throttles, logs access as JSON, never logs bodies, traces', () => {
    dev.statelessTemplate.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'dev',
      TracingEnabled: true,
      AccessLogSetting: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
      MethodSettings: [
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          MetricsEnabled: true,
          ThrottlingRateLimit: 100,
          ThrottlingBurstLimit: 200,
        }),
      ],
    });
  });

  it("answers API Gateway's own errors in Drydock's error shape, 413 for oversized bodies", () => {
    dev.statelessTemplate.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'REQUEST_TOO_LARGE',
      StatusCode: '413',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('^\\{"type":"error"') },
    });
    dev.statelessTemplate.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'THROTTLED',
      StatusCode: '429',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"retry":true') },
    });
    // The function-level cap sits below API Gateway's fixed 10 MB.
    for (const fn of Object.values(synth.serviceFunctions(dev.statelessTemplate))) {
      const max = synth.environmentOf(fn).MAX_BODY_BYTES;
      if (max !== undefined) expect(Number(max)).toBeLessThanOrEqual(10 * 1024 * 1024);
    }
  });
});

describe('dev stage: queues and schedule', () => {
  it('encrypts every queue and refuses non-TLS access to each', () => {
    const queues = synth.resourcesOf(dev.statelessTemplate, 'AWS::SQS::Queue');
    expect(Object.keys(queues)).toHaveLength(7);
    const policies = Object.values(
      synth.resourcesOf(dev.statelessTemplate, 'AWS::SQS::QueuePolicy'),
    );
    for (const [logicalId, queue] of Object.entries(queues)) {
      expect(queue.Properties?.SqsManagedSseEnabled, logicalId).toBe(true);
      const tlsOnly = policies.some((policy) => {
        const properties = policy.Properties as {
          Queues: { Ref?: string }[];
          PolicyDocument: { Statement: Record<string, unknown>[] };
        };
        return (
          properties.Queues.some((q) => q.Ref === logicalId) &&
          properties.PolicyDocument.Statement.some(
            (s) =>
              s.Effect === 'Deny' &&
              JSON.stringify(s.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}',
          )
        );
      });
      expect(tlsOnly, `${logicalId} enforces TLS`).toBe(true);
    }
  });

  it('gives each work queue a DLQ and consumes it with partial batch responses', () => {
    const queues = synth.resourcesOf(dev.statelessTemplate, 'AWS::SQS::Queue');
    const mappings = Object.values(
      synth.resourcesOf(dev.statelessTemplate, 'AWS::Lambda::EventSourceMapping'),
    );
    expect(mappings).toHaveLength(3);
    const functions = synth.resourcesOf(dev.statelessTemplate, 'AWS::Lambda::Function');
    const consumers = new Set<string>();
    for (const mapping of mappings) {
      const properties = mapping.Properties as Record<string, unknown>;
      expect(properties).toMatchObject({
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: 10,
        ScalingConfig: { MaximumConcurrency: 5 },
      });
      const queueId = (properties.EventSourceArn as { 'Fn::GetAtt': [string, string] })[
        'Fn::GetAtt'
      ][0];
      const functionId = (properties.FunctionName as { Ref: string }).Ref;
      consumers.add(functionId);
      const queue = queues[queueId]?.Properties as Record<string, unknown>;
      expect(queue.RedrivePolicy).toMatchObject({
        deadLetterTargetArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] },
        maxReceiveCount: 5,
      });
      // AWS guidance: visibility timeout at least six times the consumer's timeout.
      const timeout = functions[functionId]?.Properties?.Timeout as number;
      expect(queue.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * timeout);
    }
    expect([...consumers].sort()).toEqual(
      ['TaskEvents', 'MessageEvents', 'BuildDataEvents']
        .map((id) => synth.functionLogicalId(dev.statelessTemplate, id))
        .sort(),
    );
  });

  it('invokes the leader every minute with retries and a DLQ', () => {
    const leader = synth.functionLogicalId(dev.statelessTemplate, 'LeaseSchedule');
    dev.statelessTemplate.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [leader, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 120 },
          DeadLetterConfig: { Arn: Match.anyValue() },
        }),
      ],
    });
    dev.statelessTemplate.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: leader },
      MaximumRetryAttempts: 1,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('alarms on every DLQ, every function error and API 5xx', () => {
    const alarms = Object.values(
      synth.resourcesOf(dev.statelessTemplate, 'AWS::CloudWatch::Alarm'),
    );
    const dlqAlarms = alarms.filter(
      (a) => a.Properties?.MetricName === 'ApproximateNumberOfMessagesVisible',
    );
    expect(dlqAlarms).toHaveLength(4);
    const errorAlarms = alarms.filter(
      (a) => a.Properties?.MetricName === 'Errors' && a.Properties?.Namespace === 'AWS/Lambda',
    );
    expect(errorAlarms).toHaveLength(FUNCTION_IDS.length);
    expect(alarms.filter((a) => a.Properties?.MetricName === '5XXError')).toHaveLength(2);
  });
});

describe('dev stage: migration trigger', () => {
  it('runs the migration function synchronously on deploy, after the database stack', () => {
    const triggers = synth.resourcesOf(dev.statelessTemplate, 'Custom::Trigger');
    expect(Object.values(triggers)).toHaveLength(1);
    const trigger = Object.values(triggers)[0];
    expect(trigger?.Properties).toMatchObject({
      InvocationType: 'RequestResponse',
      ExecuteOnHandlerChange: true,
      Timeout: String(10 * 60 * 1000),
      HandlerArn: { Ref: expect.stringMatching(/^MigrateCurrentVersion/) },
    });
    // Inside the stack: after the function's role and its grants.
    expect(trigger?.DependsOn).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^MigrateRole[0-9A-F]{8}$/),
        expect.stringMatching(/^MigrateRoleDefaultPolicy[0-9A-F]{8}$/),
      ]),
    );
    // Across stacks: the cluster lives in the stateful stack, deployed first.
    expect(dev.stateless.migrationTrigger.node.dependencies).toContain(dev.stateful.cluster);
    const artifact = dev.assembly.getStackArtifact(dev.stateless.artifactId);
    expect(artifact.dependencies.map((d) => d.id)).toContain(dev.stateful.artifactId);
  });
});

describe('dev stage: least privilege', () => {
  const statements = () => [
    ...synth.statementsOf(dev.statefulTemplate),
    ...synth.statementsOf(dev.statelessTemplate),
  ];

  it('has no wildcard rds-data or secretsmanager action anywhere', () => {
    for (const statement of statements()) {
      for (const action of statement.Action) {
        expect(action, statement.policy).not.toMatch(/^(rds-data|secretsmanager):.*\*/);
        expect(action, statement.policy).not.toBe('*');
      }
    }
  });

  it('grants the Data API on the cluster and the secret read on its secret, to the database functions only', () => {
    const dataApi = statements().filter((s) => s.Action.some((a) => a.startsWith('rds-data:')));
    expect(
      dataApi.map((s) => s.policy.replace(/RoleDefaultPolicy[0-9A-F]{8}$/, '')).sort(),
    ).toEqual([...DATABASE_IDS].sort());
    for (const statement of dataApi) {
      expect(statement.Action.sort()).toEqual([
        'rds-data:BatchExecuteStatement',
        'rds-data:BeginTransaction',
        'rds-data:CommitTransaction',
        'rds-data:ExecuteStatement',
        'rds-data:RollbackTransaction',
      ]);
      expect(statement.Resource).toEqual([{ 'Fn::Join': expect.anything() }]);
      expect(JSON.stringify(statement.Resource)).toContain('Fn::ImportValue');
    }
    const secretReads = statements().filter((s) =>
      s.Action.some((a) => a.startsWith('secretsmanager:')),
    );
    expect(secretReads).toHaveLength(DATABASE_IDS.length);
    for (const statement of secretReads) {
      expect(statement.Resource).toEqual([{ 'Fn::ImportValue': expect.any(String) }]);
    }
  });

  it('writes function logs only to the function log group (no AWS managed policy on functions)', () => {
    for (const role of Object.entries(synth.resourcesOf(dev.statelessTemplate, 'AWS::IAM::Role'))) {
      const [logicalId, resource] = role;
      if (FUNCTION_IDS.some((id) => logicalId.startsWith(`${id}Role`))) {
        expect(resource.Properties?.ManagedPolicyArns, logicalId).toBeUndefined();
      }
    }
  });

  it('offers callers a policy to invoke this API and send to its queues, and outputs', () => {
    const caller = Object.values(
      synth.resourcesOf(dev.statelessTemplate, 'AWS::IAM::ManagedPolicy'),
    )[0];
    const document = caller?.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] };
    expect(document.Statement.map((s) => s.Action)).toEqual([
      'execute-api:Invoke',
      ['sqs:GetQueueUrl', 'sqs:SendMessage'],
    ]);
    expect(JSON.stringify(document.Statement[0]?.Resource)).toContain('/dev/*/*');
    expect(document.Statement[1]?.Resource).toHaveLength(3);
    const outputs = Object.keys(dev.statelessTemplate.toJSON().Outputs ?? {});
    expect(outputs).toEqual(
      expect.arrayContaining([
        'ApiUrl',
        'TaskQueueUrl',
        'TaskQueueArn',
        'MessageQueueUrl',
        'MessageQueueArn',
        'BuildDataQueueUrl',
        'BuildDataQueueArn',
        'CallerPolicyArn',
      ]),
    );
  });
});

describe('dev stage: cdk-nag', () => {
  it('passes AwsSolutions with every acknowledgement silencing a real finding', () => {
    const acks = synth.expectEarnedAcknowledgements(dev.app);
    console.log(acks.map((a) => `${a.ruleId} @ ${a.path}: ${a.reason}`).join('\n'));
  });
});
