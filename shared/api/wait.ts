import type { Deps } from '../deps.ts';
import { NotFoundError } from '../errors.ts';
import { remainingTimeMs } from '../invocation.ts';
import { REAL_WAIT_CLOCK, waitFor } from '../notify/wait.ts';
import { readTaskMark } from '../store/wait.ts';

/** Time kept back from the Lambda's own deadline for the final read and the answer. */
const ANSWER_MARGIN_MS = 3000;

/** How a wait ended, for the `X-Wait` headers. */
export interface WaitResult {
  /** `changed`: the awaited change happened; `timeout`: it did not within the wait. */
  readonly outcome: 'changed' | 'timeout';
  /** The wait actually applied, when the request asked for more (cut by the bound). */
  readonly limitedTo: number | undefined;
  /** Reads of the task row the wait cost. */
  readonly reads: number;
}

type WaitDeps = Pick<Deps, 'db' | 'config' | 'bus' | 'waitClock'>;

/** The wait in ms after the bounds: the configured maximum and the invocation's time left. */
function boundedWait(deps: WaitDeps, seconds: number): { ms: number; limitedTo?: number } {
  const max = deps.config.events.waitMaxSeconds;
  const left = Math.max(0, remainingTimeMs() - ANSWER_MARGIN_MS);
  const ms = Math.min(seconds * 1000, max * 1000, left);
  return ms < seconds * 1000 ? { ms, limitedTo: Math.floor(ms / 1000) } : { ms };
}

async function waitOnMark(
  deps: WaitDeps,
  taskId: string,
  seconds: number,
  changed: (mark: { version: number; messageSeq: number }) => boolean,
): Promise<WaitResult> {
  const { ms, limitedTo } = boundedWait(deps, seconds);
  const outcome = await waitFor({
    taskId,
    waitMs: ms,
    clock: deps.waitClock ?? REAL_WAIT_CLOCK,
    wake: deps.bus,
    check: async () => {
      const mark = await readTaskMark(deps.db, taskId);
      if (!mark) throw new NotFoundError(`task ${taskId} does not exist`);
      return changed(mark) ? mark : undefined;
    },
  });
  return { outcome: outcome.timedOut ? 'timeout' : 'changed', limitedTo, reads: outcome.reads };
}

/**
 * `GET /tasks/{id}?wait=<s>&version=<n>`: waits until the task's version passes `n` (without
 * `n`, the version when the wait starts), at most `seconds` and never past the bounds. The caller
 * then reads the task as usual, changed or not.
 */
export async function waitForTaskVersion(
  deps: WaitDeps,
  taskId: string,
  options: { seconds: number; version?: number | undefined },
): Promise<WaitResult> {
  let base = options.version;
  if (base === undefined) {
    const mark = await readTaskMark(deps.db, taskId);
    if (!mark) throw new NotFoundError(`task ${taskId} does not exist`);
    base = mark.version;
  }
  const since = base;
  return waitOnMark(deps, taskId, options.seconds, (mark) => mark.version > since);
}

/**
 * The messages route with `wait`: until a message after sequence `after` exists, or (with
 * `version`) the task's version passes it.
 */
export async function waitForMessages(
  deps: WaitDeps,
  taskId: string,
  options: { seconds: number; after: number; version?: number | undefined },
): Promise<WaitResult> {
  const { after, version } = options;
  return waitOnMark(
    deps,
    taskId,
    options.seconds,
    (mark) => mark.messageSeq > after || (version !== undefined && mark.version > version),
  );
}

/** The response headers that say how a wait ended. */
export function waitHeaders(result: WaitResult | undefined): Record<string, string | undefined> {
  if (!result) return {};
  return {
    'X-Wait': result.outcome,
    'X-Wait-Limited-To': result.limitedTo === undefined ? undefined : String(result.limitedTo),
  };
}
