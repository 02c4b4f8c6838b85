/**
 * The one place that decides how a Lambda of this service is built and run, so every function
 * gets the same runtime, architecture, bundle shape, logging and tracing, and a stack only says
 * what differs: the entry file, the environment and the grants.
 */
import { fileURLToPath } from 'node:url';
import {
  AssetHashType,
  DockerImage,
  Duration,
  type ILocalBundling,
  RemovalPolicy,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { type BuildOptions, buildSync } from 'esbuild';
import { SERVICE_NAME, type StageConfig } from '../config/stage-config.ts';
import type { ServiceDatabase } from './service-database.ts';

/** The repository root: entries, `package-lock.json` and `tsconfig.json` are resolved from it. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The runtime every function of the service runs on. */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * ESM bundles still contain CommonJS dependencies (pg, parts of the SDK) that call `require`;
 * esbuild's ESM output has no `require`, so the banner gives the module one. The alias keeps the
 * banner's import from clashing with a bundled `createRequire`.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __drydockCreateRequire } from 'node:module'; const require = __drydockCreateRequire(import.meta.url);";

/** Options of {@link ServiceFunction}. */
export interface ServiceFunctionProps {
  /** Entry file relative to the repository root, e.g. `functions/tasks.ts`. */
  readonly entry: string;
  /** The export to run. @default 'handler' */
  readonly handler?: string;
  readonly description: string;
  readonly config: StageConfig;
  /** Extra environment on top of the service-wide settings. */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default 30 seconds */
  readonly timeout?: Duration;
  /** @default 512 MB: CPU scales with memory, and a large bundle parses slowly at 128 MB. */
  readonly memorySize?: number;
}

/**
 * The esbuild options of every function bundle, in one place so the benchmark's bundle table (which
 * reads esbuild's metafile to say what makes up a bundle) analyses exactly what a deploy ships.
 *
 * An ESM bundle split at dynamic imports: `index.mjs` holds what the handler loads at init, and
 * `chunks/` what only some paths load (the `pg` driver and the Secrets Manager client, loaded only
 * where `DB_DRIVER=pg`; the SDK's SSO/INI/STS credential providers, which a Lambda's environment
 * credentials never reach; a browser user-agent parser the SDK only imports in a browser). Minified,
 * linked source maps without sources, the pinned SDK bundled, PGlite left out.
 */
export function bundleOptions(entry: string): BuildOptions {
  return {
    absWorkingDir: PROJECT_ROOT,
    entryPoints: { index: `${PROJECT_ROOT}${entry}` },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    // Prefer ESM builds of dependencies, so tree shaking works on them.
    mainFields: ['module', 'main'],
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    minify: true,
    sourcemap: 'linked',
    // Stack traces only need names and positions; the sources would double the asset.
    sourcesContent: false,
    // PGlite (the embedded database of `npm start`) is loaded lazily and never in Lambda;
    // leaving it out saves about 500 KiB per bundle.
    external: ['@electric-sql/pglite'],
    banner: { js: ESM_REQUIRE_BANNER },
    // Runs first in every bundle: stack traces mapped to the sources when one is formatted,
    // instead of `--enable-source-maps` reading every map at each cold start.
    inject: [`${PROJECT_ROOT}shared/stack-traces.ts`],
    tsconfig: `${PROJECT_ROOT}tsconfig.json`,
    // Sizes are reported by the bench; esbuild's per-file summary is noise in synth.
    logLevel: 'warning',
  };
}

/**
 * Runs esbuild in this process (a devDependency, so CDK never needs Docker). `NodejsFunction`
 * cannot split a bundle (it passes esbuild one `--outfile`), hence a bundler of our own. The
 * entry is a field so CDK's bundling cache, keyed on the bundling options' JSON, tells entries apart.
 */
class EsbuildBundling implements ILocalBundling {
  readonly entry: string;

  constructor(entry: string) {
    this.entry = entry;
  }

  tryBundle(outputDir: string): boolean {
    buildSync({ ...bundleOptions(this.entry), outdir: outputDir });
    return true;
  }
}

/**
 * A Lambda function with the service's defaults: Node.js 24 on arm64, the bundle of
 * {@link bundleOptions} as its code (`index.mjs` and its chunks), a log group with a retention,
 * active tracing, and a role that may only write to that log group until the stack grants more.
 */
export class ServiceFunction extends lambda.Function {
  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    const { config } = props;
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: toRetention(config.logRetentionDays),
      removalPolicy: config.isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // An own role instead of AWSLambdaBasicExecutionRole: that managed policy may write to any
    // log group in the account, this one only to the function's.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${config.prefix} ${id} function`,
    });
    logGroup.grantWrite(role);

    super(scope, id, {
      code: lambda.Code.fromAsset(PROJECT_ROOT, {
        // Hashed by what was built, never by fingerprinting the repository.
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          local: new EsbuildBundling(props.entry),
          // Required by the type; the local bundler always succeeds or throws, so it is never pulled.
          image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24'),
        },
      }),
      handler: `index.${props.handler ?? 'handler'}`,
      description: props.description,
      runtime: FUNCTION_RUNTIME,
      architecture:
        config.lambdaArchitecture === 'x86_64'
          ? lambda.Architecture.X86_64
          : lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      role,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        LOG_LEVEL: config.logLevel,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        ...props.environment,
      },
    });
  }

  /** Gives the function the database settings and the least privilege needed to use them. */
  useDatabase(database: ServiceDatabase): this {
    for (const [key, value] of Object.entries(database.environment)) {
      this.addEnvironment(key, value);
    }
    database.grantAccess(this);
    return this;
  }
}

/** CloudWatch Logs accepts only a fixed set of retention periods; pick the nearest one above. */
export function toRetention(days: number): logs.RetentionDays {
  const allowed = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
  ];
  const chosen = allowed.find((candidate) => candidate >= days) ?? 3653;
  return chosen as logs.RetentionDays;
}
