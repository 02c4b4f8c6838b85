import { type ColumnSpec, type Row, type SqlFragment, sql } from '../db/sql.ts';
import type { Action, ResultStatus, TaskStatus } from '../domain.ts';
import type { MessageRecord, ResultLink, TaskRecord } from './types.ts';

/** Output columns of a task row, in the order of `TASK_SELECT`. */
export const TASK_COLUMNS = {
  taskId: 'uuid',
  parentTaskId: 'uuid?',
  subtaskIds: 'json',
  action: 'text',
  status: 'text',
  designRef: 'text?',
  nodeFilter: 'json?',
  resultStatus: 'text',
  resultMessage: 'text?',
  resultReason: 'text?',
  resultSuccesses: 'json',
  resultFailures: 'json',
  resultLinks: 'json',
  errorCount: 'int',
  retry: 'int',
  terminate: 'bool',
  terminated: 'timestamptz?',
  terminatedBy: 'text?',
  created: 'timestamptz',
  createdBy: 'text?',
  updated: 'timestamptz',
  version: 'int',
  claimedEpoch: 'int?',
  claimedBy: 'text?',
  claimedAt: 'timestamptz?',
  messageCount: 'int',
} as const satisfies ColumnSpec;

function taskSelect(subtaskIds: SqlFragment): SqlFragment {
  return sql`t.task_id as "taskId", t.parent_task_id as "parentTaskId", ${subtaskIds} as "subtaskIds",
  t.action as "action", t.status as "status", t.design_ref as "designRef", t.node_filter as "nodeFilter",
  t.result_status as "resultStatus", t.result_message as "resultMessage", t.result_reason as "resultReason",
  t.result_successes as "resultSuccesses", t.result_failures as "resultFailures", t.result_links as "resultLinks",
  t.error_count as "errorCount", t.retry as "retry", t.terminate as "terminate", t.terminated as "terminated",
  t.terminated_by as "terminatedBy", t.created as "created", t.created_by as "createdBy", t.updated as "updated",
  t.version as "version", t.claimed_epoch as "claimedEpoch", t.claimed_by as "claimedBy", t.claimed_at as "claimedAt",
  t.message_seq as "messageCount"`;
}

/**
 * The select list for a task row aliased `t` (a table or a CTE returning `tasks.*`). The subtask
 * list is derived from `parent_task_id` (an index probe), so no array column can be rewritten by a
 * stale writer as Drydock's `subtask_id_list` was. A task that never registered a subtask
 * (`subtask_count`, counted under its row lock by every subtask create, migration 0008) skips the
 * probe: most tasks, every claimed one in a drain.
 */
const SUBTASK_IDS = sql`case when t.subtask_count = 0 then '[]'::jsonb else coalesce((select jsonb_agg(c.task_id order by c.seq) from tasks c where c.parent_task_id = t.task_id), '[]'::jsonb) end`;

export const TASK_SELECT = taskSelect(SUBTASK_IDS);

type TaskRow = Row<typeof TASK_COLUMNS>;

/**
 * A task row from a statement that may return its one row without a task (a left join on an
 * insert or update that wrote nothing): those statements declare `taskId` and `created` nullable.
 */
type MaybeTaskRow = { readonly taskId: string | null; readonly created: string | null };

/**
 * True when the row carries a task. The task's columns come from one row of `tasks`, so when its
 * id and creation time (NOT NULL there) are present, the rest of the task row is too.
 */
export function hasTask<R extends MaybeTaskRow>(row: R | undefined): row is R & TaskRow {
  return row !== undefined && row.taskId !== null && row.created !== null;
}

/**
 * The record of a decoded task row: its task columns field for field (the SQL aliases them, so
 * nothing is renamed or nested), typed as what the table's checks let them hold, and without the
 * other columns a statement returns beside them (a joined message, a layer, a flag).
 */
export function toTaskRecord(row: TaskRow): TaskRecord {
  return {
    taskId: row.taskId,
    parentTaskId: row.parentTaskId,
    subtaskIds: row.subtaskIds as string[],
    action: row.action as Action,
    status: row.status as TaskStatus,
    designRef: row.designRef,
    nodeFilter: row.nodeFilter as Record<string, unknown> | null,
    resultStatus: row.resultStatus as ResultStatus,
    resultMessage: row.resultMessage,
    resultReason: row.resultReason,
    resultSuccesses: row.resultSuccesses as string[],
    resultFailures: row.resultFailures as string[],
    resultLinks: row.resultLinks as ResultLink[],
    errorCount: row.errorCount,
    retry: row.retry,
    terminate: row.terminate,
    terminated: row.terminated,
    terminatedBy: row.terminatedBy,
    created: row.created,
    createdBy: row.createdBy,
    updated: row.updated,
    version: row.version,
    claimedEpoch: row.claimedEpoch,
    claimedBy: row.claimedBy,
    claimedAt: row.claimedAt,
    messageCount: row.messageCount,
  };
}

/** Output columns of a message joined onto a task row (null when the task has none). */
export const JOINED_MESSAGE_COLUMNS = {
  msgSequence: 'int?',
  msgMessage: 'text?',
  msgError: 'bool?',
  msgContextType: 'text?',
  msgContext: 'text?',
  msgTs: 'timestamptz?',
  msgExtra: 'json?',
} as const satisfies ColumnSpec;

export const JOINED_MESSAGE_SELECT = sql`m.sequence as "msgSequence", m.message as "msgMessage",
  m.error as "msgError", m.context_type as "msgContextType", m.context as "msgContext", m.ts as "msgTs",
  m.extra as "msgExtra"`;

/** The message of a joined row, or null for a task without messages. */
export function toJoinedMessage(row: Row<typeof JOINED_MESSAGE_COLUMNS>): MessageRecord | null {
  if (row.msgSequence === null) return null;
  return {
    sequence: row.msgSequence,
    message: row.msgMessage as string,
    error: row.msgError as boolean,
    contextType: row.msgContextType as string,
    context: row.msgContext as string,
    ts: row.msgTs as string,
    extra: row.msgExtra as Record<string, unknown>,
  };
}
