import * as z from '#shared/zod.ts';
import {
  BuildDataDictSchema,
  BuildDataReadQuerySchema,
  ClaimBodySchema,
  CompleteTasksAnswerSchema,
  CompleteTasksBodySchema,
  CreateSubtaskBodySchema,
  CreateTaskBodySchema,
  Cursor,
  DeleteTasksQuerySchema,
  GetTaskQuerySchema,
  ListTasksQuerySchema,
  RetryBodySchema,
  RollupBodySchema,
  TaskDictSchema,
  TaskIdParamsSchema,
  TerminateBodySchema,
  UpdateTaskBodySchema,
} from '../../api/schemas.ts';
import { API_PREFIX } from '../../api/shapes.ts';
import { waitForTaskVersion, waitHeaders } from '../../api/wait.ts';
import { actionRule } from '../../auth/rules.ts';
import { isUserAction } from '../../domain.ts';
import { NotFoundError } from '../../errors.ts';
import { loadOnce } from '../../load-once.ts';
import { etagOf, nextLink, nextPageHeaders, originOf, parseIfMatch } from '../conventions.ts';
import { principalOf } from '../request.ts';
import { type AnyRoute, defineRoute } from '../route.ts';
import { errorResponse as err } from './responses.ts';

const TASKS = `${API_PREFIX}/tasks`;
const tasksApi = loadOnce(() => import('../../api/tasks.ts'));
const TaskList = z.lazySchema(() => z.array(TaskDictSchema()));

const SubtaskQuerySchema = z.lazySchema(() =>
  z.strictObject({
    which: z.optional(z.enum(['all', 'active', 'complete'])),
    cursor: z.optional(Cursor()),
  }),
);

