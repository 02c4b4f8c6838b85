import type * as z from '#shared/zod.ts';
import type { Deps } from '../deps.ts';
import { appendMessages, listMessages } from '../store/messages.ts';
import type { NewMessage } from '../store/types.ts';
import { bounds } from './bounds.ts';
import type { NewMessageSchema } from './schemas.ts';
import { type MessageDict, toMessageDict } from './shapes.ts';

type WireMessage = z.Parsed<typeof NewMessageSchema>;

/** Default page size of `GET /tasks/{id}/messages`. */
export const DEFAULT_MESSAGE_PAGE = 100;

/**
 * Appends messages to a task in one statement, in the given order. Each message's idempotency
 * key is its own `idempotency_key`, else `<batchKey>:<index>` when the request carries one (the
 * `Idempotency-Key` header, the SQS message id), so a replayed batch appends nothing. An
 * orchestrator's append carries its lease `epoch` and is refused (412, nothing written) once that
 * epoch is stale; other writers (a node's report, an operator's note) append without one.
 */
export async function appendTaskMessages(
  deps: Pick<Deps, 'db' | 'bus'>,
  taskId: string,
  messages: readonly WireMessage[],
  batchKey?: string,
  epoch?: number,
): Promise<{ appended: MessageDict[]; duplicates: number }> {
  bounds.messages(messages);
  const input: NewMessage[] = messages.map((m, i) => {
    const key = m.idempotency_key ?? (batchKey ? `${batchKey}:${i}` : undefined);
    return {
      message: m.message,
      error: m.error,
      contextType: m.context_type,
      context: m.context,
      ...(m.ts ? { ts: m.ts } : {}),
      ...(m.extra ? { extra: m.extra } : {}),
      ...(key ? { idempotencyKey: key } : {}),
    };
  });
  const result = await appendMessages(deps.db, taskId, input, { epoch });
  // A message has no event of its own: waits on this task in this process are told directly.
  if (result.appended.length > 0) deps.bus?.signal({ taskId, kind: 'message' });
  return { appended: result.appended.map(toMessageDict), duplicates: result.duplicates };
}

/**
 * A page of a task's messages after sequence `after`, and the `after` of the next page: set when
 * the page is full or the answer's byte budget ended it early.
 */
export async function pageTaskMessages(
  deps: Pick<Deps, 'db'>,
  taskId: string,
  options: { after?: number | undefined; limit?: number | undefined },
): Promise<{ messages: MessageDict[]; nextAfter: number | null; limit: number }> {
  const limit = options.limit ?? DEFAULT_MESSAGE_PAGE;
  const page = await listMessages(deps.db, taskId, { after: options.after ?? 0, limit });
  const last = page.messages.at(-1);
  return {
    messages: page.messages.map(toMessageDict),
    nextAfter: page.more && last ? last.sequence : null,
    limit,
  };
}
