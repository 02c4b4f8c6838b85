/**
 * Deployment configuration: one typed object per stage, built from the stage's defaults below and
 * overridden key by key with CDK context (`cdk.json` or `-c key=value`). Everything the stacks
 * vary by stage goes through here, so the stacks hold no stage conditionals of their own beyond
 * `isLocal` and `isProd`.
 */
import type { Node } from 'constructs';
import { parse as parseYaml } from 'yaml';
import { PolicyError, parsePolicyDocument } from '#shared/auth/policy.ts';
import type { DesignConfig as RuntimeDesignConfig } from '#shared/config.ts';
import { ACTIONS } from '#shared/domain.ts';

/** The stages the app knows; `local` targets LocalStack's free services. */
export const STAGE_NAMES = ['dev', 'prod', 'local'] as const;

/** One of {@link STAGE_NAMES}. */
export type StageName = (typeof STAGE_NAMES)[number];

/** The Powertools service name, the stack name prefix and the tag on every resource. */
export const SERVICE_NAME = 'drydock-statemgmt';

/** Settings of the Aurora cluster (ignored by the `local` stage, which has no cluster). */
export interface DatabaseConfig {
  /** Database created in the cluster and passed to the functions as `DB_NAME`. */
  readonly name: string;
  /** Serverless v2 minimum capacity in ACU; 0 enables auto-pause (dev without schedule only). */
  readonly minCapacity: number;
  /** Serverless v2 maximum capacity in ACU. */
  readonly maxCapacity: number;
  /** Idle minutes before an auto-pause; used only when `minCapacity` is 0. */
  readonly autoPauseMinutes: number;
  /** Serverless v2 readers in another AZ, for failover (the Data API only talks to the writer). */
  readonly readers: number;
  /** Days of automated backups (1–35). */
  readonly backupRetentionDays: number;
}

/**
 * Settings of the design-reference function; secrets and buckets are granted only when set. The
 * runtime's own settings (`shared/config.ts`) by the same names, plus the buckets to grant and
 * the platform lists as the stage file writes them (empty: reported as not checked).
 */
export interface DesignConfig
  extends Pick<
    RuntimeDesignConfig,
    | 'fileRoots'
    | 'allowHosts'
    | 'httpCredentialsSecretArn'
    | 'keystoneSecretArn'
    | 'maxBytes'
    | 'cacheTtlSeconds'
  > {
  /** Buckets the design function may read `s3://` references from. */
  readonly s3Buckets: readonly string[];
  readonly platformImages: readonly string[];
  readonly platformKernels: readonly string[];
}

/** Who may call the API: SigV4 (IAM), a Keystone token, or either on its own API. */
export const API_AUTH_MODES = ['iam', 'keystone', 'both'] as const;

/** One of {@link API_AUTH_MODES}. */
export type ApiAuth = (typeof API_AUTH_MODES)[number];

/** The Keystone authoriser's settings; set when `apiAuth` is `keystone` or `both`. */
export interface KeystoneStageConfig {
  /** Keystone's identity endpoint, reachable from Lambda (`https://keystone.example:5000/v3`). */
  readonly url: string;
  /** Complete ARN of the secret holding the service's own Keystone credentials. */
  readonly secretArn: string;
  /** Seconds a positive validation is reused (0–3600). */
  readonly cacheSeconds: number;
  /** Bound on each request to Keystone. */
  readonly timeoutMs: number;
  /** Rule name → check string overrides (Drydock's policy.yaml), already validated. */
  readonly policy: Readonly<Record<string, string>>;
}

/** A custom domain serving an API at its root (Drydock's clients drop any base path). */
export interface ApiDomainConfig {
  readonly name: string;
  /** ACM certificate for `name`, in the stack's region. */
  readonly certificateArn: string;
}

/** What the stage decides about events and metrics (CDK context, see infra/README.md). */
export interface ObservabilityConfig {
  /** An existing bus by name (`default`); undefined: the stack creates `<prefix>-events`. */
  readonly eventBusName: string | undefined;
  /** SNS topic ARN told when a `deploy_nodes` task fails (the example rule); none: no rule. */
  readonly deployFailureTopicArn: string | undefined;
  /** Seconds a task may run before it counts as stuck, and per-action overrides. */
  readonly stuckRunningSeconds: number;
  readonly stuckRunningBounds: Readonly<Record<string, number>>;
  /** Alarm when the oldest queued task is older than this (seconds). */
  readonly oldestQueuedAlarmSeconds: number;
  /** Alarm when this many lease takeovers happen within 15 minutes. */
  readonly takeoverAlarmCount: number;
}

