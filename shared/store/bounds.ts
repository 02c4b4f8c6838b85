/**
 * How much one task may hold and one read may return, so that every answer fits what carries it:
 * a Lambda answer stops at 6 MB, a Data API result at 1 MiB and a Data API row at 64 KB.
 * Migrations 0004 and 0008 enforce the write bounds as constraints (named here), so every writer
 * (the API, the SQS consumers, roll-up, subtask registration) meets them; the API refuses a
 * request that alone exceeds one before it reaches the database.
 */
export const TASK_BOUNDS = {
  /**
   * A task row as a read returns it (`tasks.answer_bytes`, `tasks_row_bound`): every text and
   * JSON value as JSON text (escaped once), plus `subtaskIdBytes` a subtask. With the ids and
   * timestamps left out of it (about 200 bytes) a row stays under the Data API's 64 KB.
   */
  rowBytes: 62 * 1024,
  /** What one subtask id adds to its parent's row: `"<uuid>", ` escaped once. */
  subtaskIdBytes: 42,
  /** A task's successes, failures and links together, as JSON (`tasks_result_lists_bound`). */
  resultListsBytes: 48 * 1024,
  /**
   * A task's node filter as JSON escaped once, at most; the database keeps 64 KiB of JSON
   * (`tasks_node_filter_bound`) as a second line, and the row bound holds it with the rest.
   */
  nodeFilterBytes: 48 * 1024,
  /**
   * One message: text, context, context type and `extra` as JSON (`result_message_bound`). A
   * message row with its timestamp stays under the Data API's 64 KB.
   */
  messageBytes: 62 * 1024,
} as const;

/**
 * One build-data payload as JSON text, escaped once (`build_data_payload_bound`): with its
 * metadata it stays within one read's `READ_BUDGET_BYTES`, so any stored item can be read.
 */
export const BUILD_DATA_PAYLOAD_BYTES = 480 * 1024;

/**
 * Bytes of rows one read statement returns at most: a page of tasks or messages, a task with
 * its messages, a task tree. Half the Data API's 1 MiB result, so JSON escaping and field
 * framing still fit; the first row is always returned, so paging always moves on.
 */
export const READ_BUDGET_BYTES = 512 * 1024;

/** Messages embedded in one task of an answer at most; the rest are paged (`/messages`). */
export const EMBEDDED_MESSAGES = 1000;

/** The write-bound constraints and the status a violation maps to. */
export const BOUND_CONSTRAINTS = {
  tasks_result_lists_bound: 'accumulated',
  tasks_row_bound: 'row',
  tasks_node_filter_bound: 'request',
  result_message_bound: 'request',
  build_data_payload_bound: 'request',
} as const;

/**
 * `list` with `meta` as properties that are not enumerable: a list answer that says what it left
 * out (`nextCursor`, `total`) stays a plain array to JSON and to equality checks.
 */
export function withMeta<T extends unknown[], M extends object>(list: T, meta: M): T & M {
  for (const [key, value] of Object.entries(meta)) {
    Object.defineProperty(list, key, { value, enumerable: false });
  }
  return list as T & M;
}
