import { createHmac, randomBytes } from 'node:crypto';
import type { lookup as dnsLookup } from 'node:dns';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Agent } from 'undici';
import { createSecretsManagerReader } from '../aws/secrets.ts';
import { REAL_RETRY_CLOCK, type RetryClock } from '../retry.ts';
import { DesignCache } from './design-cache.ts';
import {
  type DesignDriver,
  type DesignRef,
  type DesignRefScheme,
  parseDesignRef,
} from './design-ref.ts';
import { DesignRefError } from './errors.ts';
import { createFileDriver } from './file-driver.ts';
import type { HttpFetchContext } from './http-fetch.ts';
import type { KeystoneCredentialsSource } from './keystone.ts';
import { type DesignLogger, silentLogger } from './logger.ts';
import { createDesignSecret, type SecretReader } from './secrets.ts';

/** Defaults of the `DESIGN_*` settings. */
export const DESIGN_DEFAULTS = {
  maxBytes: 4 * 1024 * 1024,
  cacheTtlSeconds: 180,
  httpTimeoutMs: 10_000,
  httpRetries: 2,
  /** Total time for one resolution when the caller passes no deadline. */
  budgetMs: 30_000,
  cacheMaxEntries: 32,
  cacheMaxBytes: 32 * 1024 * 1024,
  /** How long a fetched secret is trusted before it is read again (rotation). */
  secretTtlMs: 5 * 60_000,
} as const;

/**
 * Settings of the design-reference resolver. `shared/config.ts` builds them from:
 * `DESIGN_FILE_ROOTS` → `fileRoots`, `DESIGN_ALLOW_HOSTS` → `allowHosts`,
 * `DESIGN_HTTP_CREDENTIALS_SECRET_ARN` → `httpCredentialsSecretArn`,
 * `DESIGN_KEYSTONE_SECRET_ARN` → `keystoneSecretArn`, `DESIGN_MAX_BYTES` → `maxBytes`,
 * `DESIGN_CACHE_TTL_SECONDS` → `cacheTtlSeconds`, `DESIGN_HTTP_TIMEOUT_MS` → `httpTimeoutMs`,
 * `DESIGN_HTTP_RETRIES` → `httpRetries` (its `DesignConfig` has this shape).
 */
export type DesignResolverSettings = {
  /** Absolute folders `file://` references may read; empty disables `file://`. */
  fileRoots: readonly string[];
  /**
   * Hosts exempt from the SSRF guard (exact match, case-insensitive), each `host` (the scheme's
   * default port only) or `host:port`.
   */
  allowHosts: readonly string[];
  /** Secrets Manager secret: JSON `{ "<host>" | "<host:port>": { username, password } }`. */
  httpCredentialsSecretArn?: string | undefined;
  /** Secrets Manager secret: JSON `{ auth_url, username, password, project_name | project_id, user_domain_name, project_domain_name }`. */
  keystoneSecretArn?: string | undefined;
  /** Under `npm start`: a local JSON file (same shape) or the `OS_*` variables of an openrc. */
  keystoneLocal?:
    | { readonly file: string }
    | { readonly env: Readonly<Record<string, string | undefined>> }
    | undefined;
  /** Cap on a design's size, raw and decompressed. */
  maxBytes: number;
  /** How long a fetched design is reused; 0 disables the cache. */
  cacheTtlSeconds: number;
  /** Header and body (between chunks) timeout of one HTTP attempt; connect gets at most 5 s of it. */
  httpTimeoutMs: number;
  /** Extra attempts after the first, for transient failures only. */
  httpRetries: number;
};

/** Collaborators a test (or the composition root) may replace. */
export type DesignResolverDeps = {
  clock?: { now(): number };
  logger?: DesignLogger;
  readSecret?: SecretReader;
  s3Client?: () => S3Client;
  /** DNS resolution behind the SSRF guard (tests map names to chosen addresses). */
  lookup?: typeof dnsLookup;
  random?: () => number;
  /** The HTTP retries' wait (tests record the delays asked for instead of waiting). */
  sleep?: RetryClock['sleep'];
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  cacheMaxEntries?: number;
  cacheMaxBytes?: number;
  budgetMs?: number;
};