/** Everything the stacks read. */
export interface StageConfig {
  readonly stage: StageName;
  /** LocalStack: no VPC, no Aurora, the `pg` driver against a Postgres server. */
  readonly isLocal: boolean;
  /** Production: deletion protection, retained data, longer log retention. */
  readonly isProd: boolean;
  /** Prefix of the stack names, e.g. `drydock-statemgmt-dev`. */
  readonly prefix: string;
  readonly database: DatabaseConfig;
  /** `local` stage only: the Postgres URL stored in a Secrets Manager secret for the functions. */
  readonly databaseUrl: string;
  /** Whether the one-minute EventBridge rule invokes the leader function. */
  readonly schedule: boolean;
  readonly logLevel: string;
  readonly logRetentionDays: number;
  /**
   * Lambda architecture: arm64 by default (cheaper per GB-second). The bundles are plain
   * JavaScript, so `x86_64` is safe where arm64 is not available, such as LocalStack on an x86 host.
   */
  readonly lambdaArchitecture: 'arm64' | 'x86_64';
  readonly api: {
    readonly rateLimit: number;
    readonly burstLimit: number;
    /** Function-level body cap (`MAX_BODY_BYTES`); API Gateway's own hard cap is 10 MB. */
    readonly maxBodyBytes: number;
    /** `iam` (one API, SigV4), `keystone` (one API, tokens) or `both` (one API of each). */
    readonly auth: ApiAuth;
    /** The custom domain of the API Drydock's clients use (the Keystone one when there is one). */
    readonly domain: ApiDomainConfig | undefined;
  };
  readonly keystone: KeystoneStageConfig | undefined;
  /** Upper bound of concurrent Lambda pollers per SQS queue, to protect the database. */
  readonly queueMaxConcurrency: number;
  readonly leaseGraceSeconds: number;
  /**
   * Unset (the default): the lease schedule holds no lease and recovers dead leaders' work. Set
   * only for an orchestrator running inside the scheduled function: the schedule then claims and
   * renews the lease for this instance id (`LEASE_MODE=hold`).
   */
  readonly leaseHoldInstanceId: string | undefined;
  readonly retentionDays: number;
  readonly retentionBatchSize: number;
  readonly design: DesignConfig;
  /** SNS topic ARN the alarms notify, or undefined for alarms without actions. */
  readonly alarmTopicArn: string | undefined;
  /** The event bus, the example rule and the metric alarms (infra/README.md). */
  readonly observability: ObservabilityConfig;
}

/** API Gateway refuses payloads above 10 MB whatever the settings; the function cap must fit. */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** The Postgres URL the `local` stage uses when `-c databaseUrl=…` is not given. */
export const DEFAULT_LOCAL_DATABASE_URL =
  'postgres://postgres:postgres@host.docker.internal:5432/drydock';

type Defaults = Omit<
  StageConfig,
  'stage' | 'isLocal' | 'isProd' | 'prefix' | 'api' | 'keystone'
> & {
  readonly api: Omit<StageConfig['api'], 'auth' | 'domain'>;
};

const BASE: Defaults = {
  database: {
    name: 'drydock',
    minCapacity: 0.5,
    maxCapacity: 4,
    autoPauseMinutes: 10,
    readers: 0,
    backupRetentionDays: 7,
  },
  databaseUrl: DEFAULT_LOCAL_DATABASE_URL,
  schedule: true,
  logLevel: 'INFO',
  logRetentionDays: 30,
  lambdaArchitecture: 'arm64',
  // 1 MiB, as the functions' own default: no Drydock body comes close.
  api: { rateLimit: 100, burstLimit: 200, maxBodyBytes: 1024 * 1024 },
  queueMaxConcurrency: 5,
  leaseGraceSeconds: 90,
  leaseHoldInstanceId: undefined,
  retentionDays: 90,
  retentionBatchSize: 500,
  design: {
    fileRoots: [],
    allowHosts: [],
    httpCredentialsSecretArn: undefined,
    keystoneSecretArn: undefined,
    s3Buckets: [],
    maxBytes: 10 * 1024 * 1024,
    cacheTtlSeconds: 300,
    platformImages: [],
    platformKernels: [],
  },
  alarmTopicArn: undefined,
  observability: {
    eventBusName: undefined,
    deployFailureTopicArn: undefined,
    stuckRunningSeconds: 3600,
    stuckRunningBounds: {},
    oldestQueuedAlarmSeconds: 900,
    takeoverAlarmCount: 2,
  },
};

