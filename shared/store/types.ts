import type { Action, ResultStatus, TaskStatus } from '../domain.ts';

/** A result link, serialised by Drydock as `{rel, href}`. */
export interface ResultLink {
  rel: string;
  href: string;
}

/**
 * A task's result summary (Drydock's `TaskStatus`), without its messages: the `result*` columns
 * of the task row and its error count, as `toStatusDict` reads them.
 */
export type TaskResult = Pick<
  TaskRecord,
  | 'resultStatus'
  | 'resultMessage'
  | 'resultReason'
  | 'resultSuccesses'
  | 'resultFailures'
  | 'resultLinks'
  | 'errorCount'
>;

/** A task as stored, one field per column of its row. Timestamps are ISO-8601 UTC strings. */
export interface TaskRecord {
  taskId: string;
  parentTaskId: string | null;
  /** Subtask ids in registration order. */
  subtaskIds: string[];
  action: Action;
  status: TaskStatus;
  designRef: string | null;
  nodeFilter: Record<string, unknown> | null;
  resultStatus: ResultStatus;
  resultMessage: string | null;
  resultReason: string | null;
  resultSuccesses: string[];
  resultFailures: string[];
  resultLinks: ResultLink[];
  /** Error messages the task has (Drydock's `details.errorCount`). */
  errorCount: number;
  retry: number;
  terminate: boolean;
  terminated: string | null;
  terminatedBy: string | null;
  created: string;
  createdBy: string | null;
  updated: string;
  /** Optimistic-concurrency version; sent back as the ETag / If-Match value. */
  version: number;
  /** The lease epoch under which the task was claimed (null until claimed). */
  claimedEpoch: number | null;
  claimedBy: string | null;
  claimedAt: string | null;
  /** The last message sequence handed out (0 = no messages). */
  messageCount: number;
}

/** One result message. */
/** A run of one task's messages, by sequence (both ends included). */
export interface MessageRange {
  taskId: string;
  from: number;
  to: number;
}

export interface MessageRecord {
  sequence: number;
  message: string;
  error: boolean;
  contextType: string;
  context: string;
  ts: string;
  extra: Record<string, unknown>;
}

export interface TaskWithMessages extends TaskRecord {
  messages: MessageRecord[];
}

/** A task inside a tree walk: its depth below the root (root = 1, Drydock's layer numbering). */
export interface TreeTask extends TaskWithMessages {
  layer: number;
}

export interface NewTask {
  /** Caller-chosen id; generated when absent. */
  taskId?: string;
  /** Registers the task as a subtask of this parent (refused while the parent is terminating). */
  parentTaskId?: string;
  action: Action;
  designRef?: string | null;
  nodeFilter?: Record<string, unknown> | null;
  /** `queued` for tasks created through the API; `requested` (default) for subtasks. */
  status?: 'requested' | 'queued';
  createdBy?: string | null;
  /** Stored, never returned. Must not hold credentials. */
  requestContext?: Record<string, unknown> | null;
  /**
   * Idempotency key, scoped to the parent (top-level tasks share one scope): a replayed create
   * returns the existing task with `created: false`.
   */
  requestKey?: string;
  /**
   * The creating orchestrator's lease epoch: the create is fenced by it (refused unless it is the
   * live epoch) and the task is owned by it. Without one, a subtask is owned by its parent's epoch.
   */
  epoch?: number;
  /** Drydock's retry sequence of the attempt that creates the subtask (`create_task(retry=…)`). */
  retry?: number;
  /** Fingerprint of the request the key came with; a replay with another one is refused (422). */
  requestHash?: string;
}

