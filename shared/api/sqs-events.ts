import type { SQSRecord } from 'aws-lambda';
import type * as z from '#shared/zod.ts';
import type { Deps } from '../deps.ts';
import { ConflictError, MaxRetriesReachedError } from '../errors.ts';
import { recordBuildData } from './build-data.ts';
import { appendTaskMessages } from './messages.ts';
import type { BuildDataEventSchema, MessageEventSchema, TaskEventSchema } from './schemas.ts';
import {
  changeTask,
  completeBatch,
  createSubtask,
  createUserTask,
  type Origin,
  retry,
} from './tasks.ts';

// The SQS event consumers' use cases. A task event's idempotency key is its `event_id` when it
// has one, else the SQS message id; a message's or build-data item's is its own
// `idempotency_key`, else `<SQS message id>:<index>`. So a redelivery (same message id) or a
// re-send by the producer (same keys) is applied once. Keys are scoped (a create's to its
// parent, an update's to its task, build data to its node, messages to their task), and a key
// that comes back with another body is refused (422): the record fails and ends in the DLQ
// instead of being acknowledged as a duplicate of something else.

/** Who sent an SQS message: its sender's IAM principal id (the queue policy decides who may). */
function originOf(record: SQSRecord, key: string): Origin {
  const sender = record.attributes?.SenderId;
  return {
    createdBy: sender ? `sqs:${sender}` : null,
    requestContext: {
      source: 'sqs',
      message_id: record.messageId,
      event_source_arn: record.eventSourceARN,
      principal: sender ?? null,
    },
    requestKey: key,
  };
}

/**
 * Applies a task event: create a top-level task (the POST /tasks rules, or an internal task with
 * the lease epoch) or a subtask, change one, end many, or retry one. Orchestrator writes carry the
 * lease epoch as over HTTP; a stale one fails the record (412) and writes nothing.
 */
export async function applyTaskEvent(
  deps: Deps,
  event: z.Parsed<typeof TaskEventSchema>,
  record: SQSRecord,
): Promise<void> {
  const key = event.event_id ?? record.messageId;
  switch (event.type) {
    case 'create_task':
      // POST /tasks's rules: design_ref required unless the epoch makes it the lease holder's
      // internal task (stored without one, as over HTTP).
      await createUserTask(deps, event, originOf(record, `sqs:${key}`));
      return;
    case 'create_subtask':
      await createSubtask(deps, event.parent_task_id, event, originOf(record, `sqs:${key}`));
      return;
    case 'update_task':
      // Scoped to the task: an event id reused for another task is another event.
      await changeTask(deps, event.task_id, event, {
        expectedVersion: event.expected_version,
        eventKey: `sqs:${event.task_id}:${key}`,
      });
      return;
    case 'complete_tasks': {
      const { tasks } = await completeBatch(deps, event, `sqs:complete:${key}`);
      // A task that cannot end so (missing, finished otherwise, still queued) fails the record,
      // as a refused update does; the others have moved, and a redelivery changes nothing more.
      const stuck = tasks.filter((t) => t.outcome === 'refused' || t.outcome === 'missing');
      if (stuck.length > 0) {
        throw new ConflictError(
          `tasks not ended: ${stuck.map((t) => `${t.task_id} (${t.outcome}, ${t.status ?? 'no such task'})`).join(', ')}`,
        );
      }
      return;
    }
    case 'retry_task':
      try {
        await retry(deps, event.task_id, event, `sqs:${key}`);
      } catch (error) {
        // Out of attempts is Drydock's normal answer, recorded on the task; not a poison message.
        if (!(error instanceof MaxRetriesReachedError)) throw error;
      }
      return;
  }
}

/** Appends a message event's messages (keys `<event key>:<index>` unless a message has its own). */
export async function applyMessageEvent(
  deps: Deps,
  event: z.Parsed<typeof MessageEventSchema>,
  record: SQSRecord,
): Promise<void> {
  await appendTaskMessages(
    deps,
    event.task_id,
    event.messages,
    `sqs:${record.messageId}`,
    event.epoch,
  );
}

/** Stores a build-data event's items (keys as for messages). */
export async function applyBuildDataEvent(
  deps: Deps,
  event: z.Parsed<typeof BuildDataEventSchema>,
  record: SQSRecord,
): Promise<void> {
  await recordBuildData(deps, event.node_name, event.items, `sqs:${record.messageId}`, event.epoch);
}