const STAGE_DEFAULTS: Record<StageName, Defaults> = {
  dev: { ...BASE, logLevel: 'DEBUG', logRetentionDays: 14 },
  prod: {
    ...BASE,
    database: { ...BASE.database, maxCapacity: 16, readers: 1, backupRetentionDays: 14 },
    logRetentionDays: 365,
    api: { ...BASE.api, rateLimit: 500, burstLimit: 1000 },
    queueMaxConcurrency: 10,
  },
  local: { ...BASE, logLevel: 'DEBUG', logRetentionDays: 7 },
};

/** Thrown when a context value cannot be used; the message names the key and the fix. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type ContextReader = Pick<Node, 'tryGetContext'>;

/**
 * Builds the stage configuration from CDK context. `stage` picks the defaults (default `dev`);
 * every other key overrides one setting. Values from `-c` arrive as strings, values from
 * `cdk.json` as JSON, so both are accepted.
 */
export function resolveStageConfig(node: ContextReader): StageConfig {
  const stage = String(node.tryGetContext('stage') ?? 'dev');
  if (!isStageName(stage)) {
    throw new ConfigError(
      `context stage=${stage} is unknown; use one of ${STAGE_NAMES.join(', ')}`,
    );
  }
  const d = STAGE_DEFAULTS[stage];
  const num = (key: string, fallback: number) => readNumber(node, key, fallback);
  const config: StageConfig = {
    stage,
    isLocal: stage === 'local',
    isProd: stage === 'prod',
    prefix: `${SERVICE_NAME}-${stage}`,
    database: {
      name: readString(node, 'dbName', d.database.name),
      minCapacity: num('dbMinCapacity', d.database.minCapacity),
      maxCapacity: num('dbMaxCapacity', d.database.maxCapacity),
      autoPauseMinutes: num('dbAutoPauseMinutes', d.database.autoPauseMinutes),
      readers: num('dbReaders', d.database.readers),
      backupRetentionDays: num('dbBackupRetentionDays', d.database.backupRetentionDays),
    },
    databaseUrl: readString(node, 'databaseUrl', d.databaseUrl),
    schedule: readBoolean(node, 'schedule', d.schedule),
    logLevel: readString(node, 'logLevel', d.logLevel).toUpperCase(),
    logRetentionDays: num('logRetentionDays', d.logRetentionDays),
    lambdaArchitecture: readArchitecture(node, d.lambdaArchitecture),
    api: {
      rateLimit: num('apiRateLimit', d.api.rateLimit),
      burstLimit: num('apiBurstLimit', d.api.burstLimit),
      maxBodyBytes: num('maxBodyBytes', d.api.maxBodyBytes),
      auth: readApiAuth(node),
      domain: readApiDomain(node),
    },
    keystone: undefined,
    queueMaxConcurrency: num('queueMaxConcurrency', d.queueMaxConcurrency),
    leaseGraceSeconds: num('leaseGraceSeconds', d.leaseGraceSeconds),
    leaseHoldInstanceId: readOptionalString(node, 'leaseHoldInstanceId'),
    retentionDays: num('retentionDays', d.retentionDays),
    retentionBatchSize: num('retentionBatchSize', d.retentionBatchSize),
    design: {
      fileRoots: readList(node, 'designFileRoots', d.design.fileRoots),
      allowHosts: readList(node, 'designAllowHosts', d.design.allowHosts),
      httpCredentialsSecretArn: readSecretArn(node, 'designHttpCredentialsSecretArn'),
      keystoneSecretArn: readSecretArn(node, 'designKeystoneSecretArn'),
      s3Buckets: readList(node, 'designS3Buckets', d.design.s3Buckets),
      maxBytes: num('designMaxBytes', d.design.maxBytes),
      cacheTtlSeconds: num('designCacheTtlSeconds', d.design.cacheTtlSeconds),
      platformImages: readList(node, 'designPlatformImages', d.design.platformImages),
      platformKernels: readList(node, 'designPlatformKernels', d.design.platformKernels),
    },
    alarmTopicArn: readOptionalString(node, 'alarmTopicArn'),
    observability: {
      eventBusName: readOptionalString(node, 'eventBusName'),
      deployFailureTopicArn: readOptionalString(node, 'deployFailureTopicArn'),
      stuckRunningSeconds: num('stuckRunningSeconds', d.observability.stuckRunningSeconds),
      stuckRunningBounds: readBounds(
        node,
        'stuckRunningBounds',
        d.observability.stuckRunningBounds,
      ),
      oldestQueuedAlarmSeconds: num(
        'oldestQueuedAlarmSeconds',
        d.observability.oldestQueuedAlarmSeconds,
      ),
      takeoverAlarmCount: num('takeoverAlarmCount', d.observability.takeoverAlarmCount),
    },
  };
  validate(config);
  return { ...config, keystone: readKeystone(node, config) };
}

