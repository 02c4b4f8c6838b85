import * as z from '#shared/zod.ts';
import {
  AppendMessagesBodySchema,
  ListMessagesQuerySchema,
  MessageDictSchema,
  TaskIdParamsSchema,
} from '../../api/schemas.ts';
import { API_PREFIX } from '../../api/shapes.ts';
import { waitForMessages, waitHeaders } from '../../api/wait.ts';
import { loadOnce } from '../../load-once.ts';
import { idempotencyKeyOf, nextLink } from '../conventions.ts';
import { type AnyRoute, defineRoute } from '../route.ts';
import { errorResponse as err } from './responses.ts';

// The use cases (and the store) load with the first request that needs them, not at init.
const messagesApi = loadOnce(() => import('../../api/messages.ts'));

const MESSAGES = `${API_PREFIX}/tasks/{task_id}/messages`;

/** The result-message operations (the `messages` function). */
export const messageRoutes: readonly AnyRoute[] = [
  defineRoute({
    method: 'POST',
    path: MESSAGES,
    operationId: 'appendMessages',
    summary: 'Append one message or an array of them (in order, numbered without gaps)',
    tag: 'messages',
    policy: 'physical_provisioner:append_messages',
    params: TaskIdParamsSchema,
    body: AppendMessagesBodySchema,
    requestHeaders: { 'Idempotency-Key': 'optional; a replayed batch appends nothing' },
    responses: {
      201: {
        description: 'Appended (duplicates: replays skipped)',
        schema: z.lazySchema(() =>
          z.object({ appended: z.array(MessageDictSchema()), duplicates: z.int() }),
        ),
      },
      400: err('Bad body'),
      404: err('No such task'),
      412: err('Stale lease epoch'),
      413: err('Body too large'),
    },
    async handle({ deps, params, body, headers }) {
      const { appendTaskMessages } = await messagesApi();
      // One message, an array, or an orchestrator's {epoch, messages} (fenced).
      const envelope = !Array.isArray(body) && 'epoch' in body ? body : undefined;
      const messages =
        envelope?.messages ??
        (Array.isArray(body) ? body : [body as Exclude<typeof body, { epoch: number }>]);
      const result = await appendTaskMessages(
        deps,
        params.task_id,
        messages,
        idempotencyKeyOf(headers),
        envelope?.epoch,
      );
      return { status: 201, body: result };
    },
  }),
  defineRoute({
    method: 'GET',
    path: MESSAGES,
    operationId: 'listMessages',
    summary: "A page of a task's messages after sequence `after` (next page: X-Next-Cursor / Link)",
    tag: 'messages',
    policy: 'physical_provisioner:read_task',
    params: TaskIdParamsSchema,
    query: ListMessagesQuerySchema,
    responses: {
      200: {
        description: 'Messages in sequence order',
        schema: z.lazySchema(() => z.array(MessageDictSchema())),
        headers: { 'X-Wait': 'with wait: changed (a message after `after` exists), or timeout' },
      },
      400: err('Bad id or query'),
      404: err('No such task'),
    },
    async handle({ deps, params, query }) {
      const { pageTaskMessages } = await messagesApi();
      const waited =
        query.wait === undefined
          ? undefined
          : await waitForMessages(deps, params.task_id, {
              seconds: query.wait,
              after: query.after ?? 0,
              version: query.version,
            });
      const page = await pageTaskMessages(deps, params.task_id, query);
      const path = `${API_PREFIX}/tasks/${params.task_id}/messages`;
      return {
        status: 200,
        body: page.messages,
        headers: {
          ...waitHeaders(waited),
          ...(page.nextAfter === null
            ? {}
            : {
                'X-Next-Cursor': String(page.nextAfter),
                Link: nextLink(path, { after: page.nextAfter, limit: page.limit }),
              }),
        },
      };
    },
  }),
];
