import type {
  BuildDataRecord,
  LeaseClaim,
  LeaseState,
  MessageRecord,
  TaskRecord,
  TaskResult,
} from '../store/types.ts';

/**
 * Drydock's JSON shapes (`Task.to_dict`, `TaskStatus.to_dict`, `TaskStatusMessage.to_dict`,
 * `BuildData.to_dict`) built from store records, with Drydock's defects fixed: timestamps are
 * ISO-8601 UTC (the store already gives them so), `extra` is an object rather than a JSON string
 * (defect 19), messages are never truncated (defect 20), and `request_context` is never exposed.
 * Additions are extra keys only (`sequence`, `version`), so Drydock's client keeps working.
 */

/** Every Drydock-compatible route lives under this prefix (`/versions` aside); links carry it. */
export const API_PREFIX = '/api/v1.0';

export interface MessageDict {
  sequence: number;
  message: string;
  error: boolean;
  context_type: string;
  context: string;
  ts: string;
  extra: Record<string, unknown>;
}

export interface StatusDict {
  kind: 'Status';
  apiVersion: 'v1.0';
  metadata: Record<string, never>;
  message: string | null;
  reason: string | null;
  status: TaskResult['resultStatus'];
  successes: string[];
  failures: string[];
  links: { rel: string; href: string }[];
  details: { errorCount: number; messageList: MessageDict[] };
  task_id?: string;
}

export interface TaskDict {
  kind: 'Task';
  apiVersion: 'v1';
  task_id: string;
  action: TaskRecord['action'];
  parent_task_id: string | null;
  design_ref: string | null;
  status: TaskRecord['status'];
  result: StatusDict;
  node_filter: Record<string, unknown> | null;
  subtask_id_list: string[];
  created: string;
  created_by: string | null;
  updated: string;
  terminated: string | null;
  terminated_by: string | null;
  terminate: boolean;
  retry: number;
  version: number;
  build_data?: BuildDataDict[];
  subtask_errors?: Record<string, StatusDict>;
  /** Present when the answer had to leave something out to stay within its size bound. */
  truncated?: Truncation;
}

/** What an answer left out, and where to read it. */
export interface Truncation {
  /** The task's messages: `shown` of `total` are embedded; page the rest from `next`. */
  messages?: { shown: number; total: number; next: string };
  /** The tree's tasks: `shown` of `total` are in the answer; walk the rest from `next`. */
  tasks?: { shown: number; total: number; next: string };
  /** The build data embedded with `builddata=true`: not all of it fitted; page it from `next`. */
  build_data?: { next: string };
}

export interface BuildDataDict {
  node_name: string;
  task_id: string;
  collected_date: string;
  generator: string;
  data_format: string;
  data_element?: string;
}

/** `TaskStatusMessage.to_dict()`, plus its `sequence` (the paging key). */
export function toMessageDict(message: MessageRecord): MessageDict {
  return {
    sequence: message.sequence,
    message: message.message,
    error: message.error,
    context_type: message.contextType,
    context: message.context,
    ts: message.ts,
    extra: message.extra,
  };
}

/**
 * `TaskStatus.to_dict()`. Without messages (list views) `messageList` is empty while
 * `errorCount` still counts every error message the task has.
 */
export function toStatusDict(
  result: TaskResult,
  messages: readonly MessageRecord[] = [],
): StatusDict {
  return {
    kind: 'Status',
    apiVersion: 'v1.0',
    metadata: {},
    message: result.resultMessage,
    reason: result.resultReason,
    status: result.resultStatus,
    successes: [...result.resultSuccesses],
    failures: [...result.resultFailures],
    links: result.resultLinks.map((link) => ({ rel: link.rel, href: link.href })),
    details: { errorCount: result.errorCount, messageList: messages.map(toMessageDict) },
  };
}

/** `Task.to_dict()`, plus `version` (the ETag / If-Match value). */
export function toTaskDict(task: TaskRecord, messages: readonly MessageRecord[] = []): TaskDict {
  return {
    kind: 'Task',
    apiVersion: 'v1',
    task_id: task.taskId,
    action: task.action,
    parent_task_id: task.parentTaskId,
    design_ref: task.designRef,
    status: task.status,
    result: toStatusDict(task, messages),
    node_filter: task.nodeFilter,
    subtask_id_list: [...task.subtaskIds],
    created: task.created,
    created_by: task.createdBy,
    updated: task.updated,
    terminated: task.terminated,
    terminated_by: task.terminatedBy,
    terminate: task.terminate,
    retry: task.retry,
    version: task.version,
  };
}

/** `BuildData.to_dict(verbosity)`: the payload only at verbosity 2 (Drydock ignored it, defect 4). */
export function toBuildDataDict(item: BuildDataRecord): BuildDataDict {
  return {
    node_name: item.nodeName,
    task_id: item.taskId,
    collected_date: item.collectedDate,
    generator: item.generator,
    data_format: item.dataFormat,
    ...(item.dataElement === undefined ? {} : { data_element: item.dataElement }),
  };
}

export interface LeaseDict {
  holder: string;
  epoch: number;
  acquired_at: string;
  renewed_at: string;
  expires_at: string;
  db_now: string;
  active: boolean;
  held?: boolean;
}

/** The lease row as JSON; `held` only on claim answers. */
export function toLeaseDict(lease: LeaseState | LeaseClaim): LeaseDict {
  return {
    holder: lease.holder,
    epoch: lease.epoch,
    acquired_at: lease.acquiredAt,
    renewed_at: lease.renewedAt,
    expires_at: lease.expiresAt,
    db_now: lease.dbNow,
    active: lease.active,
    ...('held' in lease ? { held: lease.held } : {}),
  };
}
