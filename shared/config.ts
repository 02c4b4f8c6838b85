import * as z from '#shared/zod.ts';
import { DEFAULT_LEASE_GRACE_SECONDS } from './domain.ts';
import { LIMITS } from './limits.ts';

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'CRITICAL'] as const;

/** An integer env var: digits only, so `'1e3'`, `' 5'` and `'0x10'` are refused, not guessed at. */
const intVar = (min: number, max: number) =>
  z.pipe(
    z.pipe(z.string().check(z.regex(/^\d+$/, 'expected a whole number')), z.transform(Number)),
    z.int().check(z.gte(min)).check(z.lte(max)),
  );

const listVar = z.pipe(
  z.string(),
  z.transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  ),
);

/**
 * A `DESIGN_ALLOW_HOSTS` entry: `host`, `host:port`, `[ipv6]`, `[ipv6]:port` or a bare IPv6
 * address. A bare host exempts the scheme's default port only (see `address-guard.ts`).
 */
const ALLOW_ENTRY =
  /^(?:\[[0-9a-fA-F:.]+\]|[^:[\]\s]+)(?::(?:[1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5]))?$|^[0-9a-fA-F:]*:[0-9a-fA-F:.]*$/;

const arn = z.string().check(z.regex(/^arn:aws[a-zA-Z-]*:[a-z0-9-]+:/, 'expected an ARN'));

/**
 * Every environment variable the service reads, in one schema. Unknown variables are ignored
 * (the Lambda runtime sets dozens); the ones listed here are checked strictly.
 */