function readApiAuth(node: ContextReader): ApiAuth {
  const value = readString(node, 'apiAuth', 'iam');
  if (!(API_AUTH_MODES as readonly string[]).includes(value)) {
    throw new ConfigError(`context apiAuth must be one of ${API_AUTH_MODES.join(', ')}`);
  }
  return value as ApiAuth;
}

function readApiDomain(node: ContextReader): ApiDomainConfig | undefined {
  const name = readOptionalString(node, 'apiDomainName');
  const certificateArn = readOptionalString(node, 'apiCertificateArn');
  if (name === undefined && certificateArn === undefined) return undefined;
  if (name === undefined || certificateArn === undefined) {
    throw new ConfigError('context apiDomainName and apiCertificateArn go together');
  }
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(name)) {
    throw new ConfigError('context apiDomainName must be a lower-case DNS name');
  }
  if (!/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/.test(certificateArn)) {
    throw new ConfigError('context apiCertificateArn must be an ACM certificate ARN');
  }
  return { name, certificateArn };
}

/** Lambda's whole environment is capped at 4 KB; the policy must leave room for the rest. */
const MAX_POLICY_CHARS = 3_000;

function readKeystone(node: ContextReader, config: StageConfig): KeystoneStageConfig | undefined {
  const keys = [
    'keystoneUrl',
    'keystoneSecretArn',
    'keystoneCacheSeconds',
    'keystoneTimeoutMs',
    'keystonePolicy',
  ];
  if (config.api.auth === 'iam') {
    const set = keys.filter((key) => readRaw(node, key) !== undefined);
    if (set.length > 0) {
      throw new ConfigError(
        `context ${set.join(', ')} only apply with apiAuth=keystone or apiAuth=both`,
      );
    }
    return undefined;
  }
  const url = readOptionalString(node, 'keystoneUrl');
  if (url === undefined) {
    throw new ConfigError(`context apiAuth=${config.api.auth} needs keystoneUrl`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('context keystoneUrl must be a URL');
  }
  if (parsed.protocol !== 'https:' && (config.isProd || parsed.protocol !== 'http:')) {
    throw new ConfigError(
      config.isProd
        ? 'context keystoneUrl must be https:// in prod'
        : 'context keystoneUrl must be http(s)://',
    );
  }
  const secretArn = readSecretArn(node, 'keystoneSecretArn');
  if (secretArn === undefined) {
    throw new ConfigError(`context apiAuth=${config.api.auth} needs keystoneSecretArn`);
  }
  const cacheSeconds = readNumber(node, 'keystoneCacheSeconds', 60);
  if (!Number.isInteger(cacheSeconds) || cacheSeconds < 0 || cacheSeconds > 3_600) {
    throw new ConfigError('context keystoneCacheSeconds must be an integer from 0 to 3600');
  }
  const timeoutMs = readNumber(node, 'keystoneTimeoutMs', 5_000);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 25_000) {
    throw new ConfigError('context keystoneTimeoutMs must be an integer from 100 to 25000');
  }
  const raw = readRaw(node, 'keystonePolicy');
  if (raw !== undefined && typeof raw !== 'string' && (typeof raw !== 'object' || raw === null)) {
    throw new ConfigError('context keystonePolicy must be a mapping or a YAML/JSON string');
  }
  let policy: Readonly<Record<string, string>>;
  try {
    // Drydock's policy.yaml pasted as is, JSON, or a cdk.json mapping; the function gets JSON.
    let document: unknown = raw;
    if (typeof raw === 'string') {
      try {
        document = parseYaml(raw);
      } catch (error) {
        throw new PolicyError(
          `context keystonePolicy is neither YAML nor JSON: ${(error as Error).message.split('\n')[0]}`,
        );
      }
    }
    policy = parsePolicyDocument(
      document as Record<string, unknown> | undefined,
      'context keystonePolicy',
    );
  } catch (error) {
    if (error instanceof PolicyError) throw new ConfigError(error.message);
    throw error;
  }
  if (JSON.stringify(policy).length > MAX_POLICY_CHARS) {
    throw new ConfigError(
      `context keystonePolicy is over ${MAX_POLICY_CHARS} characters as JSON (Lambda's environment holds 4 KB)`,
    );
  }
  return { url, secretArn, cacheSeconds, timeoutMs, policy };
}