/** Limits on one resolution: an absolute deadline (epoch ms), a signal, or both. */
export type ResolveOptions = { deadline?: number; signal?: AbortSignal };

/** Bytes of a resolved design and where they came from. */
export type ResolvedDesignBytes = {
  bytes: Buffer;
  /** The reference with credentials stripped. */
  designRef: string;
  scheme: DesignRefScheme;
  fromCache: boolean;
};

/** Resolves design references; one per container. */
export type DesignResolver = {
  resolve(ref: string, options?: ResolveOptions): Promise<ResolvedDesignBytes>;
  /** Closes the HTTP connection pool (tests, graceful shutdown). */
  close(): Promise<void>;
};

/**
 * A value built on first use and shared by concurrent callers; a failed build is forgotten, so
 * the next caller tries again.
 */
function onFirstUse<T>(build: () => Promise<T>): { get(): Promise<T>; built(): boolean } {
  let value: Promise<T> | undefined;
  return {
    get() {
      value ??= build().catch((error: unknown) => {
        value = undefined;
        throw error;
      });
      return value;
    },
    built: () => value !== undefined,
  };
}

/**
 * Builds the scheme → driver registry, the cache and the lazily fetched secrets, once. Call it
 * at module scope of a Lambda. The network drivers are loaded by the first reference that needs
 * them: undici's `Agent` with the SSRF guard in its `connect`, the HTTP, UCP and Keystone code for
 * `http(s)://`, `deckhand+`/`promenade+` references, the S3 client for `s3://`. None of them is
 * in a function's init code (undici alone is about 720 kB minified), and a container that only
 * serves cached designs or `file://` never evaluates them.
 * @example const designs = createDesignResolver(config.design) // then designs.resolve(ref, { deadline })
 */