/** The task operations (the `tasks` function). */
export const taskRoutes: readonly AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: TASKS,
    operationId: 'listTasks',
    summary:
      'List tasks, newest first: without limit every task with its messages (as Drydock) up to the answer bound, with limit a page at a time; the rest: X-Next-Cursor / Link',
    tag: 'tasks',
    policy: 'physical_provisioner:read_task',
    query: ListTasksQuerySchema,
    responses: {
      200: {
        description: 'A JSON array of tasks',
        schema: TaskList,
        headers: { 'X-Next-Cursor': 'cursor of the next page' },
      },
      400: err('Bad filter, limit or cursor'),
    },
    async handle({ deps, query }) {
      const { listEveryTask, listTaskPage } = await tasksApi();
      if (query.limit === undefined) {
        // Drydock's listing: every task, until the answer's bound; a cursor continues it.
        const tasks = await listEveryTask(deps, query);
        return {
          status: 200,
          body: tasks,
          headers: nextPageHeaders(
            TASKS,
            { ...query, top_level: query.top_level ? 'true' : undefined },
            tasks.nextCursor,
          ),
        };
      }
      const page = await listTaskPage(deps, query);
      return {
        status: 200,
        body: page.tasks,
        headers: page.nextCursor
          ? {
              'X-Next-Cursor': page.nextCursor,
              Link: nextLink(TASKS, {
                ...query,
                top_level: query.top_level ? 'true' : undefined,
                limit: page.limit,
                cursor: page.nextCursor,
              }),
            }
          : {},
      };
    },
  }),
  defineRoute({
    method: 'POST',
    path: TASKS,
    operationId: 'createTask',
    summary:
      "Create a top-level task (status queued, the 8 user actions), or with the lease holder's epoch an internal one (any action, status requested); Idempotency-Key makes retries safe",
    tag: 'tasks',
    policy: 'physical_provisioner:create_task',
    // Drydock checks the action's own rule too (`task_deploy_nodes` → deploy_nodes).
    // An internal task (the lease holder's, with its epoch) is an orchestrator write: it is held
    // to the subtask rule rather than a user action's.
    bodyPolicy: {
      pattern: 'physical_provisioner:{action}',
      of: (body) =>
        body.epoch !== undefined
          ? 'physical_provisioner:create_subtask'
          : isUserAction(body.action)
            ? actionRule(body.action)
            : undefined,
    },
    body: CreateTaskBodySchema,
    requestHeaders: { 'Idempotency-Key': 'optional; a replay returns the first task with 200' },
    responses: {
      201: {
        description: 'Created',
        schema: TaskDictSchema,
        headers: { Location: 'the task URL' },
      },
      200: {
        description: 'Replay of an Idempotency-Key: the task it created',
        schema: TaskDictSchema,
      },
      400: err('Bad body or unsupported action'),
      412: err('Stale lease epoch (internal task)'),
      413: err('Body too large'),
    },
    async handle(request) {
      const { createUserTask } = await tasksApi();
      const { task, created } = await createUserTask(request.deps, request.body, originOf(request));
      return {
        status: created ? 201 : 200,
        body: task,
        headers: { Location: `${TASKS}/${task.task_id}`, ETag: etagOf(task.version) },
      };
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: TASKS,
    operationId: 'purgeTasks',
    summary:
      'Purge finished task trees older than `days` (default RETENTION_DAYS); never running ones',
    tag: 'tasks',
    policy: 'physical_provisioner:delete_tasks',
    query: DeleteTasksQuerySchema,
    responses: {
      200: {
        description: 'Counts',
        schema: z.lazySchema(() =>
          z.object({
            message: z.string(),
            days: z.int(),
            deleted_tasks: z.int(),
            more: z.boolean(),
          }),
        ),
      },
      400: err('days is not a positive integer'),
    },
    async handle({ deps, query }) {
      const { purgeTasks } = await tasksApi();
      return {
        status: 200,
        body: await purgeTasks(deps, query.days ?? deps.config.retention.days),
      };
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${TASKS}/claim`,
    operationId: 'claimTasks',
    summary: 'The lease holder claims the oldest queued tasks (fenced by its epoch)',
    tag: 'tasks',
    policy: 'physical_provisioner:claim_tasks',
    body: ClaimBodySchema,
    responses: {
      200: {
        description:
          'The claimed tasks (possibly none): up to `limit`, fewer when their rows would pass the answer bound (the rest stay queued)',
        schema: TaskList,
        headers: {
          'X-Claim-Limit': 'how many tasks were asked for (`limit`, default 1)',
          'X-Claimed-Count': 'how many tasks were claimed (the answer lists them all)',
          'X-Claim-Deferred':
            'how many more queued tasks the limit would have taken, left queued because the answer would have passed its bound: claim again',
        },
      },
      400: err('Bad body'),
      412: err('Not the live lease holder at that epoch'),
    },
    async handle({ deps, body }) {
      const { claim } = await tasksApi();
      const claimed = await claim(deps, body);
      return {
        status: 200,
        body: claimed,
        headers: {
          'X-Claim-Limit': String(claimed.limit),
          'X-Claimed-Count': String(claimed.length),
          'X-Claim-Deferred': String(claimed.deferred),
        },
      };
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${TASKS}/complete`,
    operationId: 'completeTasks',
    summary:
      'The lease holder ends many tasks in one statement, each with its result (fenced by its epoch)',
    tag: 'tasks',
    policy: 'physical_provisioner:update_task',
    body: CompleteTasksBodySchema,
    responses: {
      200: {
        description: "Each task's outcome, in request order",
        schema: CompleteTasksAnswerSchema,
      },
      400: err('Bad body (or a task twice)'),
      412: err('Stale lease epoch: nothing was written'),
      413: err('Result lists too large'),
    },
    async handle({ deps, body }) {
      const { completeBatch } = await tasksApi();
      return { status: 200, body: await completeBatch(deps, body) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${TASKS}/{task_id}`,
    operationId: 'getTask',
    summary: 'A task with its messages; builddata, subtaskerrors, layers=N|-1 as Drydock',
    tag: 'tasks',
    policy: 'physical_provisioner:read_task',
    params: TaskIdParamsSchema,
    query: GetTaskQuerySchema,
    responses: {
      200: {
        description: 'The task, or with layers the map {init_task_id, <id>: task, …}',
        schema: z.lazySchema(() => z.union([TaskDictSchema(), z.record(z.string(), z.unknown())])),
        headers: {
          ETag: 'the task version',
          'X-Wait': 'with wait: changed, or timeout (the task did not change within the wait)',
          'X-Wait-Limited-To':
            'with wait: the seconds actually waited at most, when less than asked',
        },
      },
      400: err('Bad id or query'),
      404: err('No such task'),
    },
    async handle({ deps, params, query }) {
      const { readTask } = await tasksApi();
      // Only a caller that asks to wait waits; Drydock's clients see no change.
      const waited =
        query.wait === undefined
          ? undefined
          : await waitForTaskVersion(deps, params.task_id, {
              seconds: query.wait,
              version: query.version,
            });
      const { body, version } = await readTask(deps, params.task_id, {
        builddata: query.builddata ?? false,
        subtaskerrors: query.subtaskerrors ?? false,
        layers: query.layers ?? 0,
      });
      return { status: 200, body, headers: { ETag: etagOf(version), ...waitHeaders(waited) } };
    },
  }),
  defineRoute({
    method: 'PATCH',
    path: `${TASKS}/{task_id}`,
    operationId: 'updateTask',
    summary:
      'Conditionally change status, result or retry (If-Match: the version read; or the lease epoch)',
    tag: 'tasks',
    policy: 'physical_provisioner:update_task',
    params: TaskIdParamsSchema,
    body: UpdateTaskBodySchema,
    requestHeaders: {
      'If-Match': 'the version (ETag) the change is based on; required unless the body has epoch',
    },
    responses: {
      200: { description: 'The task after the change', schema: TaskDictSchema },
      400: err('Bad body or If-Match'),
      404: err('No such task'),
      409: err('Version moved on, or the status move is not allowed'),
      412: err('Stale lease epoch'),
      428: err('Neither If-Match nor epoch'),
    },
    async handle({ deps, params, body, headers }) {
      const { changeTask } = await tasksApi();
      const task = await changeTask(deps, params.task_id, body, {
        expectedVersion: parseIfMatch(headers['if-match']),
      });
      return { status: 200, body: task, headers: { ETag: etagOf(task.version) } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${TASKS}/{task_id}/builddata`,
    operationId: 'getTaskBuildData',
    summary: 'Build data recorded under a task, newest first (next page: X-Next-Cursor / Link)',
    tag: 'build-data',
    policy: 'physical_provisioner:read_build_data',
    params: TaskIdParamsSchema,
    query: BuildDataReadQuerySchema,
    responses: {
      200: {
        description: 'Build data',
        schema: z.lazySchema(() => z.array(BuildDataDictSchema())),
        headers: { 'X-Next-Cursor': 'cursor of the rest, when the answer stopped at its bound' },
      },
      400: err('Bad id or query'),
      404: err('No build data for this task'),
    },
    async handle({ deps, params, query }) {
      const { readTaskBuildData } = await tasksApi();
      const items = await readTaskBuildData(deps, params.task_id, {
        verbosity: query.verbosity === 1 ? 1 : 2,
        limit: query.limit,
      });
      if (items.length === 0) throw new NotFoundError(`No build data for task ${params.task_id}.`);
      return {
        status: 200,
        body: items,
        headers: nextPageHeaders(
          `${TASKS}/${params.task_id}/builddata`,
          { verbosity: query.verbosity, limit: query.limit },
          items.nextCursor,
        ),
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${TASKS}/{task_id}/subtasks`,
    operationId: 'listSubtasks',
    summary:
      'Subtasks in registration order (which=all|active|complete; next page: X-Next-Cursor / Link)',
    tag: 'tasks',
    policy: 'physical_provisioner:read_task',
    params: TaskIdParamsSchema,
    query: SubtaskQuerySchema,
    responses: {
      200: {
        description: 'Subtasks',
        schema: TaskList,
        headers: { 'X-Next-Cursor': 'cursor of the rest, when the answer stopped at its bound' },
      },
      400: err('Bad id or query'),
    },
    async handle({ deps, params, query }) {
      const { listTaskSubtasks } = await tasksApi();
      const tasks = await listTaskSubtasks(
        deps,
        params.task_id,
        query.which ?? 'all',
        query.cursor,
      );
      return {
        status: 200,
        body: tasks,
        headers: nextPageHeaders(
          `${TASKS}/${params.task_id}/subtasks`,
          { which: query.which },
          tasks.nextCursor,
        ),
      };
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${TASKS}/{task_id}/subtasks`,
    operationId: 'createSubtask',
    summary:
      'The lease holder registers a subtask (status requested; epoch required); refused while the parent is terminating',
    tag: 'tasks',
    policy: 'physical_provisioner:create_subtask',
    params: TaskIdParamsSchema,
    body: CreateSubtaskBodySchema,
    responses: {
      201: {
        description: 'Created',
        schema: TaskDictSchema,
        headers: { Location: 'the subtask URL' },
      },
      200: { description: 'Replay (same task_id or Idempotency-Key)', schema: TaskDictSchema },
      400: err('Bad body'),
      404: err('No such parent'),
      409: err('The parent is terminating'),
      412: err('Stale lease epoch'),
      428: err('No epoch'),
    },
    async handle(request) {
      const { createSubtask } = await tasksApi();
      const { task, created } = await createSubtask(
        request.deps,
        request.params.task_id,
        request.body,
        originOf(request),
      );
      return {
        status: created ? 201 : 200,
        body: task,
        headers: { Location: `${TASKS}/${task.task_id}`, ETag: etagOf(task.version) },
      };
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${TASKS}/{task_id}/terminate`,
    operationId: 'terminateTask',
    summary: 'Request termination (recursive: also every unfinished descendant)',
    tag: 'tasks',
    policy: 'physical_provisioner:terminate_task',
    params: TaskIdParamsSchema,
    body: TerminateBodySchema,
    bodyOptional: true,
    responses: {
      200: {
        description:
          'The tasks this changed, the root first, up to the answer bound (X-Total-Count: how many it changed)',
        schema: TaskList,
        headers: { 'X-Total-Count': 'how many tasks it changed (more than listed when cut)' },
      },
      400: err('Bad id or body'),
      404: err('No such task'),
    },
    async handle({ deps, params, body, caller }) {
      const { terminate } = await tasksApi();
      const changed = await terminate(deps, params.task_id, {
        recursive: body?.recursive ?? false,
        terminatedBy: principalOf(caller),
      });
      return {
        status: 200,
        body: changed,
        headers: { 'X-Total-Count': String(changed.total) },
      };
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${TASKS}/{task_id}/retry`,
    operationId: 'retryTask',
    policy: 'physical_provisioner:update_task',
    summary:
      "Drydock's retry_task(max_attempts): run a finished task again for its failed entities (epoch required)",
    tag: 'tasks',
    params: TaskIdParamsSchema,
    body: RetryBodySchema,
    responses: {
      200: {
        description: 'retried: false when there was nothing to retry (the task is unchanged)',
        schema: z.lazySchema(() => z.object({ retried: z.boolean(), task: TaskDictSchema() })),
      },
      400: err('Bad id or body'),
      404: err('No such task'),
      409: err('Out of attempts (the task says so too), or the task is terminated or not yet run'),
      412: err('Stale lease epoch'),
      428: err('No epoch'),
    },
    async handle({ deps, params, body }) {
      const { retry } = await tasksApi();
      const outcome = await retry(deps, params.task_id, body);
      return { status: 200, body: outcome, headers: { ETag: etagOf(outcome.task.version) } };
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${TASKS}/{task_id}/rollup`,
    operationId: 'rollUpResults',
    summary:
      "Roll finished subtasks' results up into the task: Drydock's bubble_results and align_result, either or both (epoch required)",
    tag: 'tasks',
    policy: 'physical_provisioner:update_task',
    params: TaskIdParamsSchema,
    body: RollupBodySchema,
    responses: {
      200: { description: 'The task after the roll-up', schema: TaskDictSchema },
      400: err('Bad id or body'),
      404: err('No such task'),
      409: err(
        "The bubbled lists would pass a task's bound (48 KiB of JSON): refused whole, nothing written",
      ),
      412: err('Stale lease epoch'),
      428: err('No epoch'),
    },
    async handle({ deps, params, body }) {
      const { rollUp } = await tasksApi();
      const task = await rollUp(deps, params.task_id, body);
      return { status: 200, body: task, headers: { ETag: etagOf(task.version) } };
    },
  }),
];
