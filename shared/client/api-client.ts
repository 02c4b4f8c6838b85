import createClient from 'openapi-fetch';
import { ApiAnswerError } from '../errors.ts';
import type { components, paths } from './api-types.generated.ts';

/**
 * The typed client of the service's HTTP API, used by the CLI (`infra/cli/`) and the console
 * (`infra/console/`). Its types are generated from `functions/openapi.json`
 * (`api-types.generated.ts`), so a route or schema change it does not follow fails `tsc`. It runs
 * in Node and in the browser alike: plain `fetch`, nothing else.
 *
 * Every method makes exactly one HTTP request; paging and waiting are the caller's loop.
 */

export type Task = components['schemas']['Task'];
export type TaskStatus = Task['status'];
export type TaskAction = Task['action'];
export type TaskResult = components['schemas']['TaskStatus'];
export type Message = components['schemas']['TaskStatusMessage'];
export type BuildData = components['schemas']['BuildData'];
export type Lease = components['schemas']['Lease'];
export type QueueHealth = components['schemas']['QueueHealth'];
export type CreateTaskRequest = components['schemas']['CreateTaskRequest'];

/** How much of a tree one answer held, when its bound cut the tree (`truncated.tasks`). */
export type TreeCut = NonNullable<components['schemas']['Truncation']['tasks']>;

/**
 * `GET /tasks/{id}?layers=-1`: every task of the tree by id, and the id of its root; `truncated`
 * when the tree was larger than one answer holds (the answer then has the first `shown` of its
 * `total` tasks, root first).
 */
export interface TaskTree {
  readonly rootId: string;
  readonly tasks: ReadonlyMap<string, Task>;
  readonly truncated?: TreeCut;
}

/** A design validation message as `/validatedesign` reports it (both field spellings). */
export interface ValidationMessage {
  name?: string;
  message: string;
  error?: boolean;
  level?: string;
  kind?: string;
  diagnostic?: string | null;
  /** The documents involved: `documents` (Drydock) or `docs` (earlier answers). */
  documents?: { schema?: string; name?: string }[];
  docs?: { schema?: string; name?: string }[];
}

/** Drydock's validation Status: `code` 200 when the design is valid, 400 when it is not. */
export interface ValidationStatus {
  kind: 'Status';
  status: string;
  message?: string;
  code: number;
  details: { errorCount: number; messageList: ValidationMessage[] };
}

export interface ApiClientOptions {
  /** The API's base URL without `/api/v1.0` (`http://127.0.0.1:3000`; the console: its origin). */
  readonly baseUrl: string;
  /** A fetch that signs or decorates requests (SigV4, a Keystone token, a console header). */
  readonly fetch?: (request: Request) => Promise<Response>;
}

function fail(what: string, response: Response, body: unknown): never {
  throw new ApiAnswerError(response.status, body, what);
}