function readRaw(node: ContextReader, key: string): unknown {
  const value: unknown = node.tryGetContext(key);
  return value === null || value === '' ? undefined : value;
}

function validate(config: StageConfig): void {
  const { database: db, api } = config;
  if (
    db.minCapacity !== 0 &&
    (db.minCapacity < 0.5 || db.minCapacity * 2 !== Math.round(db.minCapacity * 2))
  ) {
    throw new ConfigError('dbMinCapacity must be 0 or a multiple of 0.5 from 0.5');
  }
  if (db.maxCapacity < Math.max(1, db.minCapacity) || db.maxCapacity > 256) {
    throw new ConfigError('dbMaxCapacity must be between max(1, dbMinCapacity) and 256');
  }
  if (db.minCapacity === 0) {
    // A paused writer resumes on the next connection, and the one-minute lease schedule opens one
    // every minute while the pause needs at least five idle minutes: with the schedule, 0 ACU
    // never pauses and only adds resume latency. Production must not wait ~15-30 s on a resume.
    if (config.isProd) throw new ConfigError('dbMinCapacity=0 (auto-pause) is not allowed in prod');
    if (config.schedule) {
      throw new ConfigError(
        'dbMinCapacity=0 needs -c schedule=false: the one-minute lease schedule keeps the writer awake, so auto-pause would never happen',
      );
    }
    if (db.autoPauseMinutes < 5 || db.autoPauseMinutes > 1440) {
      throw new ConfigError('dbAutoPauseMinutes must be between 5 and 1440');
    }
  }
  if (!Number.isInteger(db.readers) || db.readers < 0 || db.readers > 15) {
    throw new ConfigError('dbReaders must be an integer from 0 to 15');
  }
  if (
    !Number.isInteger(db.backupRetentionDays) ||
    db.backupRetentionDays < 1 ||
    db.backupRetentionDays > 35
  ) {
    throw new ConfigError('dbBackupRetentionDays must be an integer from 1 to 35');
  }
  if (api.maxBodyBytes < 64 || api.maxBodyBytes > API_GATEWAY_MAX_BODY_BYTES) {
    throw new ConfigError(
      `maxBodyBytes must be between 64 and ${API_GATEWAY_MAX_BODY_BYTES} (API Gateway's cap)`,
    );
  }
  const o = config.observability;
  if (
    !Number.isInteger(o.stuckRunningSeconds) ||
    o.stuckRunningSeconds < 60 ||
    o.stuckRunningSeconds > 604_800
  ) {
    throw new ConfigError(
      'stuckRunningSeconds must be a whole number of seconds from 60 to 604800',
    );
  }
  if (o.oldestQueuedAlarmSeconds < 60) {
    throw new ConfigError(
      'oldestQueuedAlarmSeconds must be at least 60 (the schedule measures once a minute)',
    );
  }
  if (!Number.isInteger(o.takeoverAlarmCount) || o.takeoverAlarmCount < 1) {
    throw new ConfigError('takeoverAlarmCount must be a positive whole number');
  }
  if (
    o.deployFailureTopicArn &&
    !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/.test(o.deployFailureTopicArn)
  ) {
    throw new ConfigError('deployFailureTopicArn must be an SNS topic ARN');
  }
  if (config.queueMaxConcurrency < 2 || config.queueMaxConcurrency > 1000) {
    throw new ConfigError('queueMaxConcurrency must be between 2 and 1000 (Lambda limits)');
  }
  if (!config.design.fileRoots.every((root) => root.startsWith('/'))) {
    throw new ConfigError('designFileRoots must be absolute folders');
  }
  if (config.isLocal && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    throw new ConfigError('databaseUrl must be a postgres:// URL');
  }
  for (const [key, value] of [
    ['apiRateLimit', api.rateLimit],
    ['apiBurstLimit', api.burstLimit],
    ['logRetentionDays', config.logRetentionDays],
    ['leaseGraceSeconds', config.leaseGraceSeconds],
    ['retentionDays', config.retentionDays],
    ['retentionBatchSize', config.retentionBatchSize],
    ['designMaxBytes', config.design.maxBytes],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new ConfigError(`${key} must be a positive integer`);
    }
  }
}

