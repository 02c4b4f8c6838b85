import { PayloadTooLargeError } from '../errors.ts';
import { TASK_BOUNDS } from '../store/bounds.ts';

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value ?? null));

/**
 * Refusals (413) of a request that alone exceeds a task bound (`store/bounds.ts`), before it
 * reaches the database; what accumulates over many requests is refused there (409).
 */
export const bounds = {
  nodeFilter(filter: unknown): void {
    const size = jsonBytes(filter);
    if (filter != null && size > TASK_BOUNDS.nodeFilterBytes) {
      throw new PayloadTooLargeError(
        `node_filter is ${size} bytes of JSON; a task's node filter may hold at most ${TASK_BOUNDS.nodeFilterBytes}`,
      );
    }
  },

  resultChange(
    result:
      | { add_successes?: unknown[]; add_failures?: unknown[]; add_links?: unknown[] }
      | undefined,
  ): void {
    if (!result) return;
    const size =
      jsonBytes(result.add_successes ?? []) +
      jsonBytes(result.add_failures ?? []) +
      jsonBytes(result.add_links ?? []);
    if (size > TASK_BOUNDS.resultListsBytes) {
      throw new PayloadTooLargeError(
        `add_successes, add_failures and add_links are ${size} bytes of JSON; a task's result lists ` +
          `may hold at most ${TASK_BOUNDS.resultListsBytes} together`,
      );
    }
  },

  messages(
    messages: readonly {
      message: string;
      context: string;
      context_type: string;
      extra?: unknown;
    }[],
  ): void {
    messages.forEach((m, i) => {
      const size =
        Buffer.byteLength(m.message) +
        Buffer.byteLength(m.context) +
        Buffer.byteLength(m.context_type) +
        jsonBytes(m.extra ?? {});
      if (size > TASK_BOUNDS.messageBytes) {
        throw new PayloadTooLargeError(
          `message ${i} is ${size} bytes (text, context and extra); a message may hold at most ${TASK_BOUNDS.messageBytes}`,
        );
      }
    });
  },
};
