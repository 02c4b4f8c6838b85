import { Console } from 'node:console';
import { LogFormatter, Logger, LogItem, LogLevelThreshold } from '@aws-lambda-powertools/logger';
import type {
  ConstructorOptions,
  LogAttributes,
  UnformattedAttributes,
} from '@aws-lambda-powertools/logger/types';
import type { Config } from './config.ts';
import { invocationLogKeys } from './invocation.ts';

/**
 * Powertools' own line (the keys, their order and values of its default formatter), plus the
 * keys of the invocation being served (`invocationLogKeys`): its Lambda request id in place of
 * `function_request_id`, and the request's `requestId` and `correlationId` where keys appended
 * with `appendKeys` would stand, before the call's own fields.
 *
 * Why not `appendKeys`: in a Lambda the two give the same line, but the HTTP kit paid for an
 * `appendKeys` (a deep merge and two `process.env` reads) on every request, and a process serving
 * requests concurrently (the local server) shares one logger, whose appended keys and Lambda
 * context belong to whichever request set them last; the invocation's own keys come from its
 * async context instead, so every line it writes carries its ids, whoever writes it.
 */
export class InvocationLogFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    // As Powertools' PowertoolsLogFormatter (not exported) builds it; test/functions/logger.test.ts
    // compares the lines with its own.
    const line: LogAttributes = {
      level: attributes.logLevel,
      message: attributes.message,
      timestamp: this.formatTimestamp(attributes.timestamp),
      service: attributes.serviceName,
      cold_start: attributes.lambdaContext?.coldStart,
      function_arn: attributes.lambdaContext?.invokedFunctionArn,
      function_memory_size: attributes.lambdaContext?.memoryLimitInMB,
      function_name: attributes.lambdaContext?.functionName,
      function_request_id: attributes.lambdaContext?.awsRequestId,
      sampling_rate: attributes.sampleRateValue,
      xray_trace_id: attributes.xRayTraceId,
      tenant_id: attributes.lambdaContext?.tenantId,
    };
    const keys = invocationLogKeys();
    if (keys) Object.assign(line, keys);
    // Powertools deep-merges the call's fields into the line (`LogItem.addAttributes`): a copy of
    // every object and array, and a value that is `undefined` leaves the one before it. Fields
    // that are all strings, numbers, booleans or null (the access line's) merge the same way with
    // a plain loop; anything else takes Powertools' own merge.
    for (const key in additional) {
      const value = additional[key];
      if (value !== null && typeof value === 'object') {
        return new LogItem({ attributes: line }).addAttributes(additional);
      }
    }
    for (const key in additional) {
      const value = additional[key];
      // deepMerge's rule; it also skips these two names.
      if ((value !== undefined || line[key] === undefined) && !UNSAFE_KEYS.has(key)) {
        line[key] = value;
      }
    }
    return new LogItem({ attributes: line });
  }
}

const UNSAFE_KEYS = new Set(['__proto__', 'constructor']);

/** The console method Powertools prints each level with (`trace` is its `log`, without a stack). */
const CONSOLE_METHOD: Readonly<Record<number, 'log' | 'debug' | 'info' | 'warn' | 'error'>> = {
  [LogLevelThreshold.TRACE]: 'log',
  [LogLevelThreshold.DEBUG]: 'debug',
  [LogLevelThreshold.INFO]: 'info',
  [LogLevelThreshold.WARN]: 'warn',
  [LogLevelThreshold.ERROR]: 'error',
  [LogLevelThreshold.CRITICAL]: 'error',
};

/** Powertools' dev mode (`POWERTOOLS_DEV`, read as its `isDevMode` reads it): pretty lines. */
function powertoolsDevMode(): boolean {
  return /^(1|y|yes|t|true|on)$/i.test(process.env.POWERTOOLS_DEV?.trim() ?? '');
}

/**
 * The service's Powertools logger. One thing differs from `Logger`: how a line of strings,
 * numbers and booleans alone is serialised. Powertools passes every line through its JSON
 * replacer (which formats errors and BigInts and drops circular references), and any replacer
 * takes V8 off its fast `JSON.stringify`; for such a line the replacer changes nothing, so it is
 * serialised without one and printed the way Powertools prints (a console of its own over the
 * same streams: INFO and DEBUG to stdout, WARN and above to stderr). Every other line, every
 * line in Powertools' dev mode (indented), and every line of a logger given a `jsonReplacerFn`
 * (which may rewrite or redact strings too) is Powertools' own.
 */
export class ServiceLogger extends Logger {
  // Set after Powertools' constructor, which may print (its warnings) before it is.
  private out: Console | undefined;

  constructor(options: ConstructorOptions = {}) {
    super(options);
    if (!powertoolsDevMode() && options.jsonReplacerFn === undefined) {
      this.out = new Console({ stdout: process.stdout, stderr: process.stderr });
    }
  }

  protected override printLog(logLevel: number, log: LogItem): void {
    const method = CONSOLE_METHOD[logLevel];
    if (this.out === undefined || method === undefined) {
      super.printLog(logLevel, log);
      return;
    }
    log.prepareForPrint();
    const attributes = log.getAttributes();
    for (const key in attributes) {
      const type = typeof attributes[key];
      if (type !== 'string' && type !== 'number' && type !== 'boolean') {
        super.printLog(logLevel, log);
        return;
      }
    }
    this.out[method](JSON.stringify(attributes));
  }
}

/**
 * The Powertools logger for the service: structured JSON on stdout, level from config, every
 * line of an invocation with that invocation's ids. Here rather than in the composition root
 * (deps.ts), whose lazy imports bring the database drivers into a bundle: the Keystone
 * authoriser's logger is this one too.
 */
export function createLogger(config: Pick<Config, 'log'>): Logger {
  return new ServiceLogger({
    serviceName: config.log.serviceName,
    logLevel: config.log.level,
    logFormatter: new InvocationLogFormatter(),
  });
}
