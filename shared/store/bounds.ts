import { type SqlFragment, sql } from '../db/sql.ts';

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
   * One message: text, context, context type and `extra` as JSON text, escaped once
   * (`result_message_bound`, `messageAnswerBytes`). A message row with its timestamp stays under
   * the Data API's 64 KB.
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
 * its messages, a task tree, counted as the Data API carries them (values as JSON text, each
 * row's `ROW_FRAMING_BYTES`). Half the Data API's 1 MiB result, so what a count leaves out (the
 * task row of a task read, a row past the budget when it is the first) still fits; the first
 * row is always returned, so paging always moves on.
 */
export const READ_BUDGET_BYTES = 512 * 1024;

/**
 * What one row adds to a Data API result besides its values' JSON text (which the reads count
 * exactly: `tasks.answer_bytes`, `message_answer_bytes`, `json_text_bytes`): the field wrappers
 * (`{"stringValue":"…"}`, `{"isNull":true}`, 15 to 18 bytes a field) and the values a count
 * leaves out (ids, numbers, timestamps). Measured on the Data API emulator, with a margin
 * (`test/store/read-bytes.test.ts`), for each shape of row a read returns.
 */
export const ROW_FRAMING_BYTES = {
  /** A task row: 26 fields, 6 of them ids and timestamps. */
  task: 1024,
  /** A message read with its task or tree: the task's 26 fields are null on its row. */
  embeddedMessage: 704,
  /** A message on its own (`/messages`). */
  message: 320,
  /**
   * A message in the every-task listing's first statement, where the task's fields are null on
   * its row; its further pages of messages count theirs the same, so both cut alike.
   */
  listedMessage: 768,
  /** A build-data row: its metadata, repeated on each chunk of the payload. */
  buildData: 384,
} as const;

/** Bytes of `text` as JSON text (escaped once), what `json_text_bytes` counts (migration 0008). */
export function textAnswerBytes(text: string | null | undefined): number {
  return text == null ? 4 : Buffer.byteLength(JSON.stringify(text));
}

/**
 * Bytes of a JSON value as a `jsonb` column carries it into an answer: its Postgres text (with
 * `", "` and `": "` between items), escaped once more as a string, what
 * `json_text_bytes(value::text)` counts. Numbers count as JavaScript prints them; Postgres may
 * print an exponent longer, so the database's bound stays the second line.
 */
export function jsonAnswerBytes(value: unknown): number {
  return value == null ? 4 : textAnswerBytes(jsonbText(value));
}

function jsonbText(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(jsonbText).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const items = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${jsonbText(v)}`);
    return `{${items.join(', ')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * A message's values as an answer carries them: the bound `result_message_bound` and the byte
 * sums of the reads (`message_answer_bytes`, migration 0010), counted here the same way.
 */
export function messageAnswerBytes(m: {
  message: string;
  context: string;
  contextType: string;
  extra?: unknown;
}): number {
  return (
    textAnswerBytes(m.message) +
    textAnswerBytes(m.context) +
    textAnswerBytes(m.contextType) +
    jsonAnswerBytes(m.extra ?? {})
  );
}

/**
 * `message_answer_bytes` (migration 0010) of the message row `m`, written out for the reads: a
 * PL/pgSQL call a row cost a 100-message task read about 460 µs more server CPU than before,
 * its body inlined about 320 µs (`npm run bench -- --phases store --store-cases get-task`).
 */
export const messageAnswerBytesSql = (m: SqlFragment): SqlFragment =>
  sql`(octet_length(to_json(${m}.message)::text) + octet_length(to_json(${m}.context)::text)
    + octet_length(to_json(${m}.context_type)::text) + octet_length(to_json(${m}.extra::text)::text))`;

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
  for (const key in meta) {
    Object.defineProperty(list, key, { value: meta[key], enumerable: false });
  }
  return list as T & M;
}
