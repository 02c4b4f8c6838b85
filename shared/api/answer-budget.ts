/**
 * Every answer has a bound below what carries it: a Lambda answer stops at 6 MB (the body
 * inside a JSON envelope, so escaped once more), a Data API result at 1 MiB. One mechanism keeps
 * every list answer under it:
 *
 * 1. each read statement returns at most `READ_BUDGET_BYTES` of rows (`store/bounds.ts`),
 *    counted in SQL, always at least one row, and says whether it stopped early;
 * 2. an answer assembled from several statements (`GET /tasks` without `limit`, which is
 *    Drydock's every-task listing) stops once it would pass `ANSWER_BUDGET_BYTES`, always after
 *    at least one item;
 * 3. what was left out is said where the answer's shape allows: in the body of a task
 *    (`truncated`), and in headers on a JSON array (Drydock's list shapes, which its client
 *    iterates as they are): `X-Next-Cursor` and `Link: <…>; rel="next"` where the rest can be
 *    read, `X-Total-Count` where it cannot be paged but its size is known.
 */
export const ANSWER_BUDGET_BYTES = 4 * 1024 * 1024;

/**
 * Bytes `value` adds to an answer as the Lambda envelope carries it: its JSON, escaped once more
 * as the envelope's `body` string (each quote and backslash counts twice).
 */
export function envelopeBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(JSON.stringify(value))) - 2;
}

/** Items taken into one answer until the next would pass the budget; the first always fits. */
export class AnswerBudget {
  readonly #limit: number;
  #used = 2;
  #taken = 0;

  constructor(limit: number = ANSWER_BUDGET_BYTES) {
    this.#limit = limit;
  }

  /** Takes `item` (true) or refuses it (false): the answer ends before it. */
  take(item: unknown): boolean {
    const size = envelopeBytes(item) + 1;
    if (this.#taken > 0 && this.#used + size > this.#limit) return false;
    this.#used += size;
    this.#taken += 1;
    return true;
  }

  /** Bytes the answer has left before its bound. */
  get left(): number {
    return this.#limit - this.#used;
  }
}