export interface TaskFilter {
  status?: TaskStatus;
  action?: Action;
  /** Only subtasks of this parent. */
  parentTaskId?: string;
  /** Only top-level tasks (no parent). */
  topLevel?: boolean;
  createdBy?: string;
  /** Page size (1..1000). */
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export type SubtaskSelection = 'all' | 'active' | 'complete';

/** A partial result change; absent fields stay as they are. */
export interface ResultChange {
  status?: ResultStatus;
  message?: string | null;
  reason?: string | null;
  /** Entity names to add to successes (de-duplicated). */
  addSuccesses?: string[];
  /** Entity names to add to failures (de-duplicated). */
  addFailures?: string[];
  /** Links to append. */
  addLinks?: ResultLink[];
}

export interface TaskChange {
  status?: TaskStatus;
  result?: ResultChange;
  retry?: number;
}

/** What must hold for a conditional update to apply. */
export interface TaskCondition {
  /** The version the caller read (If-Match); a different current version → ConflictError. */
  expectedVersion?: number;
  /** The writer's lease epoch; not the current one → LeaseLostError. */
  epoch?: number;
  /** Idempotency key of the event carrying this change (SQS): applied at most once. */
  eventKey?: string;
  /** Fingerprint of that event; a replay of the key with another one is refused (422). */
  eventHash?: string;
}

export interface NewMessage {
  message: string;
  error: boolean;
  contextType: string;
  context: string;
  /** Defaults to the database clock. */
  ts?: string;
  extra?: Record<string, unknown>;
  /** A replay of the same key on the same task inserts nothing. */
  idempotencyKey?: string;
}

export interface AppendResult {
  /** Messages inserted by this call, with their sequence numbers. */
  appended: MessageRecord[];
  /** How many of the given messages were already there (replays). */
  duplicates: number;
}

export interface BuildDataRecord {
  buildDataId: number;
  nodeName: string;
  taskId: string;
  collectedDate: string;
  generator: string;
  dataFormat: string;
  /** Absent at verbosity 1. */
  dataElement?: string;
}

export interface NewBuildData {
  nodeName: string;
  taskId: string;
  collectedDate?: string;
  generator: string;
  dataFormat: string;
  dataElement: string;
  idempotencyKey?: string;
}

export interface BuildDataQuery {
  nodeName?: string;
  taskId?: string;
  /** Items of any of these tasks (a whole task tree's build data in one statement). */
  taskIds?: readonly string[];
  /**
   * Items of a task and its descendants down to `layers` layers (-1: all), the tree as
   * `getTaskTree` walks it, so the tree and its build data can share one round trip.
   */
  taskTree?: { readonly rootTaskId: string; readonly layers: number };
  /** Newest row per generator (requires nodeName). */
  latest?: boolean;
  /** 1 omits `dataElement`, 2 includes it. */
  verbosity: 1 | 2;
  limit?: number;
  /** Continue after the item this cursor (a previous answer's `nextCursor`) names. */
  cursor?: string | undefined;
}

export interface LeaseState {
  holder: string;
  epoch: number;
  acquiredAt: string;
  renewedAt: string;
  expiresAt: string;
  /** The database clock when the row was read: leases are decided on it, never on ours. */
  dbNow: string;
  /** Whether the lease is unexpired at `dbNow`. */
  active: boolean;
}

export interface LeaseClaim extends LeaseState {
  /** Whether the caller holds the lease after the claim. */
  held: boolean;
}

export interface ClaimRequest {
  instanceId: string;
  epoch: number;
  /** Only these actions (default: any). */
  actions?: readonly Action[];
  /** How many tasks to claim in one statement (default 1). */
  limit?: number;
}

/** Which of Drydock's two roll-up steps to run; absent steps leave their fields untouched. */
export interface RollUpOptions {
  /** `bubble_results(action_filter)`: successes and failures from the finished subtasks. */
  bubble?: { actionFilter?: Action | undefined } | undefined;
  /** `align_result(action_filter, reset_status)`: the result status from the finished subtasks. */
  align?: { actionFilter?: Action | undefined; resetStatus?: boolean | undefined } | undefined;
  /** The writer's lease epoch (fenced). */
  epoch?: number | undefined;
}

export interface RetryOptions {
  /** The writer's lease epoch (fenced). */
  epoch: number;
  /** Drydock's `max_attempts`: absent or 0 is no limit. */
  maxAttempts?: number | undefined;
  /** Idempotency key of the event carrying the retry (SQS): applied at most once. */
  eventKey?: string | undefined;
}

export interface RetryOutcome {
  /** False when there was nothing to retry (Drydock's `retry_task` returning False). */
  retried: boolean;
  task: TaskRecord;
  /** The event key was already applied: nothing was done this time. */
  duplicate: boolean;
}

export interface RecoveryResult {
  /** Top-level tasks from callers put back in the queue. */
  requeued: number;
  /** Tasks ended instead: orchestrator-made ones, and those whose termination was requested. */
  terminated: number;
}

export interface PurgeResult {
  /** Top-level tasks deleted (their subtasks and messages went with them). */
  deletedTasks: number;
  /** Whether another batch would find more. */
  more: boolean;
}

/** One task of a batched completion: where it ends and what its result becomes. */
export interface TaskCompletion {
  taskId: string;
  /** `complete` (default) or `terminated`. */
  status?: 'complete' | 'terminated';
  result?: ResultChange;
}

/** What a batched completion did to one task. */
export interface CompletionOutcome {
  taskId: string;
  /**
   * `completed`: moved now; `already`: it was at that status (a replay), left as it was;
   * `refused`: its status cannot move there (e.g. queued → complete, or finished); `missing`:
   * no such task.
   */
  outcome: 'completed' | 'already' | 'refused' | 'missing';
  /** Its status after the statement (null when missing). */
  status: TaskStatus | null;
  version: number | null;
}
