import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { getConfig } from './config.ts';
import { type Deps, getDeps, getLogger } from './deps.ts';
import { runInvocation } from './invocation.ts';

/**
 * What every handler kit does around its own work, written once: the HTTP kit
 * (`http/handler.ts`), the SQS consumer kit and the schedule's kit (`triggers/`).
 */
export interface KitOptions<D = Deps> {
  /** Where the dependencies come from; the container's memoised set by default. */
  readonly deps?: (() => Promise<D>) | undefined;
  /**
   * The container's by default. One built otherwise than by `createLogger` (logger.ts) writes the
   * invocation's ids (`invocationLogKeys`) on no line: they come through its formatter.
   */
  readonly logger?: Logger | undefined;
}

export interface LambdaKit<D> {
  readonly loadDeps: () => Promise<D>;
  readonly logger: Logger;
  /**
   * The Lambda handler running `serve` as one invocation: in its deadline context
   * (`invocation.ts`), with Powertools' Lambda-context hooks around it (the context keys on
   * every line, the sampling decision, the log buffer cleared after it, failed or not).
   */
  handler<E, R>(
    serve: (event: E, context: Context) => Promise<R>,
  ): (event: E, context: Context) => Promise<R>;
}

/** A kit over the container's dependencies (`getDeps`), or over the ones `deps` gives. */
export function createLambdaKit(options?: KitOptions): LambdaKit<Deps>;
export function createLambdaKit<D>(
  options: KitOptions<D> & { readonly deps: () => Promise<D> },
): LambdaKit<D>;
export function createLambdaKit(options: KitOptions<unknown> = {}): LambdaKit<unknown> {
  // Read the configuration now, at module load: a bad environment fails the Lambda's init
  // phase (visible at deploy time) rather than its first request.
  if (!options.deps) getConfig();
  const logger = options.logger ?? getLogger();
  return {
    loadDeps: options.deps ?? getDeps,
    logger,
    handler: (serve) => (event, context) =>
      runInvocation(context, async () => {
        // What Powertools' injectLambdaContext does around an invocation, as the logger's own
        // calls: its middy middleware makes the same ones, plus a request object and spreads of
        // it for every invocation. All but two: it logs the whole event when
        // POWERTOOLS_LOGGER_LOG_EVENT is set, and an event carries request bodies and tokens
        // (X-Auth-Token, the SigV4 header), which never reach the logs; and its `resetKeys`
        // option, as nothing appends keys to the logger to reset: an invocation's keys (request,
        // record, tick ids) are log keys of its async context (`invocation.ts`), gone with it.
        logger.refreshSampleRateCalculation();
        logger.addContext(context);
        try {
          return await serve(event, context);
        } finally {
          logger.clearBuffer();
        }
      }),
  };
}

/** Milliseconds before the Lambda's own timeout at which a kit stops waiting for its work. */
const TIMEOUT_EARLY_MS = 5;

/**
 * `work`, or a `TimeoutError` just before the invocation's deadline, so the kit rather than
 * Lambda's timeout says which invocation ran out of time: the HTTP kit answers it (a 500 with
 * the request's ids), the SQS and schedule kits fail the invocation with it.
 */
export function beforeDeadline<T>(work: Promise<T>, context: Context): Promise<T> {
  if (typeof context.getRemainingTimeInMillis !== 'function') return work;
  const ms = Math.max(0, context.getRemainingTimeInMillis() - TIMEOUT_EARLY_MS);
  // One promise settled by whichever comes first, rather than `Promise.race` of the work and a
  // timeout promise with a `finally`: every request of every function goes through here, and
  // the race's extra promises and turns were a measurable share of a small request.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new Error('[AbortError]: The operation was aborted.');
      error.name = 'TimeoutError';
      reject(error);
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