function readArchitecture(
  node: ContextReader,
  fallback: StageConfig['lambdaArchitecture'],
): StageConfig['lambdaArchitecture'] {
  const value = readString(node, 'lambdaArchitecture', fallback);
  if (value !== 'arm64' && value !== 'x86_64') {
    throw new ConfigError('context lambdaArchitecture must be arm64 or x86_64');
  }
  return value;
}

/**
 * Per-action bounds in seconds: a JSON object (`cdk.json`, or its text with `-c`), each bound an
 * integer of 60 s to 7 days, each key an action name.
 */
function readBounds(
  node: ContextReader,
  key: string,
  fallback: Readonly<Record<string, number>>,
): Readonly<Record<string, number>> {
  const raw: unknown = node.tryGetContext(key);
  if (raw === undefined || raw === null || raw === '') return fallback;
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new ConfigError(`context ${key} must be a JSON object of action: seconds`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`context ${key} must be a JSON object of action: seconds`);
  }
  for (const [action, seconds] of Object.entries(value)) {
    if (!(ACTIONS as readonly string[]).includes(action)) {
      throw new ConfigError(`context ${key}: ${action} is not an action`);
    }
    if (!Number.isInteger(seconds) || (seconds as number) < 60 || (seconds as number) > 604_800) {
      throw new ConfigError(`context ${key}: ${action} must be 60 to 604800 seconds`);
    }
  }
  return value as Record<string, number>;
}

function isStageName(value: string): value is StageName {
  return (STAGE_NAMES as readonly string[]).includes(value);
}

function readOptionalString(node: ContextReader, key: string): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ConfigError(`context ${key} must be a string`);
  return value;
}

function readString(node: ContextReader, key: string, fallback: string): string {
  return readOptionalString(node, key) ?? fallback;
}

function readNumber(node: ContextReader, key: string, fallback: number): number {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return fallback;
  const parsed = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(parsed))
    throw new ConfigError(`context ${key}=${String(value)} is not a number`);
  return parsed;
}

function readBoolean(node: ContextReader, key: string, fallback: boolean): boolean {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ConfigError(`context ${key} must be true or false`);
}

/** A JSON array (cdk.json) or a comma-separated string (`-c key=a,b`). */
function readList(
  node: ContextReader,
  key: string,
  fallback: readonly string[],
): readonly string[] {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return fallback;
  const items = Array.isArray(value) ? value : String(value).split(',');
  return items.map((item) => String(item).trim()).filter((item) => item.length > 0);
}

/**
 * A complete secret ARN (with the six-character suffix), so the grant names exactly one secret
 * rather than the `-??????` wildcard a partial ARN needs.
 */
function readSecretArn(node: ContextReader, key: string): string | undefined {
  const value = readOptionalString(node, key);
  if (value === undefined) return undefined;
  if (!/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/.test(value)) {
    throw new ConfigError(`context ${key} must be a complete secret ARN (ending in -XXXXXX)`);
  }
  return value;
}
