import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { errorForLog } from '#shared/error-log.ts';
import { addInvocationLogKeys, runInvocation, withLogKeys } from '#shared/invocation.ts';
import { createLogger, ServiceLogger } from '#shared/logger.ts';

/**
 * The service's logger (`createLogger`: shared/logger.ts) against Powertools' own `Logger` with
 * the same options, the same Lambda context and the request's ids appended with `appendKeys`:
 * every line must come out the same, byte for byte but the timestamp, on the same stream.
 */

const SERVICE = 'drydock-statemgmt';
type LogLevel = Parameters<typeof createLogger>[0]['log']['level'];
const ERROR = new TypeError('boom');
const CIRCULAR: Record<string, unknown> = { name: 'loop' };
CIRCULAR.self = CIRCULAR;

function context(awsRequestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'drydock-tasks',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:drydock-tasks',
    memoryLimitInMB: '512',
    awsRequestId,
    logGroupName: '/aws/lambda/drydock-tasks',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** Every call a line of the service makes, and the shapes Powertools treats specially. */
function writeLines(logger: Logger): void {
  logger.info('request served', {
    method: 'GET',
    path: '/api/v1.0/tasks/x',
    status: 200,
    durationMs: 3,
  });
  logger.info('request refused', {
    status: 400,
    reason: 'Bad body',
    issues: [{ path: 'body.action', message: 'Required' }],
  });
  logger.warn('request refused', { status: 503, errorName: 'DbUnavailableError', retry: true });
  logger.error('unexpected error', { error: errorForLog(ERROR) });
  logger.error('thrown', ERROR);
  logger.info('a text', 'an extra string');
  logger.info('nested', { nested: { deeper: { list: [1, { a: 'b' }] } } });
  logger.info('empty values', { blank: '', none: null, missing: undefined, zero: 0, no: false });
  logger.info('a bigint', { big: 10n });
  logger.info('a loop', { loop: CIRCULAR });
  logger.info('unsafe names', {
    constructor: 'c',
    fine: 'f',
    inner: { constructor: 'c', kept: 1 },
  });
  logger.info('a reserved name', { level: 'mine', kept: 'k' });
  logger.info({ message: 'an object message', field: 'v' });
  logger.info('the ids given again', { requestId: 'other', correlationId: 'corr-2' });
  logger.debug('a debug line', { detail: 'd' });
  logger.trace('a trace line');
  logger.critical('a critical line', { why: 'w' });
  logger.info('odd numbers', { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, neg: -0 });
}

/** The lines both streams receive while `work` runs, in order, each tagged with its stream. */
function captured(work: () => void, keepTimestamps = false): string[] {
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const writes = streams.map((stream) => stream.write);
  streams.forEach((stream, i) => {
    stream.write = ((chunk: string | Uint8Array) => {
      lines.push(`${i === 0 ? 'stdout' : 'stderr'} ${String(chunk)}`);
      return true;
    }) as typeof stream.write;
  });
  // In its dev mode Powertools prints through the global console (which the test runner takes).
  const methods = ['log', 'debug', 'info', 'warn', 'error'] as const;
  const originals = methods.map((method) => console[method]);
  for (const method of methods) {
    console[method] = (...args: unknown[]) => lines.push(`console.${method} ${args.join(' ')}`);
  }
  try {
    work();
  } finally {
    streams.forEach((stream, i) => {
      stream.write = writes[i] as typeof stream.write;
    });
    methods.forEach((method, i) => {
      console[method] = originals[i] as (typeof console)[typeof method];
    });
  }
  if (keepTimestamps) return lines;
  // The same line a millisecond apart is the same line.
  return lines.map((line) => line.replace(/"timestamp": ?"[^"]+"/g, '"timestamp":"T"'));
}

/** Powertools' own logger, given the request's ids as the HTTP kit gave them before. */
function stockLines(level: LogLevel, ids?: Readonly<Record<string, string>>) {
  return captured(() => {
    const logger = new Logger({ serviceName: SERVICE, logLevel: level });
    writeLines(logger);
    logger.addContext(context('inv-1'));
    if (ids) logger.appendKeys(ids);
    writeLines(logger);
  });
}

/**
 * The service's logger, the ids coming from the invocation being served: added to it as the
 * HTTP kit adds them, or given to a `withLogKeys` scope as the SQS kit gives a record's.
 */
function serviceLines(
  level: LogLevel,
  ids?: Readonly<Record<string, string>>,
  how: 'added' | 'scoped' = 'added',
) {
  return captured(() => {
    const logger = createLogger({ log: { serviceName: SERVICE, level } });
    writeLines(logger);
    runInvocation(context('inv-1'), () => {
      logger.addContext(context('inv-1'));
      if (ids && how === 'scoped') {
        withLogKeys(ids, () => writeLines(logger));
      } else {
        if (ids) addInvocationLogKeys(ids);
        writeLines(logger);
      }
    });
  });
}

describe("the service's logger", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of ['POWERTOOLS_DEV', 'POWERTOOLS_LOGGER_SAMPLE_RATE', 'TZ']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });
  const ids = { requestId: 'req-1', correlationId: 'corr-1' };

  it.each(['INFO', 'DEBUG', 'TRACE', 'WARN', 'SILENT'] as const)(
    'writes the lines Powertools writes at %s, with the invocation ids where appendKeys put them',
    (level) => {
      const expected = stockLines(level, ids);
      expect(serviceLines(level, ids)).toEqual(expected);
      // Equal and empty would prove nothing: each level writes its share of the 18 calls, twice
      // (plus, from INFO down, Powertools' warning about the reserved key each time), the
      // invocation's ids on those after addContext.
      const written = { INFO: 34, DEBUG: 36, TRACE: 38, WARN: 8, SILENT: 0 }[level];
      expect(expected).toHaveLength(written);
      if (written > 0) expect(expected.at(-1)).toContain('"requestId":"req-1"');
    },
  );

  it("writes the lines Powertools writes with an SQS record's messageId appended, in its scope", () => {
    const keys = { messageId: 'msg-1' };
    const expected = stockLines('INFO', keys);
    expect(expected.at(-1)).toContain('"messageId":"msg-1"');
    expect(serviceLines('INFO', keys, 'scoped')).toEqual(expected);
  });

  it('writes the same lines outside a request (no ids) and in an invocation without them', () => {
    const expected = stockLines('INFO');
    expect(expected).toHaveLength(34);
    expect(serviceLines('INFO')).toEqual(expected);
  });

  it("writes Powertools' indented lines in its dev mode", () => {
    process.env.POWERTOOLS_DEV = 'true';
    const expected = stockLines('INFO', ids);
    expect(expected.some((line) => line.includes('\n    "level"'))).toBe(true);
    expect(serviceLines('INFO', ids)).toEqual(expected);
  });

  it('samples DEBUG lines as Powertools does', () => {
    process.env.POWERTOOLS_LOGGER_SAMPLE_RATE = '1';
    const expected = stockLines('INFO', ids);
    expect(expected.some((line) => line.includes('a debug line'))).toBe(true);
    expect(serviceLines('INFO', ids)).toEqual(expected);
  });

  it('passes every line of a logger given a JSON replacer through it, strings included', () => {
    const redact = (key: string, value: unknown) => (key === 'token' ? '[redacted]' : value);
    const write = (logger: Logger) => logger.info('request served', { token: 'secret', n: 1 });
    const options = { serviceName: SERVICE, jsonReplacerFn: redact };
    const expected = captured(() => write(new Logger(options)));
    expect(expected.join('')).toContain('"token":"[redacted]"');
    expect(captured(() => write(new ServiceLogger(options)))).toEqual(expected);
  });

  it('writes timestamps in the configured time zone as Powertools does', () => {
    process.env.TZ = 'Asia/Kolkata';
    const offsetOf = (lines: string[]) => /"timestamp":"[^"]+(\+05:30)"/.exec(lines[0] ?? '')?.[1];
    const stock = captured(() => new Logger({ serviceName: SERVICE }).info('x'), true);
    const ours = captured(
      () => createLogger({ log: { serviceName: SERVICE, level: 'INFO' } }).info('x'),
      true,
    );
    expect(offsetOf(stock)).toBe('+05:30');
    expect(offsetOf(ours)).toBe('+05:30');
  });
});