const EnvSchema = z
  .object({
    DB_DRIVER: z._default(z.enum(['pglite', 'pg', 'data-api']), 'pglite'),
    DATABASE_URL: z.optional(
      z.string().check(z.regex(/^postgres(ql)?:\/\//, 'expected postgres://…')),
    ),
    DATABASE_SECRET_ARN: z.optional(arn),
    DB_CLUSTER_ARN: z.optional(arn),
    DB_SECRET_ARN: z.optional(arn),
    DB_NAME: z.optional(z.string().check(z.minLength(1))),
    PGLITE_DATA_DIR: z._default(z.string().check(z.minLength(1)), '.data/pglite'),
    // Under the API functions' 30 s: a statement past it is cancelled by the server, and the
    // client gives up 2 s later on a database that stopped answering altogether (503).
    DB_STATEMENT_TIMEOUT_MS: z._default(intVar(100, 300_000), 25_000),
    LEASE_GRACE_SECONDS: z._default(intVar(1, LIMITS.graceSeconds), DEFAULT_LEASE_GRACE_SECONDS),
    LEASE_MODE: z._default(z.enum(['watch', 'hold']), 'watch'),
    LEASE_INSTANCE_ID: z.optional(z.string().check(z.minLength(1)).check(z.maxLength(256))),
    RETENTION_DAYS: z._default(intVar(1, LIMITS.days), 90),
    RETENTION_BATCH_SIZE: z._default(intVar(1, LIMITS.retentionBatch), 500),
    LOG_LEVEL: z._default(
      z.pipe(
        z.pipe(
          z.string(),
          z.transform((v) => v.toUpperCase()),
        ),
        z.enum(LOG_LEVELS),
      ),
      'INFO',
    ),
    POWERTOOLS_SERVICE_NAME: z._default(z.string().check(z.minLength(1)), 'drydock-statemgmt'),
    // 1 MiB by default: API Gateway itself stops at 10 MB, and no Drydock body comes close.
    MAX_BODY_BYTES: z._default(intVar(64, 10 * 1024 * 1024), 1024 * 1024),
    DESIGN_FILE_ROOTS: z._default(
      listVar.check(
        z.refine((roots) => roots.every((root) => root.startsWith('/')), {
          message: 'every root must be an absolute folder',
        }),
      ),
      [],
    ),
    DESIGN_ALLOW_HOSTS: z._default(
      listVar.check(
        z.refine((hosts) => hosts.every((host) => ALLOW_ENTRY.test(host)), {
          message: 'every entry must be host, host:port, [ipv6] or [ipv6]:port',
        }),
      ),
      [],
    ),
    DESIGN_HTTP_CREDENTIALS_SECRET_ARN: z.optional(arn),
    DESIGN_KEYSTONE_SECRET_ARN: z.optional(arn),
    DESIGN_MAX_BYTES: z._default(intVar(1, 100 * 1024 * 1024), 4 * 1024 * 1024),
    DESIGN_CACHE_TTL_SECONDS: z._default(intVar(0, 86_400), 180),
    DESIGN_HTTP_TIMEOUT_MS: z._default(intVar(1, 900_000), 10_000),
    DESIGN_HTTP_RETRIES: z._default(intVar(0, 10), 2),
    KEYSTONE_URL: z.optional(z.url({ protocol: /^https?$/, error: 'expected an http(s):// URL' })),
    KEYSTONE_SECRET_ARN: z.optional(arn),
    KEYSTONE_SECRET_FILE: z.optional(
      z.string().check(z.startsWith('/', 'expected an absolute path')),
    ),
    KEYSTONE_CACHE_SECONDS: z._default(intVar(0, 3_600), 60),
    KEYSTONE_TIMEOUT_MS: z._default(intVar(100, 25_000), 5_000),
    KEYSTONE_POLICY: z.optional(z.string()),
    DESIGN_KEYSTONE_SECRET_FILE: z.optional(
      z.string().check(z.startsWith('/', 'expected an absolute path')),
    ),
    // OpenStack's own variables (an `openrc` file), for validating Deckhand designs locally.
    OS_AUTH_URL: z.optional(z.string().check(z.minLength(1))),
    OS_USERNAME: z.optional(z.string().check(z.minLength(1))),
    OS_PASSWORD: z.optional(z.string().check(z.minLength(1))),
    OS_PROJECT_NAME: z.optional(z.string().check(z.minLength(1))),
    OS_PROJECT_ID: z.optional(z.string().check(z.minLength(1))),
    OS_USER_DOMAIN_NAME: z.optional(z.string().check(z.minLength(1))),
    OS_PROJECT_DOMAIN_NAME: z.optional(z.string().check(z.minLength(1))),
    DESIGN_PLATFORM_IMAGES: z.optional(listVar),
    DESIGN_PLATFORM_KERNELS: z.optional(listVar),
    DESIGN_WORKERS: z._default(intVar(0, 16), 0),
    // Where nodes report boot actions (Drydock's `[bootactions] report_url`); unset: this
    // service's own URL as the node reached it.
    BOOTACTION_REPORT_URL: z.optional(
      z.url({ protocol: /^https?$/, error: 'expected an http(s):// URL' }),
    ),
    AWS_LAMBDA_FUNCTION_NAME: z.optional(z.string()),
    // Events (shared/notify/README.md): where the outbox is published, and when.
    EVENTS_SINK: z.optional(z.enum(['eventbridge', 'local', 'none'])),
    EVENT_BUS_NAME: z.optional(
      z.string().check(z.regex(/^[A-Za-z0-9._\-/:]{1,1600}$/, 'expected an event bus name or ARN')),
    ),
    EVENTS_PUBLISH: z._default(z.enum(['inline', 'schedule']), 'inline'),
    // API Gateway stops a request at 29 s: a wait answers by 25 s, leaving the read and the answer
    // room inside the API functions' 30 s.
    WAIT_MAX_SECONDS: z._default(intVar(0, 900), 25),
    METRICS: z.optional(z.enum(['emf', 'prometheus', 'off'])),
    METRICS_NAMESPACE: z._default(
      z.string().check(z.regex(/^[A-Za-z0-9._\-/#:]{1,255}$/, 'expected a CloudWatch namespace')),
      'DrydockStatemgmt',
    ),
    // Running longer than this (seconds, per action) counts as stuck: `{"deploy_nodes": 7200}`.
    STUCK_RUNNING_SECONDS: z._default(intVar(60, 604_800), 3600),
    STUCK_RUNNING_BOUNDS: z._default(
      z.pipe(
        z.pipe(
          z.string(),
          z.transform((text, ctx) => {
            try {
              return JSON.parse(text) as unknown;
            } catch {
              ctx.issues.push({ code: 'custom', message: 'expected a JSON object', input: text });
              return z.NEVER;
            }
          }),
        ),
        z.record(
          z.string().check(z.regex(/^[a-z_]{1,64}$/)),
          z.int().check(z.gte(60)).check(z.lte(604_800)),
        ),
      ),
      {},
    ),
  })
  .check(
    z.superRefine((env, ctx) => {
      // Holding the lease in the schedule is for an orchestrator that runs inside it, and only
      // then: a schedule renewing a lease for an orchestrator elsewhere keeps a dead one "alive".
      if (env.LEASE_MODE === 'hold' && !env.LEASE_INSTANCE_ID) {
        ctx.addIssue({
          code: 'custom',
          path: ['LEASE_INSTANCE_ID'],
          message: 'LEASE_MODE=hold needs LEASE_INSTANCE_ID (the orchestrator inside the schedule)',
        });
      }
      if (env.LEASE_MODE === 'watch' && env.LEASE_INSTANCE_ID) {
        ctx.addIssue({
          code: 'custom',
          path: ['LEASE_INSTANCE_ID'],
          message:
            'LEASE_INSTANCE_ID is read only with LEASE_MODE=hold; the schedule holds no lease otherwise',
        });
      }
      // On AWS the Keystone password lives in Secrets Manager, never in a file or the environment.
      if (env.AWS_LAMBDA_FUNCTION_NAME && (env.DESIGN_KEYSTONE_SECRET_FILE || env.OS_AUTH_URL)) {
        ctx.addIssue({
          code: 'custom',
          path: [env.OS_AUTH_URL ? 'OS_AUTH_URL' : 'DESIGN_KEYSTONE_SECRET_FILE'],
          message:
            'local Keystone credentials are for npm start; on AWS set DESIGN_KEYSTONE_SECRET_ARN',
        });
      }
      if (env.DB_DRIVER === 'pg' && !env.DATABASE_URL && !env.DATABASE_SECRET_ARN) {
        ctx.addIssue({
          code: 'custom',
          path: ['DATABASE_URL'],
          message: 'DB_DRIVER=pg needs DATABASE_URL or DATABASE_SECRET_ARN',
        });
      }
      if (env.KEYSTONE_URL && !env.KEYSTONE_SECRET_ARN && !env.KEYSTONE_SECRET_FILE) {
        ctx.addIssue({
          code: 'custom',
          path: ['KEYSTONE_SECRET_ARN'],
          message:
            'KEYSTONE_URL needs the service credentials: KEYSTONE_SECRET_ARN (or, locally, KEYSTONE_SECRET_FILE)',
        });
      }
      if (env.EVENTS_SINK === 'eventbridge' && !env.EVENT_BUS_NAME) {
        ctx.addIssue({
          code: 'custom',
          path: ['EVENT_BUS_NAME'],
          message: 'EVENTS_SINK=eventbridge needs EVENT_BUS_NAME (the bus name or ARN)',
        });
      }
      if (env.DB_DRIVER === 'data-api') {
        for (const key of ['DB_CLUSTER_ARN', 'DB_SECRET_ARN', 'DB_NAME'] as const) {
          if (!env[key]) {
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message: `DB_DRIVER=data-api needs ${key}`,
            });
          }
        }
      }
    }),
  );

/** How the composition root reaches the database. */
export type DbConfig =
  | { readonly driver: 'pglite'; readonly dataDir: string }
  | { readonly driver: 'pg'; readonly url: string; readonly statementTimeoutMs: number }
  | { readonly driver: 'pg'; readonly urlSecretArn: string; readonly statementTimeoutMs: number }
  | {
      readonly driver: 'data-api';
      readonly resourceArn: string;
      readonly secretArn: string;
      readonly database: string;
    };

/** The design settings `createDesignResolver(options)` and the design routes read. */
export interface DesignConfig {
  readonly fileRoots: readonly string[];
  readonly allowHosts: readonly string[];
  readonly httpCredentialsSecretArn: string | undefined;
  readonly keystoneSecretArn: string | undefined;
  /**
   * Keystone credentials outside AWS (`npm start`): a JSON file shaped like the secret, or the
   * `OS_*` variables of an openrc file. The secret ARN wins when both are set.
   */
  readonly keystoneLocal:
    | { readonly file: string }
    | { readonly env: Readonly<Record<string, string | undefined>> }
    | undefined;
  /** Images and kernels the provisioner offers (rule DD3001); null: not checked. */
  readonly platform: {
    readonly images: readonly string[] | null;
    readonly kernels: readonly string[] | null;
  };
  /** Worker threads that parse and validate designs; 0 = in the request's thread (Lambda). */
  readonly workers: number;
  readonly maxBytes: number;
  readonly cacheTtlSeconds: number;
  readonly httpTimeoutMs: number;
  readonly httpRetries: number;
}

/**
 * Keystone tokens for callers (`shared/auth/`): set when `KEYSTONE_URL` is. The policy document
 * is kept as text here and parsed by the authoriser when it starts, so a bad one fails there.
 */
export interface KeystoneConfig {
  readonly url: string;
  /** Secrets Manager ARN of the service's own credentials (`secretFile` instead, locally). */
  readonly secretArn: string | undefined;
  readonly secretFile: string | undefined;
  readonly cacheTtlSeconds: number;
  readonly timeoutMs: number;
  /** JSON mapping of rule name to check string (Drydock's `policy.yaml` shape). */
  readonly policy: string | undefined;
}

/** The service configuration: parsed once, frozen. */
export interface Config {
  readonly db: DbConfig;
  /**
   * `watch` (default): the schedule holds no lease; it recovers the work of dead epochs. `hold`:
   * the schedule claims and renews the lease for `instanceId`, an orchestrator running inside it.
   */
  readonly lease:
    | { readonly graceSeconds: number; readonly mode: 'watch' }
    | { readonly graceSeconds: number; readonly mode: 'hold'; readonly instanceId: string };
  readonly retention: { readonly days: number; readonly batchSize: number };
  readonly log: { readonly level: (typeof LOG_LEVELS)[number]; readonly serviceName: string };
  readonly http: { readonly maxBodyBytes: number };
  readonly design: DesignConfig;
  /** Undefined: no Keystone; the API is IAM-only on AWS and open locally. */
  readonly keystone: KeystoneConfig | undefined;
  readonly events: EventsConfig;
  readonly metrics: MetricsConfig;
  /** The URL nodes report boot actions to; undefined: derived from each request. */
  readonly bootActions: { readonly reportUrl: string | undefined };
}

/** Where outbox events go and when (shared/notify/README.md). */
export interface EventsConfig {
  /** `eventbridge` (AWS), `local` (the local server's in-process bus), `none` (left pending). */
  readonly sink: 'eventbridge' | 'local' | 'none';
  readonly busName: string | undefined;
  /** `inline`: right after each write, then the schedule; `schedule`: from the schedule only. */
  readonly publish: 'inline' | 'schedule';
  /** The longest a `?wait=` request waits (API Gateway answers 504 at 29 s). */
  readonly waitMaxSeconds: number;
}

/** Operational metrics: EMF lines in a Lambda, Prometheus text locally. */
export interface MetricsConfig {
  readonly output: 'emf' | 'prometheus' | 'off';
  readonly namespace: string;
  /** Running longer than this counts as stuck, unless the action has its own bound. */
  readonly stuckRunningSeconds: number;
  readonly stuckRunningBounds: Readonly<Record<string, number>>;
}

/** Thrown by `loadConfig` with every problem listed (never the values: some are secrets). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * Parses an environment into the frozen `Config`; throws `ConfigError` naming every bad variable.
 *
 * @example const config = loadConfig({ DB_DRIVER: 'pg', DATABASE_URL: 'postgres://…' })
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  // Empty strings count as unset: CDK and shells often export `X=` for "no value".
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || 'env'}: ${issue.message}`)
      .join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  let db: DbConfig;
  if (e.DB_DRIVER === 'data-api') {
    db = {
      driver: 'data-api',
      resourceArn: e.DB_CLUSTER_ARN as string,
      secretArn: e.DB_SECRET_ARN as string,
      database: e.DB_NAME as string,
    };
  } else if (e.DB_DRIVER === 'pg') {
    db = e.DATABASE_URL
      ? { driver: 'pg', url: e.DATABASE_URL, statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS }
      : {
          driver: 'pg',
          urlSecretArn: e.DATABASE_SECRET_ARN as string,
          statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
        };
  } else {
    db = { driver: 'pglite', dataDir: e.PGLITE_DATA_DIR };
  }
  return deepFreeze({
    db,
    lease:
      e.LEASE_MODE === 'hold'
        ? {
            graceSeconds: e.LEASE_GRACE_SECONDS,
            mode: 'hold',
            instanceId: e.LEASE_INSTANCE_ID as string,
          }
        : { graceSeconds: e.LEASE_GRACE_SECONDS, mode: 'watch' },
    retention: { days: e.RETENTION_DAYS, batchSize: e.RETENTION_BATCH_SIZE },
    log: { level: e.LOG_LEVEL, serviceName: e.POWERTOOLS_SERVICE_NAME },
    http: { maxBodyBytes: e.MAX_BODY_BYTES },
    design: {
      fileRoots: e.DESIGN_FILE_ROOTS,
      allowHosts: e.DESIGN_ALLOW_HOSTS,
      httpCredentialsSecretArn: e.DESIGN_HTTP_CREDENTIALS_SECRET_ARN,
      keystoneSecretArn: e.DESIGN_KEYSTONE_SECRET_ARN,
      keystoneLocal: e.DESIGN_KEYSTONE_SECRET_FILE
        ? { file: e.DESIGN_KEYSTONE_SECRET_FILE }
        : e.OS_AUTH_URL
          ? {
              env: {
                OS_AUTH_URL: e.OS_AUTH_URL,
                OS_USERNAME: e.OS_USERNAME,
                OS_PASSWORD: e.OS_PASSWORD,
                OS_PROJECT_NAME: e.OS_PROJECT_NAME,
                OS_PROJECT_ID: e.OS_PROJECT_ID,
                OS_USER_DOMAIN_NAME: e.OS_USER_DOMAIN_NAME,
                OS_PROJECT_DOMAIN_NAME: e.OS_PROJECT_DOMAIN_NAME,
              },
            }
          : undefined,
      platform: {
        images: e.DESIGN_PLATFORM_IMAGES ?? null,
        kernels: e.DESIGN_PLATFORM_KERNELS ?? null,
      },
      workers: e.DESIGN_WORKERS,
      maxBytes: e.DESIGN_MAX_BYTES,
      cacheTtlSeconds: e.DESIGN_CACHE_TTL_SECONDS,
      httpTimeoutMs: e.DESIGN_HTTP_TIMEOUT_MS,
      httpRetries: e.DESIGN_HTTP_RETRIES,
    },
    events: {
      sink: e.EVENTS_SINK ?? (e.EVENT_BUS_NAME ? 'eventbridge' : 'none'),
      busName: e.EVENT_BUS_NAME,
      publish: e.EVENTS_PUBLISH,
      waitMaxSeconds: e.WAIT_MAX_SECONDS,
    },
    metrics: {
      output: e.METRICS ?? (e.AWS_LAMBDA_FUNCTION_NAME ? 'emf' : 'off'),
      namespace: e.METRICS_NAMESPACE,
      stuckRunningSeconds: e.STUCK_RUNNING_SECONDS,
      stuckRunningBounds: e.STUCK_RUNNING_BOUNDS,
    },
    keystone: e.KEYSTONE_URL
      ? {
          url: e.KEYSTONE_URL,
          secretArn: e.KEYSTONE_SECRET_ARN,
          secretFile: e.KEYSTONE_SECRET_FILE,
          cacheTtlSeconds: e.KEYSTONE_CACHE_SECONDS,
          timeoutMs: e.KEYSTONE_TIMEOUT_MS,
          policy: e.KEYSTONE_POLICY,
        }
      : undefined,
    bootActions: { reportUrl: e.BOOTACTION_REPORT_URL },
  });
}

let cached: Config | undefined;

/**
 * The process's configuration, parsed from `process.env` on first use and then reused. Reading
 * it lazily (not at import) lets tooling import handler modules without a full environment; a
 * Lambda still fails its cold start because `getDeps()` reads it before serving anything.
 */
export function getConfig(): Config {
  cached ??= loadConfig(process.env);
  return cached;
}
