/**
 * Everything that can be deployed again at any time without touching data: the functions, the
 * REST API, the queues, the lease schedule, the deploy-time migration, the alarms and the policy
 * callers attach.
 */
import {
  Aws,
  type CfnElement,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as triggers from 'aws-cdk-lib/triggers';
import type { Construct } from 'constructs';
import { UNAUTHENTICATED_MESSAGE } from '#shared/auth/authenticate.ts';
import { IDENTITY_UNAVAILABLE_MESSAGE } from '#shared/errors.ts';
import {
  type ApiDomainConfig,
  type KeystoneStageConfig,
  SERVICE_NAME,
  type StageConfig,
} from '../config/stage-config.ts';
import type { ServiceDatabase } from '../constructs/service-database.ts';
import { ServiceFunction, toRetention } from '../constructs/service-function.ts';
import { ServiceObservability } from '../constructs/service-observability.ts';
import { deadLetterAlarm, ServiceQueue } from '../constructs/service-queue.ts';
import { FUNCTION_ENTRIES, KEYSTONE_AUTHORIZER_ENTRY } from './function-entries.ts';

/** API Gateway ends a REST integration after 29 s, so an HTTP function never needs longer. */
const HTTP_TIMEOUT = Duration.seconds(29);
/** Memory of the design function (see where it is set). */
const DESIGN_MEMORY_MB = 1_536;
/** Room for a Data API resume (15-30 s) inside one delivery of a queue batch. */
const EVENT_TIMEOUT = Duration.seconds(60);
/** Under one minute, so two schedule ticks never overlap. */
const SCHEDULE_TIMEOUT = Duration.seconds(55);
/** A fresh cluster may still be resuming or creating its database; migrations get room. */
const MIGRATION_TIMEOUT = Duration.minutes(10);

type EntryName = keyof typeof FUNCTION_ENTRIES;

/** A Lambda function of the service: its entry file and the export it runs. */
export interface FunctionSpec {
  readonly entry: EntryName;
  readonly handler: string;
}

/**
 * The functions that consume a queue or the schedule. Their entry also serves HTTP (or the
 * migration trigger) as a function of the entry's own name, and exports one handler per event
 * source; each source gets its own function, so timeouts, concurrency and alarms fit the source.
 */
const EVENT_FUNCTIONS = {
  taskEvents: { entry: 'tasks', handler: 'sqsHandler' },
  messageEvents: { entry: 'messages', handler: 'sqsHandler' },
  buildDataEvents: { entry: 'buildData', handler: 'sqsHandler' },
  leaseSchedule: { entry: 'leader', handler: 'scheduledHandler' },
} as const satisfies Record<string, FunctionSpec>;

/** A function's name: an entry's (its `handler` export) or an event source's. */
export type FunctionName = EntryName | keyof typeof EVENT_FUNCTIONS;

/** The service's Lambda functions: each entry's `handler`, named as the entry, and the event functions. */
export const FUNCTION_SPECS: Readonly<Record<FunctionName, FunctionSpec>> = {
  ...(Object.fromEntries(
    (Object.keys(FUNCTION_ENTRIES) as EntryName[]).map((entry) => [
      entry,
      { entry, handler: 'handler' },
    ]),
  ) as Record<EntryName, FunctionSpec>),
  ...EVENT_FUNCTIONS,
};

/** A function's construct id: its name capitalised (`taskEvents` is `TaskEvents`). */
export function constructIdOf(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** The functions that read or write the database: all but design resolution. */
export const DATABASE_FUNCTIONS: readonly FunctionName[] = (
  Object.keys(FUNCTION_SPECS) as FunctionName[]
).filter((name) => name !== 'design');

/**
 * Throttling of the node-facing boot-action API, its own and apart from the orchestrators' API:
 * nodes fetch their assets once per deployment and report a few times, so a flood there is never
 * a fleet of real nodes (a key guesser, a node stuck in a loop), and it must not eat into the
 * orchestrators' rate.
 */
export const NODE_API_THROTTLE = { rateLimit: 20, burstLimit: 40 } as const;

/** Options of {@link StatelessStack}. */
export interface StatelessStackProps extends StackProps {
  readonly config: StageConfig;
  readonly database: ServiceDatabase;
}

/** The service's code and its interfaces: API Gateway, SQS, EventBridge, deploy trigger. */
export class StatelessStack extends Stack {
  /** The stage's API: IAM-authorised, or Keystone-authorised when `apiAuth` is `keystone`. */
  readonly api: apigateway.RestApi;
  /** The API taking Keystone tokens: `api` itself (`keystone`), a second API (`both`), or none. */
  readonly keystoneApi: apigateway.RestApi | undefined;
  /**
   * The node-facing boot-action API: no IAM and no Keystone (nodes authenticate with their
   * boot-action key), its own throttling, and only the three node routes.
   */
  readonly nodeApi: apigateway.RestApi;
  /** The REQUEST authoriser function behind `keystoneApi`. */
  readonly keystoneAuthorizer: ServiceFunction | undefined;
  readonly functions: Readonly<Record<FunctionName, ServiceFunction>>;
  readonly queues: {
    readonly tasks: ServiceQueue;
    readonly messages: ServiceQueue;
    readonly buildData: ServiceQueue;
  };
  readonly migrationTrigger: triggers.Trigger;
  readonly callerPolicy: iam.ManagedPolicy;
  /** The event bus, its grants, the dashboard and the metric alarms. */
  readonly observability: ServiceObservability;

  private readonly config: StageConfig;
  private readonly alarmAction: cloudwatch.IAlarmAction | undefined;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { config, database } = props;
    this.config = config;
    this.alarmAction = config.alarmTopicArn
      ? new cloudwatchActions.SnsAction(
          sns.Topic.fromTopicArn(this, 'AlarmTopic', config.alarmTopicArn),
        )
      : undefined;

    const functions = this.createFunctions(database);
    this.functions = functions;
    this.grantDesignSources([functions.design, functions.bootActionNodes]);

    this.queues = {
      tasks: this.consumedQueue('TaskQueue', 'task requests', functions.taskEvents),
      messages: this.consumedQueue('MessageQueue', 'result messages', functions.messageEvents),
      buildData: this.consumedQueue('BuildDataQueue', 'build data', functions.buildDataEvents),
    };
    this.scheduleLeader(functions.leaseSchedule);
    this.migrationTrigger = this.migrateOnDeploy(functions.migrate, database);
    this.keystoneAuthorizer = config.keystone
      ? this.createKeystoneAuthorizer(config.keystone)
      : undefined;
    const auth = config.api.auth;
    this.api = this.restApi('Api', auth === 'keystone' ? 'keystone' : 'iam', functions);
    this.keystoneApi =
      auth === 'keystone'
        ? this.api
        : auth === 'both'
          ? this.restApi('KeystoneApi', 'keystone', functions)
          : undefined;
    if (config.api.domain) this.customDomain(config.api.domain, this.keystoneApi ?? this.api);
    this.nodeApi = this.bootActionNodeApi(functions.bootActionNodes);
    this.callerPolicy = this.createCallerPolicy();
    this.functionErrorAlarms(functions);
    this.observability = new ServiceObservability(this, 'Observability', {
      prefix: config.prefix,
      serviceName: SERVICE_NAME,
      config: config.observability,
      // The functions whose writes change task status or take the lease over.
      publishers: [
        functions.tasks,
        functions.taskEvents,
        functions.leader,
        functions.leaseSchedule,
      ],
      schedule: functions.leaseSchedule,
      alarmAction: this.alarmAction,
    });
    this.outputs();
  }

  private createFunctions(database: ServiceDatabase): StatelessStack['functions'] {
    const { config } = this;
    const http = { MAX_BODY_BYTES: String(config.api.maxBodyBytes) };
    const lease = {
      LEASE_GRACE_SECONDS: String(config.leaseGraceSeconds),
      RETENTION_DAYS: String(config.retentionDays),
      RETENTION_BATCH_SIZE: String(config.retentionBatchSize),
    };
    const design = config.design;
    const designEnvironment: Record<string, string> = {
      ...http,
      DESIGN_FILE_ROOTS: design.fileRoots.join(','),
      DESIGN_ALLOW_HOSTS: design.allowHosts.join(','),
      DESIGN_MAX_BYTES: String(design.maxBytes),
      DESIGN_CACHE_TTL_SECONDS: String(design.cacheTtlSeconds),
    };
    if (design.httpCredentialsSecretArn) {
      designEnvironment.DESIGN_HTTP_CREDENTIALS_SECRET_ARN = design.httpCredentialsSecretArn;
    }
    if (design.keystoneSecretArn) {
      designEnvironment.DESIGN_KEYSTONE_SECRET_ARN = design.keystoneSecretArn;
    }
    if (design.platformImages.length > 0) {
      designEnvironment.DESIGN_PLATFORM_IMAGES = design.platformImages.join(',');
    }
    if (design.platformKernels.length > 0) {
      designEnvironment.DESIGN_PLATFORM_KERNELS = design.platformKernels.join(',');
    }

    const settings: Record<
      FunctionName,
      {
        description: string;
        environment?: Record<string, string>;
        timeout?: Duration;
        memorySize?: number;
      }
    > = {
      tasks: { description: 'task routes', environment: { ...http, ...lease } },
      taskEvents: {
        description: 'task request events (SQS)',
        timeout: EVENT_TIMEOUT,
        environment: lease,
      },
      messages: { description: 'result message routes', environment: http },
      messageEvents: { description: 'result message events (SQS)', timeout: EVENT_TIMEOUT },
      buildData: { description: 'build data routes', environment: http },
      buildDataEvents: { description: 'build data events (SQS)', timeout: EVENT_TIMEOUT },
      leader: { description: 'leader lease routes', environment: { ...http, ...lease } },
      leaseSchedule: {
        description: 'the one-minute lease schedule (EventBridge)',
        timeout: SCHEDULE_TIMEOUT,
        // By default the schedule holds no lease: it must never keep a dead orchestrator's lease
        // alive. Holding it is an explicit mode, for an orchestrator running inside the function.
        environment: config.leaseHoldInstanceId
          ? { ...lease, LEASE_MODE: 'hold', LEASE_INSTANCE_ID: config.leaseHoldInstanceId }
          : lease,
      },
      migrate: { description: 'deploy-time database migrations', timeout: MIGRATION_TIMEOUT },
      health: { description: 'health, versions and the OpenAPI document', environment: http },
      // Design resolution reads remote documents and never the database: no database grant.
      design: {
        description: 'design reference resolution and validation',
        environment: designEnvironment,
        // Designs are parsed inline here, and Lambda's CPU grows with memory: 1,536 MB is about
        // one vCPU, on which the largest design the 4 MiB cap admits (370,000 keys) parsed in
        // 2-4 s in the bench (2 shared cores). Its heap fits in 192 MB (measured).
        memorySize: DESIGN_MEMORY_MB,
      },
      bootActions: {
        description: 'boot-action contexts and statuses (orchestrator routes)',
        environment: http,
      },
      // Renders a node's assets from its design: parses the design inline, like the design
      // function, so it gets the same memory (CPU).
      bootActionNodes: {
        description: 'boot-action units, files and reports (node routes, key-authenticated)',
        environment: designEnvironment,
        memorySize: DESIGN_MEMORY_MB,
      },
    };
    const functions = Object.fromEntries(
      (Object.keys(FUNCTION_SPECS) as FunctionName[]).map((name) => {
        const spec = FUNCTION_SPECS[name];
        const { description, environment, timeout, memorySize } = settings[name];
        const fn = new ServiceFunction(this, constructIdOf(name), {
          entry: FUNCTION_ENTRIES[spec.entry],
          handler: spec.handler,
          description: `${config.prefix}: ${description}`,
          config,
          timeout: timeout ?? HTTP_TIMEOUT,
          ...(environment ? { environment } : {}),
          ...(memorySize ? { memorySize } : {}),
        });
        return [name, fn];
      }),
    ) as Record<FunctionName, ServiceFunction>;
    for (const name of DATABASE_FUNCTIONS) {
      functions[name].useDatabase(database);
    }
    for (const fn of Object.values(functions)) acknowledgeTracing(fn);
    return functions;
  }

  /**
   * The Lambda REQUEST authoriser for Keystone tokens: no database, the service credentials'
   * secret only, and the policy document validated at synthesis (`resolveStageConfig`).
   */
  private createKeystoneAuthorizer(keystone: KeystoneStageConfig): ServiceFunction {
    const environment: Record<string, string> = {
      KEYSTONE_URL: keystone.url,
      KEYSTONE_SECRET_ARN: keystone.secretArn,
      KEYSTONE_CACHE_SECONDS: String(keystone.cacheSeconds),
      KEYSTONE_TIMEOUT_MS: String(keystone.timeoutMs),
    };
    if (Object.keys(keystone.policy).length > 0) {
      environment.KEYSTONE_POLICY = JSON.stringify(keystone.policy);
    }
    const fn = new ServiceFunction(this, 'KeystoneAuthorizer', {
      entry: KEYSTONE_AUTHORIZER_ENTRY,
      description: `${this.config.prefix}: Keystone token authoriser (API Gateway REQUEST)`,
      config: this.config,
      // A retried sign-in and a validation, each bounded by the Keystone timeout, and margin.
      timeout: Duration.millis(Math.max(10_000, 3 * keystone.timeoutMs)),
      environment,
    });
    secretsmanager.Secret.fromSecretCompleteArn(
      this,
      'KeystoneSecret',
      keystone.secretArn,
    ).grantRead(fn);
    acknowledgeTracing(fn);
    return fn;
  }

  /** Secrets and buckets for design references, only when the context configures them. */
  private grantDesignSources(readers: readonly ServiceFunction[]): void {
    const { config } = this;
    const secretArns = [
      config.design.httpCredentialsSecretArn,
      config.design.keystoneSecretArn,
    ].filter((arn): arn is string => arn !== undefined);
    secretArns.forEach((arn, index) => {
      const secret = secretsmanager.Secret.fromSecretCompleteArn(this, `DesignSecret${index}`, arn);
      for (const reader of readers) secret.grantRead(reader);
    });
    for (const reader of readers) {
      for (const bucket of config.design.s3Buckets) {
        const objects = `arn:${Aws.PARTITION}:s3:::${bucket}/*`;
        reader.addToRolePolicy(
          new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [objects] }),
        );
        const policy = reader.role?.node.tryFindChild('DefaultPolicy');
        if (policy) {
          Validations.of(policy).acknowledge({
            id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${bucket}/*]`,
            reason: `Design references (and boot-action asset locations) name any object key in the configured bucket ${bucket}; the grant is read-only (s3:GetObject) and limited to that bucket.`,
          });
        }
      }
    }
  }

  /** A queue with a DLQ, consumed by `consumer` with partial batch responses. */
  private consumedQueue(id: string, purpose: string, consumer: ServiceFunction): ServiceQueue {
    const timeout = consumer.timeout ?? HTTP_TIMEOUT;
    const queue = new ServiceQueue(this, id, {
      purpose,
      visibilityTimeout: Duration.seconds(6 * timeout.toSeconds()),
      alarmAction: this.alarmAction,
    });
    consumer.addEventSource(
      new SqsEventSource(queue.queue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(1),
        // A bad record fails alone; the rest of the batch is deleted.
        reportBatchItemFailures: true,
        // Bounded pollers keep a burst of events from exhausting database capacity.
        maxConcurrency: this.config.queueMaxConcurrency,
      }),
    );
    return queue;
  }

  /**
   * The leader function runs every minute. A rule, not EventBridge Scheduler: both fire once a
   * minute at least once, but only rules actually fire in LocalStack's free tier.
   */
  private scheduleLeader(leader: ServiceFunction): void {
    const dlq = new sqs.Queue(this, 'ScheduleDlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(dlq).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter target of the lease schedule (rule target and async invocation failures); a DLQ of a DLQ would only move the problem.',
    });
    new events.Rule(this, 'LeaseScheduleRule', {
      description: `${this.config.prefix}: claim or renew the leader lease every minute`,
      schedule: events.Schedule.rate(Duration.minutes(1)),
      // A dev stack may run with the schedule off (and then with an auto-pausing database).
      enabled: this.config.schedule,
      targets: [
        new eventsTargets.LambdaFunction(leader, {
          retryAttempts: 2,
          // A tick older than two minutes is superseded by the next ones.
          maxEventAge: Duration.minutes(2),
          deadLetterQueue: dlq,
        }),
      ],
    });
    // EventBridge invokes asynchronously: a tick that throws is retried once by Lambda, then
    // recorded in the same DLQ instead of vanishing.
    leader.configureAsyncInvoke({
      retryAttempts: 1,
      maxEventAge: Duration.minutes(2),
      onFailure: new lambdaDestinations.SqsDestination(dlq),
    });
    const alarm = deadLetterAlarm(this, 'ScheduleDlqAlarm', dlq, 'the lease schedule');
    if (this.alarmAction) alarm.addAlarmAction(this.alarmAction);
    new CfnOutput(this, 'ScheduleDlqUrl', { value: dlq.queueUrl });
  }

  /**
   * Runs the migration function synchronously during the deployment, after the database exists;
   * a thrown error fails the deployment. The migrations are bundled into the function, so a new
   * migration changes its code and runs the trigger again.
   */
  private migrateOnDeploy(migrate: ServiceFunction, database: ServiceDatabase): triggers.Trigger {
    const trigger = new triggers.Trigger(this, 'MigrateOnDeploy', {
      handler: migrate,
      invocationType: triggers.InvocationType.REQUEST_RESPONSE,
      timeout: MIGRATION_TIMEOUT,
      executeOnHandlerChange: true,
    });
    trigger.executeAfter(...database.dependables);
    // The role's policy (Data API and secret grants) must exist before the function runs.
    if (migrate.role) trigger.executeAfter(migrate.role);

    return trigger;
  }

  /**
   * One REST API over the service's functions, the same resource tree whatever authorises it:
   * `iam` (SigV4 on every method) or `keystone` (the REQUEST authoriser on every method). The two
   * public probes take no authorisation on either. API Gateway allows one authorisation type per
   * method and a Lambda authoriser cannot check a SigV4 signature, so "either" (`apiAuth=both`)
   * is two APIs built here twice over the same functions.
   */
  private restApi(
    id: 'Api' | 'KeystoneApi',
    kind: 'iam' | 'keystone',
    functions: StatelessStack['functions'],
  ): apigateway.RestApi {
    const { config } = this;
    const first = id === 'Api';
    const accessLogs = new logs.LogGroup(this, `${id}AccessLogs`, {
      retention: toRetention(config.logRetentionDays),
      removalPolicy: config.isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const authorizer =
      kind === 'keystone' ? this.keystoneRequestAuthorizer(`${id}Authorizer`) : undefined;
    const api = new apigateway.RestApi(this, id, {
      restApiName: first ? config.prefix : `${config.prefix}-keystone`,
      description: `Drydock statemgmt: tasks, result messages, build data, leases, designs (${kind === 'iam' ? 'SigV4' : 'Keystone tokens'})`,
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      // Secure by default: every method needs a SigV4 signature (or a Keystone token) unless it
      // opts out below.
      defaultMethodOptions: authorizer
        ? { authorizationType: apigateway.AuthorizationType.CUSTOM, authorizer }
        : { authorizationType: apigateway.AuthorizationType.IAM },
      // Access and execution logs need the account-level CloudWatch role; it is shared by every
      // API in the account and region, so it stays when this stack goes. The first API sets it.
      cloudWatchRole: first,
      ...(first ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
      // Never log bodies: design references may carry credentials.
      deployOptions: this.stageOptions(accessLogs, { callers: true, throttle: config.api }),
    });
    // RestApi adds an unnamed `Endpoint` output; `ApiUrl` below replaces it with a stable name.
    api.node.tryRemoveChild('Endpoint');
    if (!first) {
      // Logging on this stage needs the account's CloudWatch role, which the first API sets.
      const account = this.api.node.tryFindChild('Account');
      if (account) api.deploymentStage.node.addDependency(account);
    }
    this.drydockErrorResponses(api);
    if (kind === 'keystone') this.keystoneErrorResponses(api);

    const integrate = (fn: ServiceFunction) =>
      new apigateway.LambdaIntegration(fn, { proxy: true, allowTestInvoke: false });
    const integrations = {
      tasks: integrate(functions.tasks),
      messages: integrate(functions.messages),
      buildData: integrate(functions.buildData),
      leader: integrate(functions.leader),
      health: integrate(functions.health),
      design: integrate(functions.design),
      bootActions: integrate(functions.bootActions),
    };
    const jsonObject = this.jsonObjectValidation(api);
    // GET with the HEAD and OPTIONS every route answers (the functions serve both).
    const publicGet = (resource: apigateway.Resource) => {
      for (const verb of ['GET', 'HEAD', 'OPTIONS']) {
        const method = resource.addMethod(verb, integrations.health, {
          authorizationType: apigateway.AuthorizationType.NONE,
        });
        Validations.of(method).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            'Deliberately public, read-only liveness and version probes (Drydock clients call them unauthenticated); they write nothing and reveal no data.',
        });
      }
    };

    publicGet(api.root.addResource('versions'));
    const v1 = api.root.addResource('api').addResource('v1.0');
    const health = v1.addResource('health');
    publicGet(health);
    health.addResource('extended').addMethod('ANY', integrations.health);
    v1.addResource('openapi.json').addMethod('ANY', integrations.health);

    // ANY plus greedy paths: the functions own their routing and answer wrong methods with 405
    // in Drydock's error shape instead of API Gateway's "Missing Authentication Token".
    const tasks = v1.addResource('tasks');
    tasks.addMethod('ANY', integrations.tasks);
    tasks.addMethod('POST', integrations.tasks, jsonObject);
    const task = tasks.addResource('{task_id}');
    task.addMethod('ANY', integrations.tasks);
    task.addProxy({ defaultIntegration: integrations.tasks, anyMethod: true });
    task.addResource('messages').addMethod('ANY', integrations.messages);
    v1.addResource('queue').addMethod('ANY', integrations.tasks);

    v1.addResource('nodes')
      .addResource('{node_name}')
      .addResource('builddata')
      .addMethod('ANY', integrations.buildData);

    const leader = v1.addResource('leader');
    leader.addMethod('ANY', integrations.leader);
    leader.addProxy({ defaultIntegration: integrations.leader, anyMethod: true });

    const resolve = v1.addResource('designs').addResource('resolve');
    resolve.addMethod('ANY', integrations.design);
    resolve.addMethod('POST', integrations.design, jsonObject);
    const validateDesign = v1.addResource('validatedesign');
    validateDesign.addMethod('ANY', integrations.design);
    validateDesign.addMethod('POST', integrations.design, jsonObject);
    const nodeFilter = v1.addResource('nodefilter');
    nodeFilter.addMethod('ANY', integrations.design);
    nodeFilter.addMethod('POST', integrations.design, jsonObject);

    // The orchestrator's boot-action routes; the nodes' own are on the node API.
    const bootActions = v1.addResource('bootactions');
    bootActions
      .addResource('actions')
      .addResource('{action_id}')
      .addMethod('ANY', integrations.bootActions);
    const bootActionNode = bootActions.addResource('nodes').addResource('{hostname}');
    bootActionNode.addMethod('ANY', integrations.bootActions);
    bootActionNode.addMethod('POST', integrations.bootActions, jsonObject);

    Validations.of(api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        kind === 'iam'
          ? 'Callers are orchestrators and operators with AWS identities: methods use IAM (SigV4) authorization, not Cognito user pools; the two public probes use none by design (see APIG4).'
          : "Callers are Drydock's own clients (CLI, Shipyard) with Keystone tokens: methods use a Lambda REQUEST authoriser that validates them against Keystone, not Cognito user pools; the two public probes use none by design (see APIG4).",
    });
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason: `Every data method requires ${kind === 'iam' ? 'SigV4' : 'a Keystone token'} and the stage is throttled; a WAF web ACL (about 6 USD a month plus rules) can be associated per account when the API is exposed beyond trusted callers.`,
    });
    const cloudWatchRole = api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      Validations.of(cloudWatchRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'AmazonAPIGatewayPushToCloudWatchLogs is the AWS-maintained policy for the account-level API Gateway logging role, which API Gateway itself assumes.',
      });
    }
    return api;
  }

  /**
   * A REST API stage as every API of this stack has it: JSON access logs, error-level execution
   * logs without bodies (dataTrace off), metrics, X-Ray and the stage's throttling. `callers`:
   * whether the access log names the IAM caller and user (the node API has none).
   */
  private stageOptions(
    accessLogs: logs.ILogGroup,
    options: { callers: boolean; throttle: { rateLimit: number; burstLimit: number } },
  ): apigateway.StageOptions {
    return {
      stageName: this.config.stage,
      accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
      accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
        caller: options.callers,
        httpMethod: true,
        ip: true,
        protocol: true,
        requestTime: true,
        resourcePath: true,
        responseLength: true,
        status: true,
        user: options.callers,
      }),
      loggingLevel: apigateway.MethodLoggingLevel.ERROR,
      dataTraceEnabled: false,
      metricsEnabled: true,
      tracingEnabled: true,
      throttlingRateLimit: options.throttle.rateLimit,
      throttlingBurstLimit: options.throttle.burstLimit,
    };
  }

  /**
   * The node-facing boot-action API (Drydock's `control/bootaction.py` routes): a REST API of its
   * own, so that nothing else is reachable without IAM or a Keystone token, with its own
   * throttling and access log. Nodes authenticate with their boot-action key (`X-Bootaction-Key`),
   * which the function checks before it reads anything else; API Gateway logs no headers and no
   * bodies. Only the three node methods exist; any other path or method is API Gateway's 403.
   * Binary media `*\/*`: the tarballs leave as bytes whatever the node's Accept header says (the
   * function decodes the base64 body API Gateway then passes it).
   */
  private bootActionNodeApi(fn: ServiceFunction): apigateway.RestApi {
    const { config } = this;
    const accessLogs = new logs.LogGroup(this, 'NodeApiAccessLogs', {
      retention: toRetention(config.logRetentionDays),
      removalPolicy: config.isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const api = new apigateway.RestApi(this, 'NodeApi', {
      restApiName: `${config.prefix}-nodes`,
      description:
        "Drydock statemgmt: boot-action units, files and reports for deployed nodes (authenticated by each node's boot-action key)",
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      binaryMediaTypes: ['*/*'],
      cloudWatchRole: false,
      // Nodes have no IAM or Keystone identity to log; reports carry keys in a header and
      // rendered assets may carry them in the body, so no bodies either.
      deployOptions: this.stageOptions(accessLogs, { callers: false, throttle: NODE_API_THROTTLE }),
    });
    api.node.tryRemoveChild('Endpoint');
    // Logging on this stage needs the account's CloudWatch role, which the first API sets.
    const account = this.api.node.tryFindChild('Account');
    if (account) api.deploymentStage.node.addDependency(account);
    this.drydockErrorResponses(api);
    const integration = new apigateway.LambdaIntegration(fn, {
      proxy: true,
      allowTestInvoke: false,
    });
    // API Gateway itself refuses a request without the key header, before any function runs;
    // on this API that is the only required parameter, so its refusal is Drydock's 401.
    // Body validation is on but no method names a model: report bodies (passed as binary here)
    // are checked by the function's schema, the single source of truth.
    const keyValidator = api.addRequestValidator('KeyHeaderValidator', {
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    api.addGatewayResponse('MissingBootactionKey', {
      type: apigateway.ResponseType.BAD_REQUEST_PARAMETERS,
      statusCode: '401',
      responseHeaders: { 'WWW-Authenticate': "'Bootaction-Key'" },
      templates: {
        'application/json':
          '{"type":"error","message":"No X-Bootaction-Key","retry":false,"request_id":"$context.requestId"}',
      },
    });
    const open: apigateway.MethodOptions = {
      authorizationType: apigateway.AuthorizationType.NONE,
      requestValidator: keyValidator,
      requestParameters: { 'method.request.header.X-Bootaction-Key': true },
    };
    const bootActions = api.root.addResource('api').addResource('v1.0').addResource('bootactions');
    const node = bootActions.addResource('nodes').addResource('{hostname}');
    const all = [
      bootActions.addResource('{action_id}').addMethod('POST', integration, open),
      node.addResource('units').addMethod('GET', integration, open),
      node.addResource('files').addMethod('GET', integration, open),
    ];
    for (const method of all) {
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          "Node-facing boot-action routes (Drydock's own contract): an installed node has no AWS identity or Keystone token, so it authenticates with its per-deployment boot-action key, checked by the function in constant time before anything else is read; the API is throttled on its own.",
      });
    }
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Callers are deployed bare-metal nodes authenticating with their boot-action key (X-Bootaction-Key), not Cognito users; no other route exists on this API.',
    });
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'The node API has three methods, each refusing requests without the node key before reading anything, and its own stage throttling; a WAF web ACL (about 6 USD a month plus rules) can be associated when nodes reach it over the internet.',
    });
    // Where nodes report: this API's own URL, built from its id (not `api.url`, which would
    // make the function depend on the deployment that depends on it).
    fn.addEnvironment(
      'BOOTACTION_REPORT_URL',
      `https://${api.restApiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}/${config.stage}/api/v1.0/bootactions/`,
    );
    new CfnOutput(this, 'NodeApiUrl', {
      description:
        "Base URL of the node-facing boot-action routes (no IAM: each node's boot-action key)",
      value: api.url,
    });
    return api;
  }

  /**
   * The REQUEST authoriser of a Keystone API. API Gateway's result cache is off: it would keep
   * whatever the authoriser said (refusals included) for its whole TTL, keyed by the token alone,
   * and could not honour a token's expiry; the authoriser keeps positive answers itself, bounded
   * by `keystoneCacheSeconds` and by the token's `expires_at`. A request without `X-Auth-Token`
   * is refused by API Gateway (401) without invoking it.
   */
  private keystoneRequestAuthorizer(id: string): apigateway.RequestAuthorizer {
    if (!this.keystoneAuthorizer) throw new Error('the Keystone authoriser function is missing');
    return new apigateway.RequestAuthorizer(this, id, {
      handler: this.keystoneAuthorizer,
      authorizerName: `${this.config.prefix}-keystone`,
      identitySources: [apigateway.IdentitySource.header('X-Auth-Token')],
      resultsCacheTtl: Duration.seconds(0),
    });
  }

  /**
   * The authoriser's refusals in Drydock's `return_error` shape: 401 (missing or bad token, with
   * Keystone's `WWW-Authenticate` as keystonemiddleware sends it) and 503 when it could not ask
   * Keystone (AUTHORIZER_FAILURE: the authoriser threw), so clients retry instead of
   * re-authenticating.
   */
  private keystoneErrorResponses(api: apigateway.RestApi): void {
    const keystone = this.config.keystone;
    const body = (message: string, retry: boolean) =>
      `{"type":"error","message":${JSON.stringify(message)},"retry":${retry},"request_id":"$context.requestId"}`;
    api.addGatewayResponse('Unauthenticated', {
      type: apigateway.ResponseType.UNAUTHORIZED,
      statusCode: '401',
      responseHeaders: keystone ? { 'WWW-Authenticate': `'Keystone uri="${keystone.url}"'` } : {},
      templates: { 'application/json': body(UNAUTHENTICATED_MESSAGE, false) },
    });
    api.addGatewayResponse('IdentityUnavailable', {
      type: apigateway.ResponseType.AUTHORIZER_FAILURE,
      statusCode: '503',
      templates: { 'application/json': body(IDENTITY_UNAVAILABLE_MESSAGE, true) },
    });
  }

  /**
   * A custom domain serving `api` at its root: Drydock's CLI and Shipyard build their URLs as
   * `<scheme>://<host>[:port]/api/v1.0/…` and drop any path of the endpoint they are given, so
   * the stage's `/dev` prefix must go. TLS 1.2 at least.
   */
  private customDomain(domain: ApiDomainConfig, api: apigateway.RestApi): void {
    const name = new apigateway.DomainName(this, 'ApiDomain', {
      domainName: domain.name,
      certificate: acm.Certificate.fromCertificateArn(
        this,
        'ApiCertificate',
        domain.certificateArn,
      ),
      endpointType: apigateway.EndpointType.REGIONAL,
      securityPolicy: apigateway.SecurityPolicy.TLS_1_2,
    });
    name.addBasePathMapping(api, { stage: api.deploymentStage });
    new CfnOutput(this, 'ApiDomainUrl', {
      description: "The API at the domain's root: the URL Drydock's clients are given",
      value: `https://${domain.name}/`,
    });
    new CfnOutput(this, 'ApiDomainTarget', {
      description: `Point ${domain.name} here (DNS CNAME, or a Route 53 alias with ApiDomainHostedZoneId)`,
      value: name.domainNameAliasDomainName,
    });
    new CfnOutput(this, 'ApiDomainHostedZoneId', { value: name.domainNameAliasHostedZoneId });
  }

  /**
   * A request validator with a "JSON object" body model for the POST routes that take one:
   * malformed JSON and empty bodies are refused before a function is billed. Finer checks stay in
   * the functions' zod schemas, the single source of truth.
   */
  private jsonObjectValidation(api: apigateway.RestApi): apigateway.MethodOptions {
    // Parameters too: no method declares a required one today, and any added later is enforced.
    const validator = api.addRequestValidator('RequestValidator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const model = api.addModel('JsonObject', {
      contentType: 'application/json',
      schema: {
        schema: apigateway.JsonSchemaVersion.DRAFT4,
        type: apigateway.JsonSchemaType.OBJECT,
      },
    });
    return { requestValidator: validator, requestModels: { 'application/json': model } };
  }

  /** API Gateway's own errors in Drydock's error body, so clients parse one shape. */
  private drydockErrorResponses(api: apigateway.RestApi): void {
    const body = (retry: boolean) =>
      `{"type":"error","message":$context.error.messageString,"retry":${retry},"request_id":"$context.requestId"}`;
    const responses: [string, apigateway.ResponseType, string, boolean][] = [
      ['BadRequestBody', apigateway.ResponseType.BAD_REQUEST_BODY, '400', false],
      ['RequestTooLarge', apigateway.ResponseType.REQUEST_TOO_LARGE, '413', false],
      ['Throttled', apigateway.ResponseType.THROTTLED, '429', true],
      ['Default4xx', apigateway.ResponseType.DEFAULT_4XX, '', false],
      ['Default5xx', apigateway.ResponseType.DEFAULT_5XX, '', true],
    ];
    for (const [id, type, statusCode, retry] of responses) {
      api.addGatewayResponse(id, {
        type,
        ...(statusCode ? { statusCode } : {}),
        templates: { 'application/json': body(retry) },
      });
    }
  }

  /**
   * What a caller attaches to call the API and send to the queues, nothing else. Without an
   * IAM-authorised API (`apiAuth=keystone`) it covers the queues only: IAM decides nothing there.
   */
  private createCallerPolicy(): iam.ManagedPolicy {
    const queues = [this.queues.tasks, this.queues.messages, this.queues.buildData];
    const iamApi = this.config.api.auth === 'keystone' ? undefined : this.api;
    const policy = new iam.ManagedPolicy(this, 'CallerPolicy', {
      description: iamApi
        ? `${this.config.prefix}: call the API (SigV4) and send events to its queues`
        : `${this.config.prefix}: send events to the service's queues`,
      statements: [
        ...(iamApi
          ? [
              new iam.PolicyStatement({
                actions: ['execute-api:Invoke'],
                resources: [iamApi.arnForExecuteApi('*', '/*', this.config.stage)],
              }),
            ]
          : []),
        new iam.PolicyStatement({
          actions: ['sqs:SendMessage', 'sqs:GetQueueUrl'],
          resources: queues.map((q) => q.queue.queueArn),
        }),
      ],
    });
    if (iamApi) {
      const apiLogicalId = this.getLogicalId(iamApi.node.defaultChild as CfnElement);
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiLogicalId}>/${this.config.stage}/*/*]`,
        reason:
          'execute-api:Invoke on this API and stage only; the trailing method/path wildcard covers the service routes a caller is meant to use, and IAM has no narrower form for "every route of one API".',
      });
    }
    return policy;
  }

  private functionErrorAlarms(functions: StatelessStack['functions']): void {
    const all: [string, ServiceFunction][] = Object.entries(functions);
    if (this.keystoneAuthorizer) all.push(['keystoneAuthorizer', this.keystoneAuthorizer]);
    for (const [name, fn] of all) {
      const alarm = new cloudwatch.Alarm(this, `${constructIdOf(name)}Errors`, {
        alarmDescription: `${this.config.prefix}: ${name} function errors (unhandled exceptions, timeouts)`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      if (this.alarmAction) alarm.addAlarmAction(this.alarmAction);
    }
    const apis: [string, apigateway.RestApi][] = [
      ['Api', this.api],
      ['NodeApi', this.nodeApi],
    ];
    if (this.keystoneApi && this.keystoneApi !== this.api) {
      apis.push(['KeystoneApi', this.keystoneApi]);
    }
    for (const [id, api] of apis) {
      // Keystone outages surface here too: the authoriser's failures are answered 503.
      const serverErrors = new cloudwatch.Alarm(this, `${id}ServerErrors`, {
        alarmDescription: `${this.config.prefix}: ${id === 'Api' ? 'API' : id === 'NodeApi' ? 'node API' : 'Keystone API'} 5xx responses`,
        metric: api.metricServerError({
          period: Duration.minutes(5),
          statistic: cloudwatch.Stats.SUM,
        }),
        threshold: 5,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      if (this.alarmAction) serverErrors.addAlarmAction(this.alarmAction);
    }
  }

  private outputs(): void {
    new CfnOutput(this, 'ApiUrl', {
      description:
        this.config.api.auth === 'keystone'
          ? 'Base URL; routes are under api/v1.0/ (a Keystone token in X-Auth-Token)'
          : 'Base URL; routes are under api/v1.0/ (SigV4, service execute-api)',
      value: this.api.url,
    });
    if (this.keystoneApi && this.keystoneApi !== this.api) {
      new CfnOutput(this, 'KeystoneApiUrl', {
        description: 'Base URL of the same routes for Keystone tokens (X-Auth-Token)',
        value: this.keystoneApi.url,
      });
    }
    const queues: [string, ServiceQueue][] = [
      ['TaskQueue', this.queues.tasks],
      ['MessageQueue', this.queues.messages],
      ['BuildDataQueue', this.queues.buildData],
    ];
    for (const [name, queue] of queues) {
      new CfnOutput(this, `${name}Url`, { value: queue.queue.queueUrl });
      new CfnOutput(this, `${name}Arn`, { value: queue.queue.queueArn });
    }
    new CfnOutput(this, 'CallerPolicyArn', {
      description: 'Attach to a role or user that calls the API or sends queue events',
      value: this.callerPolicy.managedPolicyArn,
    });
  }
}

/** X-Ray's two write actions support no resource-level permission: acknowledged per role. */
function acknowledgeTracing(fn: ServiceFunction): void {
  const policy = fn.role?.node.tryFindChild('DefaultPolicy');
  if (policy) {
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so AWS requires Resource "*".',
    });
  }
}
