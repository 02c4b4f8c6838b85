import { AsyncLocalStorage } from 'node:async_hooks';

/** The part of Lambda's context an invocation's deadline and log keys come from. */
export interface InvocationContext {
  readonly getRemainingTimeInMillis?: () => number;
  readonly awsRequestId?: string;
}

interface Invocation {
  /** When the kit started serving it (epoch ms). */
  readonly startedAt: number;
  /** Lambda's remaining time when it started; infinite without a context. */
  readonly remainingAtStartMs: number;
  readonly remainingMs: () => number;
  /** The keys every log line of this invocation carries (`invocationLogKeys`). */
  logKeys: Readonly<Record<string, string>> | undefined;
}

// One context per invocation, set by every handler kit (HTTP, SQS, the schedule) and read by
// what is built once per container but must stop with the invocation waiting on it: the Data
// API adapter's retries, the design fetch. Per invocation rather than per container, because
// the local server runs every function in one process and serves requests concurrently.
const current = new AsyncLocalStorage<Invocation>();

/** Runs `work` as one invocation: everything it awaits sees this invocation's deadline. */
export function runInvocation<T>(context: InvocationContext | undefined, work: () => T): T {
  const remainingMs =
    typeof context?.getRemainingTimeInMillis === 'function'
      ? context.getRemainingTimeInMillis.bind(context)
      : () => Number.POSITIVE_INFINITY;
  return current.run(
    {
      startedAt: Date.now(),
      remainingAtStartMs: remainingMs(),
      remainingMs,
      logKeys: context?.awsRequestId ? { function_request_id: context.awsRequestId } : undefined,
    },
    work,
  );
}

/**
 * The log keys of the invocation being served: its Lambda request id (Powertools'
 * `function_request_id`) and whatever the kit serving it added (`addInvocationLogKeys`);
 * undefined outside an invocation. The service's log formatter (`logger.ts`) puts them on every
 * line written meanwhile: one process serving invocations concurrently (the local server) shares
 * one logger, whose appended keys and Lambda context belong to whichever invocation set them last.
 */
export function invocationLogKeys(): Readonly<Record<string, string>> | undefined {
  return current.getStore()?.logKeys;
}

/**
 * Runs `work` with `keys` added to the log keys of every line it writes, and to those of no
 * other line: in a child of the invocation's context (same deadline), so work running beside it
 * in the same invocation (or after it) keeps its own keys; an SQS record's `messageId`, say.
 * Outside an invocation `work` just runs: there are no keys to extend.
 */
export function withLogKeys<T>(keys: Readonly<Record<string, string>>, work: () => T): T {
  const invocation = current.getStore();
  if (!invocation) return work();
  return current.run({ ...invocation, logKeys: { ...invocation.logKeys, ...keys } }, work);
}

/**
 * Adds keys to every log line the current invocation (or the `withLogKeys` scope it is in)
 * writes from now on; none outside one. For keys known at the start of an invocation, as the
 * HTTP kit's request ids: no nested context to pay for on every request.
 */
export function addInvocationLogKeys(keys: Readonly<Record<string, string>>): void {
  const invocation = current.getStore();
  if (invocation) invocation.logKeys = { ...invocation.logKeys, ...keys };
}

/** Milliseconds left in the invocation being served; infinite outside one (scripts, tests). */
export function remainingTimeMs(): number {
  return current.getStore()?.remainingMs() ?? Number.POSITIVE_INFINITY;
}

/**
 * An absolute deadline (epoch ms) for the work of this invocation: its end less `marginMs`, and
 * at most `maxMs` after it started; undefined outside an invocation.
 */
export function invocationDeadline(limits: {
  readonly marginMs: number;
  readonly maxMs: number;
}): number | undefined {
  const invocation = current.getStore();
  if (!invocation) return undefined;
  return (
    invocation.startedAt + Math.min(invocation.remainingAtStartMs - limits.marginMs, limits.maxMs)
  );
}