export function createDesignResolver(
  settings: DesignResolverSettings,
  deps: DesignResolverDeps = {},
): DesignResolver {
  const clock = deps.clock;
  const now = clock ? () => clock.now() : Date.now;
  const logger = deps.logger ?? silentLogger;
  const readSecret = deps.readSecret ?? createSecretsManagerReader();
  const local = settings.keystoneLocal;
  const keystoneSource: KeystoneCredentialsSource | undefined = settings.keystoneSecretArn
    ? { kind: 'secret', arn: settings.keystoneSecretArn }
    : local === undefined
      ? undefined
      : 'file' in local
        ? { kind: 'file', path: local.file }
        : { kind: 'env', env: local.env };

  const network = onFirstUse(async () => {
    const [{ Agent, interceptors }, guard, httpDriverModule, { createUcpDriver }, keystoneModule] =
      await Promise.all([
        import('undici'),
        import('./address-guard.ts'),
        import('./http-driver.ts'),
        import('./ucp-driver.ts'),
        import('./keystone.ts'),
      ]);
    const allowHosts = guard.createAllowHosts(settings.allowHosts);
    const agent: Agent = new Agent({
      connect: guard.createGuardedConnector(allowHosts, {
        timeout: Math.min(5_000, settings.httpTimeoutMs),
        ...(deps.lookup ? { resolve: deps.lookup } : {}),
      }),
      headersTimeout: settings.httpTimeoutMs,
      bodyTimeout: settings.httpTimeoutMs,
      maxResponseSize: settings.maxBytes,
    });
    const http: HttpFetchContext = {
      // undici's interceptors follow redirects (each hop's socket through the guarded `connect`)
      // and undo Content-Encoding with the decompressed size capped as the raw one is.
      dispatcher: agent.compose(
        interceptors.redirect(),
        interceptors.decompress({ maxSize: settings.maxBytes }),
      ),
      maxBytes: settings.maxBytes,
      retries: settings.httpRetries,
      retryBaseDelayMs: deps.retryBaseDelayMs ?? 250,
      retryMaxDelayMs: deps.retryMaxDelayMs ?? 4_000,
      clock: { now, sleep: deps.sleep ?? REAL_RETRY_CLOCK.sleep },
      random: deps.random ?? Math.random,
      logger,
    };
    const hostCredentials = settings.httpCredentialsSecretArn
      ? createDesignSecret({
          arn: settings.httpCredentialsSecretArn,
          setting: 'DESIGN_HTTP_CREDENTIALS_SECRET_ARN',
          schema: httpDriverModule.HostCredentialsSchema(),
          read: readSecret,
          now,
          ttlMs: DESIGN_DEFAULTS.secretTtlMs,
        })
      : undefined;
    const keystone = keystoneSource
      ? keystoneModule.createKeystoneTokens(
          http,
          keystoneModule.loadKeystoneCredentials(keystoneSource, {
            readSecret,
            now,
            ttlMs: DESIGN_DEFAULTS.secretTtlMs,
          }),
          keystoneModule.keystoneSetting(keystoneSource),
        )
      : undefined;
    return {
      agent,
      http: httpDriverModule.createHttpDriver({ http, hostCredentials }),
      ucp: createUcpDriver({ http, keystone }),
    };
  });

  const s3 = onFirstUse(async () => {
    const [{ createS3Driver }, { S3Client }] = await Promise.all([
      import('./s3-driver.ts'),
      import('@aws-sdk/client-s3'),
    ]);
    let client: S3Client | undefined;
    return createS3Driver({
      client: deps.s3Client ?? (() => (client ??= new S3Client({}))),
      maxBytes: settings.maxBytes,
    });
  });

  const fileDriver = createFileDriver({ roots: settings.fileRoots, maxBytes: settings.maxBytes });
  const httpDriver: DesignDriver = async (ref, limits) => (await network.get()).http(ref, limits);
  const ucpDriver: DesignDriver = async (ref, limits) => (await network.get()).ucp(ref, limits);
  const drivers: Record<DesignRefScheme, DesignDriver> = {
    file: (ref) => fileDriver(ref),
    http: httpDriver,
    https: httpDriver,
    'deckhand+http': ucpDriver,
    'deckhand+https': ucpDriver,
    'promenade+http': ucpDriver,
    'promenade+https': ucpDriver,
    s3: async (ref, limits) => (await s3.get())(ref, limits.signal),
  };

  const cache = new DesignCache({
    ttlMs: settings.cacheTtlSeconds * 1000,
    maxEntries: deps.cacheMaxEntries ?? DESIGN_DEFAULTS.cacheMaxEntries,
    maxBytes: deps.cacheMaxBytes ?? DESIGN_DEFAULTS.cacheMaxBytes,
    now,
  });
  // The redacted reference plus a keyed hash of what redaction removed (userinfo, query): a
  // caller without the right credentials never gets another caller's cached copy, two
  // references differing only in a query value stay two entries, and the key holds no secret.
  // The hash key is random per container and never leaves it.
  const cacheSalt = randomBytes(32);
  const cacheKey = (ref: DesignRef) =>
    ref.hasCredentials || ref.url.search !== ''
      ? `${ref.redacted} ${createHmac('sha256', cacheSalt).update(`${ref.url.username}:${ref.url.password}${ref.url.search}`).digest('base64url')}`
      : ref.redacted;

  return {
    async resolve(input, options = {}) {
      const ref = parseDesignRef(input);
      const key = cacheKey(ref);
      const hit = cache.get(key);
      if (hit) {
        logger.debug('design reference served from cache', { designRef: ref.redacted });
        return { bytes: hit, designRef: ref.redacted, scheme: ref.scheme, fromCache: true };
      }
      const deadline = options.deadline ?? now() + (deps.budgetMs ?? DESIGN_DEFAULTS.budgetMs);
      const remaining = deadline - now();
      if (remaining <= 0) {
        throw new DesignRefError('timeout', `${ref.redacted}: no time left to resolve it`);
      }
      const signals = [AbortSignal.timeout(remaining)];
      if (options.signal) signals.push(options.signal);
      const started = Date.now();
      const bytes = await drivers[ref.scheme](ref, { deadline, signal: AbortSignal.any(signals) });
      cache.set(key, bytes);
      logger.info('design reference resolved', {
        designRef: ref.redacted,
        bytes: bytes.length,
        ms: Date.now() - started,
      });
      return { bytes, designRef: ref.redacted, scheme: ref.scheme, fromCache: false };
    },
    async close() {
      if (network.built()) await (await network.get()).agent.close();
    },
  };
}