/** Creates the client. */
export function createApiClient(options: ApiClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetcher = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const api = createClient<paths>({ baseUrl, fetch: fetcher });

  return {
    /** `GET /health`: true when the service and its database answer. */
    async health(): Promise<boolean> {
      const { response } = await api.GET('/api/v1.0/health');
      return response.status === 204;
    },

    /** One page of tasks, newest first; `nextCursor` asks for the next page. */
    async listTasks(filter: {
      status?: TaskStatus | undefined;
      action?: TaskAction | undefined;
      topLevel?: boolean | undefined;
      parentTaskId?: string | undefined;
      limit?: number | undefined;
      cursor?: string | undefined;
    }): Promise<{ tasks: Task[]; nextCursor: string | null }> {
      const { data, error, response } = await api.GET('/api/v1.0/tasks', {
        params: {
          query: {
            ...(filter.status ? { status: filter.status } : {}),
            ...(filter.action ? { action: filter.action } : {}),
            ...(filter.topLevel ? { top_level: 'true' } : {}),
            ...(filter.parentTaskId ? { parent_task_id: filter.parentTaskId } : {}),
            ...(filter.limit ? { limit: String(filter.limit) } : {}),
            ...(filter.cursor ? { cursor: filter.cursor } : {}),
          },
        },
      });
      if (!data) fail('list tasks', response, error);
      return { tasks: data, nextCursor: response.headers.get('X-Next-Cursor') };
    },

    /** A task with its messages (and, with `builddata`, its build data without payloads). */
    async getTask(taskId: string, options: { builddata?: boolean } = {}): Promise<Task> {
      const { data, error, response } = await api.GET('/api/v1.0/tasks/{task_id}', {
        params: {
          path: { task_id: taskId },
          query: options.builddata ? { builddata: 'true' } : {},
        },
      });
      if (!data) fail(`get task ${taskId}`, response, error);
      return data as Task;
    },

    /**
     * The task once its version passes `version`, or after `seconds` unchanged (the service cuts
     * the wait to its bound, 25 s on API Gateway). `waited` is false when the service did not
     * wait (one without waits answers at once): the caller then polls as before.
     */
    async waitForTask(
      taskId: string,
      options: { seconds: number; version: number },
    ): Promise<{ task: Task; waited: boolean; changed: boolean }> {
      const { data, error, response } = await api.GET('/api/v1.0/tasks/{task_id}', {
        params: {
          path: { task_id: taskId },
          query: { wait: String(options.seconds), version: String(options.version) },
        },
      });
      if (!data) fail(`wait for task ${taskId}`, response, error);
      const outcome = response.headers.get('X-Wait');
      return { task: data as Task, waited: outcome !== null, changed: outcome === 'changed' };
    },

    /**
     * Waits until the task has a message after `after` (or its version passes `version`), at
     * most `seconds`; reads nothing else. `waited` as for `waitForTask`.
     */
    async waitForMessages(
      taskId: string,
      options: { seconds: number; after: number; version?: number },
    ): Promise<{ waited: boolean; changed: boolean }> {
      const { data, error, response } = await api.GET('/api/v1.0/tasks/{task_id}/messages', {
        params: {
          path: { task_id: taskId },
          query: {
            after: String(options.after),
            limit: '1',
            wait: String(options.seconds),
            ...(options.version !== undefined ? { version: String(options.version) } : {}),
          },
        },
      });
      if (!data) fail(`wait for messages of ${taskId}`, response, error);
      const outcome = response.headers.get('X-Wait');
      return { waited: outcome !== null, changed: outcome === 'changed' };
    },

    /** The whole tree under a task in one request (`layers=-1`), each task with its messages. */
    async getTaskTree(taskId: string): Promise<TaskTree> {
      const { data, error, response } = await api.GET('/api/v1.0/tasks/{task_id}', {
        params: { path: { task_id: taskId }, query: { layers: '-1' } },
      });
      if (!data) fail(`get task tree ${taskId}`, response, error);
      // With `layers` the answer is Drydock's map {init_task_id, <id>: task, …}, and
      // `truncated` beside the tasks when the answer's bound cut the tree.
      const { init_task_id: rootId, truncated, ...byId } = data as Record<string, unknown>;
      const cut = (truncated as components['schemas']['Truncation'] | undefined)?.tasks;
      return {
        rootId: String(rootId),
        tasks: new Map(Object.entries(byId as Record<string, Task>)),
        ...(cut ? { truncated: cut } : {}),
      };
    },

    /** A task's direct subtasks in registration order, without their messages. */
    async listSubtasks(
      taskId: string,
      which: 'all' | 'active' | 'complete' = 'all',
    ): Promise<Task[]> {
      const { data, error, response } = await api.GET('/api/v1.0/tasks/{task_id}/subtasks', {
        params: { path: { task_id: taskId }, query: which === 'all' ? {} : { which } },
      });
      if (!data) fail(`list subtasks of ${taskId}`, response, error);
      return data;
    },

    /** `POST /tasks`: a queued top-level task; the idempotency key makes a retry safe. */
    async createTask(body: CreateTaskRequest, idempotencyKey?: string): Promise<Task> {
      const { data, error, response } = await api.POST('/api/v1.0/tasks', {
        body,
        params: { header: idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {} },
      });
      if (!data) fail('create task', response, error);
      return data;
    },

    /** Requests termination; `recursive` also every unfinished descendant. The tasks it changed. */
    async terminateTask(taskId: string, recursive: boolean): Promise<Task[]> {
      const { data, error, response } = await api.POST('/api/v1.0/tasks/{task_id}/terminate', {
        params: { path: { task_id: taskId } },
        body: { recursive },
      });
      if (!data) fail(`terminate task ${taskId}`, response, error);
      return data;
    },

    /**
     * Drydock's `retry_task(max_attempts)`: a finished task runs again for its failed entities,
     * under the lease holder's `epoch` (the service fences it). `retried` is false when there
     * was nothing to retry.
     */
    async retryTask(
      taskId: string,
      options: { epoch: number; maxAttempts?: number | undefined },
    ): Promise<{ retried: boolean; task: Task }> {
      const { data, error, response } = await api.POST('/api/v1.0/tasks/{task_id}/retry', {
        params: { path: { task_id: taskId } },
        body: {
          epoch: options.epoch,
          ...(options.maxAttempts === undefined ? {} : { max_attempts: options.maxAttempts }),
        },
      });
      if (!data) fail(`retry task ${taskId}`, response, error);
      return data;
    },

    /** Messages after sequence `after`, in order; `nextAfter` is set when more are waiting. */
    async listMessages(
      taskId: string,
      options: { after?: number; limit?: number } = {},
    ): Promise<{ messages: Message[]; nextAfter: number | null }> {
      const { data, error, response } = await api.GET('/api/v1.0/tasks/{task_id}/messages', {
        params: {
          path: { task_id: taskId },
          query: {
            ...(options.after !== undefined ? { after: String(options.after) } : {}),
            ...(options.limit !== undefined ? { limit: String(options.limit) } : {}),
          },
        },
      });
      if (!data) fail(`list messages of ${taskId}`, response, error);
      const next = response.headers.get('X-Next-Cursor');
      return { messages: data, nextAfter: next === null ? null : Number(next) };
    },

    /** A node's build data, newest first: the newest per generator (`latest`) or all. None → []. */
    async getNodeBuildData(
      nodeName: string,
      options: {
        latest?: boolean;
        verbosity?: 1 | 2;
        taskId?: string | undefined;
        limit?: number;
      } = {},
    ): Promise<BuildData[]> {
      const { data, error, response } = await api.GET('/api/v1.0/nodes/{node_name}/builddata', {
        params: {
          path: { node_name: nodeName },
          query: {
            latest: options.latest === false ? 'false' : 'true',
            verbosity: options.verbosity === 2 ? '2' : '1',
            ...(options.taskId ? { task_id: options.taskId } : {}),
            ...(options.limit ? { limit: String(options.limit) } : {}),
          },
        },
      });
      if (response.status === 404) return [];
      if (!data) fail(`build data of node ${nodeName}`, response, error);
      return data;
    },

    /** Build data recorded under a task, newest first. None → []. */
    async getTaskBuildData(taskId: string, options: { verbosity?: 1 | 2 } = {}) {
      const { data, error, response } = await api.GET('/api/v1.0/tasks/{task_id}/builddata', {
        params: {
          path: { task_id: taskId },
          query: { verbosity: options.verbosity === 2 ? '2' : '1' },
        },
      });
      if (response.status === 404) return [];
      if (!data) fail(`build data of task ${taskId}`, response, error);
      return data;
    },

    /** The orchestrator lease as the database sees it; null before anyone claimed it. */
    async getLease(): Promise<Lease | null> {
      const { data, error, response } = await api.GET('/api/v1.0/leader');
      if (response.status === 404) return null;
      if (!data) fail('read the lease', response, error);
      return data;
    },

    /** Queue depth, oldest queued task, stale and stranded running tasks. */
    async getQueueHealth(options: { staleAfterSeconds?: number } = {}): Promise<QueueHealth> {
      const { data, error, response } = await api.GET('/api/v1.0/queue', {
        params: {
          query:
            options.staleAfterSeconds === undefined
              ? {}
              : { stale_after: String(options.staleAfterSeconds) },
        },
      });
      if (!data) fail('read queue health', response, error);
      return data;
    },

    /**
     * Drydock's design validation, by reference (`href`) or with the design inline (`content`).
     * Both verdicts (valid: 200, invalid: 400 with a Status) are answers, not errors.
     */
    async validateDesign(
      source: { href: string } | { content: string },
    ): Promise<ValidationStatus> {
      const { data, error, response } = await api.POST('/api/v1.0/validatedesign', {
        body: 'href' in source ? { rel: 'design', href: source.href } : source,
      });
      const status = (data ?? error) as unknown;
      if (isValidationStatus(status)) return status;
      fail('validate design', response, error);
    },

    /** Purges finished task trees older than `days` (never running ones). */
    async purgeTasks(days: number) {
      const { data, error, response } = await api.DELETE('/api/v1.0/tasks', {
        params: { query: { days: String(days) } },
      });
      if (!data) fail('purge tasks', response, error);
      return data;
    },
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;

function isValidationStatus(value: unknown): value is ValidationStatus {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'Status' &&
    typeof (value as { details?: unknown }).details === 'object'
  );
}

/** The documents a validation message names, whichever spelling the service used. */
export function documentsOf(message: ValidationMessage): { schema?: string; name?: string }[] {
  return message.documents ?? message.docs ?? [];
}

/** Whether a task is finished (no further status change without a retry). */
export function isFinished(task: Pick<Task, 'status'>): boolean {
  return task.status === 'complete' || task.status === 'terminated';
}
