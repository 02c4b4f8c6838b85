import { PayloadTooLargeError } from '../errors.ts';
import {
  BUILD_DATA_PAYLOAD_BYTES,
  jsonAnswerBytes,
  messageAnswerBytes,
  TASK_BOUNDS,
  textAnswerBytes,
} from '../store/bounds.ts';
import { envelopeBytes } from './answer-budget.ts';

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value ?? null));

/**
 * Refusals (413) of a request that alone exceeds a task bound (`store/bounds.ts`), before it
 * reaches the database; what accumulates over many requests is refused there (409).
 */
export const bounds = {
  /** A node filter, measured as a task row holds it (JSON text, escaped once). */
  nodeFilter(filter: unknown): void {
    if (filter == null) return;
    const size = envelopeBytes(filter);
    if (size > TASK_BOUNDS.nodeFilterBytes) {
      throw new PayloadTooLargeError(
        `node_filter is ${size} bytes of JSON (escaped once, as an answer carries it); a task's node filter may hold at most ${TASK_BOUNDS.nodeFilterBytes}`,
      );
    }
  },

  resultChange(
    result:
      | {
          message?: string | null | undefined;
          reason?: string | null | undefined;
          add_successes?: unknown[] | undefined;
          add_failures?: unknown[] | undefined;
          add_links?: unknown[] | undefined;
        }
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
    // The whole change as the task's row counts it (`tasks.answer_bytes`: each value as JSON
    // text, escaped once): alone past the row bound, it can never fit.
    const rowSize =
      jsonAnswerBytes(result.add_successes ?? []) +
      jsonAnswerBytes(result.add_failures ?? []) +
      jsonAnswerBytes(result.add_links ?? []) +
      textAnswerBytes(result.message) +
      textAnswerBytes(result.reason);
    if (rowSize > TASK_BOUNDS.rowBytes) {
      throw new PayloadTooLargeError(
        `result message, reason and entity lists are ${rowSize} bytes as JSON; one task row ` +
          `(one Data API row) holds at most ${TASK_BOUNDS.rowBytes} of them with its other fields`,
      );
    }
  },

  /**
   * Build-data payloads, each within what one read can return (as JSON text, escaped once, as
   * `build_data_payload_bound` counts it).
   */
  buildData(items: readonly { data_element: string }[]): void {
    items.forEach((item, i) => {
      const size = textAnswerBytes(item.data_element);
      if (size > BUILD_DATA_PAYLOAD_BYTES) {
        throw new PayloadTooLargeError(
          `item ${i}: data_element is ${size} bytes as JSON text; one build-data payload may hold at most ` +
            `${BUILD_DATA_PAYLOAD_BYTES}, what one read (one Data API answer) can return with its metadata`,
        );
      }
    });
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
      const size = messageAnswerBytes({ ...m, contextType: m.context_type });
      if (size > TASK_BOUNDS.messageBytes) {
        throw new PayloadTooLargeError(
          `message ${i} is ${size} bytes as JSON (text, context and extra, escaped once, as an ` +
            `answer carries them); a message may hold at most ${TASK_BOUNDS.messageBytes}`,
        );
      }
    });
  },
};
