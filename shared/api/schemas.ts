import * as z from '#shared/zod.ts';
import { assertStorableDesignRef } from '../design-refs/design-ref.ts';
import { ACTIONS, RESULT_STATUSES, TASK_STATUSES, USER_ACTIONS } from '../domain.ts';
import { LIMITS } from '../limits.ts';

/**
 * The zod schemas of every request the service accepts (path, query, body, SQS event) and of
 * the JSON it answers with. They validate at the edge and generate the OpenAPI document, so the
 * document cannot drift from what the code enforces. Objects are strict: unknown fields are
 * refused (a misspelt `node_filtre` is a 400, not silently ignored).
 *
 * Length bounds are generous (Drydock's varchar limits broke real data, defect 21) but finite,
 * so one request cannot ask the database to store a 1 GB string.
 */

// ---------------------------------------------------------------------------------------------
// Scalars

const TaskId = z.lazySchema(() => z.meta(z.uuid(), { description: 'A task id (UUID).' }));
const Name = z.lazySchema(() => z.string().check(z.minLength(1)).check(z.maxLength(LIMITS.name)));
const IdempotencyKey = z.lazySchema(() =>
  z.meta(z.string().check(z.minLength(1)).check(z.maxLength(LIMITS.idempotencyKey)), {
    description: 'A replay with the same key writes nothing.',
  }),
);
const Timestamp = z.lazySchema(() =>
  z.meta(z.iso.datetime({ offset: true }), { description: 'ISO-8601 timestamp.' }),
);
const Epoch = z.lazySchema(() =>
  z.meta(z.int().check(z.gte(1)).check(z.lte(Number.MAX_SAFE_INTEGER)), {
    description: 'Lease epoch (fencing token).',
  }),
);
const InstanceId = z.lazySchema(() =>
  z.meta(Name(), { description: 'The orchestrator instance id.' }),
);

/**
 * A design reference as stored on a task: a supported scheme, a well-formed URI, and no
 * credentials in it (Drydock stored and echoed them, defect 34; they belong in the per-host
 * credentials secret).
 */
const DesignRef = z.lazySchema(() =>
  z.meta(
    z
      .string()
      .check(z.minLength(1))
      .check(z.maxLength(LIMITS.designRef))
      .check(
        z.superRefine((value, ctx) => {
          try {
            assertStorableDesignRef(value);
          } catch (error) {
            ctx.addIssue({ code: 'custom', message: (error as Error).message });
          }
        }),
      ),
    {
      description:
        'Design reference URI, e.g. deckhand+https://host/api/v1.0/revisions/1/rendered-documents.',
    },
  ),
);

/** Query-string integer: digits only (no `1e3`, no spaces), then range-checked. */
const queryInt = (min: number, max: number) =>
  z.pipe(
    z.pipe(z.string().check(z.regex(/^-?\d{1,12}$/, 'expected an integer')), z.transform(Number)),
    z.int().check(z.gte(min)).check(z.lte(max)),
  );

const TRUE_WORDS = ['true', 'yes', 'on', 't', 'y', '1'];
const FALSE_WORDS = ['false', 'no', 'off', 'f', 'n', '0'];

/**
 * Query-string boolean in the spellings Drydock's callers use (falcon's `get_param_as_bool`):
 * true/false, yes/no, on/off, t/f, y/n, 1/0, in any case; a bare flag (`?builddata`) is true.
 */
const queryBool = z.lazySchema(() =>
  z.meta(
    z.pipe(
      z.string().check(
        z.refine(
          (value) => value === '' || [...TRUE_WORDS, ...FALSE_WORDS].includes(value.toLowerCase()),
          {
            message: 'expected a boolean: true/false, yes/no, on/off, t/f, 1/0',
          },
        ),
      ),
      z.transform((value) => value === '' || TRUE_WORDS.includes(value.toLowerCase())),
    ),
    { description: 'true/false, yes/no, on/off, t/f, 1/0 (any case); a bare flag is true.' },
  ),
);

export const Cursor = z.lazySchema(() =>
  z.meta(z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a cursor from this service')), {
    description: 'Opaque cursor from the X-Next-Cursor header of the previous page.',
  }),
);

// ---------------------------------------------------------------------------------------------
// Path parameters

export const TaskIdParamsSchema = z.lazySchema(() => z.strictObject({ task_id: TaskId() }));
export const NodeParamsSchema = z.lazySchema(() => z.strictObject({ node_name: Name() }));

// ---------------------------------------------------------------------------------------------
// Node filter (Drydock doc/source/task.rst)

const FilterSet = z.lazySchema(() =>
  z.strictObject({
    filter_type: z.enum(['union', 'intersection']),
    node_names: z.optional(z.array(Name()).check(z.maxLength(10_000))),
    node_tags: z.optional(z.array(Name()).check(z.maxLength(10_000))),
    node_labels: z.optional(z.record(Name(), z.string().check(z.maxLength(LIMITS.name)))),
    rack_names: z.optional(z.array(Name()).check(z.maxLength(10_000))),
    rack_labels: z.optional(z.record(Name(), z.string().check(z.maxLength(LIMITS.name)))),
  }),
);

export const NodeFilterSchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      filter_set_type: z.enum(['union', 'intersection']),
      filter_set: z.array(FilterSet()).check(z.maxLength(1000)),
    }),
    { id: 'NodeFilter', description: 'Narrows a task to a set of nodes.' },
  ),
);

// ---------------------------------------------------------------------------------------------
// Tasks

export const ListTasksQuerySchema = z.lazySchema(() =>
  z.strictObject({
    status: z.optional(z.enum(TASK_STATUSES)),
    action: z.optional(z.enum(ACTIONS)),
    parent_task_id: z.optional(TaskId()),
    top_level: z.optional(queryBool()),
    created_by: z.optional(Name()),
    limit: z.meta(z.optional(queryInt(1, LIMITS.listPage)), {
      description:
        'Page size. Without limit (and cursor) every matching task comes back, with its messages, as Drydock answers.',
    }),
    cursor: z.optional(Cursor()),
  }),
);

export const DeleteTasksQuerySchema = z.lazySchema(() =>
  z.strictObject({
    // Drydock's client sends `?days=None` when no days are given; Drydock then used its default.
    days: z.meta(
      z.optional(
        z.union([
          z.pipe(
            z.enum(['', 'None', 'none', 'NONE', 'null']),
            z.transform(() => undefined),
          ),
          queryInt(1, LIMITS.days),
        ]),
      ),
      {
        description:
          'Purge finished tasks older than this many days; missing, empty or None: RETENTION_DAYS.',
      },
    ),
  }),
);

/** `wait=<seconds>`: answer once the awaited change happened, or after at most that long. */
const waitSeconds = z.lazySchema(() =>
  z.meta(queryInt(0, 3600), {
    description:
      'Seconds to wait for a change before answering (cut to WAIT_MAX_SECONDS, 25 by default; the X-Wait header says changed or timeout).',
  }),
);

export const GetTaskQuerySchema = z.lazySchema(() =>
  z
    .strictObject({
      builddata: z.optional(queryBool()),
      subtaskerrors: z.optional(queryBool()),
      layers: z.meta(z.optional(queryInt(-1, LIMITS.layers)), {
        description: '0 = the task only; N = N layers as a map; -1 = the whole tree.',
      }),
      wait: z.optional(waitSeconds()),
      version: z.meta(z.optional(queryInt(0, 2_147_483_647)), {
        description:
          'With wait: answer once the task version passes this one (default: the version when the wait starts).',
      }),
    })
    .check(
      z.refine((q) => q.version === undefined || q.wait !== undefined, {
        message: 'version is read only with wait',
        path: ['version'],
      }),
    ),
);

export const BuildDataReadQuerySchema = z.lazySchema(() =>
  z.strictObject({
    verbosity: z.optional(z.pipe(z.enum(['1', '2']), z.transform(Number))),
    limit: z.optional(queryInt(1, LIMITS.listPage)),
    cursor: z.optional(Cursor()),
  }),
);

export const NodeBuildDataQuerySchema = z.lazySchema(() =>
  z.strictObject({
    latest: z.meta(z.optional(queryBool()), {
      description: 'Newest row per generator (default true).',
    }),
    task_id: z.meta(z.optional(TaskId()), {
      description: 'Only build data recorded under this task.',
    }),
    verbosity: z.optional(z.pipe(z.enum(['1', '2']), z.transform(Number))),
    limit: z.optional(queryInt(1, LIMITS.listPage)),
    cursor: z.optional(Cursor()),
  }),
);

const Retry = z.lazySchema(() => z.int().check(z.gte(0)).check(z.lte(1_000_000)));

export const CreateTaskBodySchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      action: z.enum(ACTIONS, {
        error: `unsupported action; POST /tasks accepts ${USER_ACTIONS.join(', ')} (and, with the lease epoch, any action)`,
      }),
      design_ref: z.meta(z.optional(z.nullable(DesignRef())), {
        description: "Required for a caller's task; optional for an internal task.",
      }),
      node_filter: z.optional(z.nullable(NodeFilterSchema())),
      epoch: z.meta(z.optional(Epoch()), {
        description:
          "The lease holder's epoch: creates an internal task (any action, status requested), fenced.",
      }),
    }),
    { id: 'CreateTaskRequest' },
  ),
);

export const CreateSubtaskBodySchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      action: z.enum(ACTIONS),
      task_id: z.meta(z.optional(TaskId()), {
        description: 'Caller-chosen id (idempotent retry).',
      }),
      design_ref: z.optional(z.nullable(DesignRef())),
      node_filter: z.optional(z.nullable(NodeFilterSchema())),
      retry: z.meta(z.optional(Retry()), {
        description:
          "The retry sequence of the attempt creating it (Drydock's create_task(retry=…)).",
      }),
      epoch: z.meta(z.optional(Epoch()), {
        description: "The lease holder's epoch (required, fenced).",
      }),
    }),
    { id: 'CreateSubtaskRequest' },
  ),
);

const LinkSchema = z.lazySchema(() =>
  z.strictObject({
    rel: Name(),
    href: z.string().check(z.minLength(1)).check(z.maxLength(LIMITS.designRef)),
  }),
);

export const ResultChangeSchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      status: z.optional(z.enum(RESULT_STATUSES)),
      message: z.optional(z.nullable(z.string().check(z.maxLength(LIMITS.message)))),
      reason: z.optional(z.nullable(z.string().check(z.maxLength(LIMITS.message)))),
      add_successes: z.optional(z.array(Name()).check(z.maxLength(10_000))),
      add_failures: z.optional(z.array(Name()).check(z.maxLength(10_000))),
      add_links: z.optional(z.array(LinkSchema()).check(z.maxLength(1000))),
    }),
    { id: 'ResultChange' },
  ),
);

const hasChange = (v: { status?: unknown; result?: unknown; retry?: unknown }) =>
  v.status !== undefined || v.result !== undefined || v.retry !== undefined;

export const UpdateTaskBodySchema = z.lazySchema(() =>
  z.meta(
    z
      .strictObject({
        status: z.optional(z.enum(TASK_STATUSES)),
        result: z.optional(ResultChangeSchema()),
        retry: z.optional(Retry()),
        epoch: z.meta(z.optional(Epoch()), {
          description: "The lease holder's epoch (fenced); without it, If-Match is required.",
        }),
      })
      .check(z.refine(hasChange, { message: 'nothing to change: give status, result or retry' })),
    { id: 'UpdateTaskRequest' },
  ),
);

export const TerminateBodySchema = z.lazySchema(() =>
  z.meta(z.strictObject({ recursive: z.optional(z.boolean()) }), {
    id: 'TerminateRequest',
  }),
);

export const ClaimBodySchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      instance_id: InstanceId(),
      epoch: Epoch(),
      actions: z.optional(
        z.array(z.enum(ACTIONS)).check(z.minLength(1)).check(z.maxLength(ACTIONS.length)),
      ),
      limit: z.optional(z.int().check(z.gte(1)).check(z.lte(LIMITS.claim))),
    }),
    { id: 'ClaimRequest' },
  ),
);

/** One task of a batched completion. */
const CompletionSchema = z.lazySchema(() =>
  z.strictObject({
    task_id: TaskId(),
    status: z.meta(z.optional(z.enum(['complete', 'terminated'])), {
      description: 'Where the task ends: complete (default) or terminated.',
    }),
    result: z.optional(ResultChangeSchema()),
  }),
);

export const CompleteTasksBodySchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      epoch: z.meta(Epoch(), { description: "The lease holder's epoch (fenced)." }),
      tasks: z.array(CompletionSchema()).check(z.minLength(1)).check(z.maxLength(LIMITS.batch)),
    }),
    { id: 'CompleteTasksRequest' },
  ),
);

export const CompletionOutcomeSchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      task_id: TaskId(),
      outcome: z.meta(z.enum(['completed', 'already', 'refused', 'missing']), {
        description:
          'completed: moved now; already: it was at that status (a replay), left as it was; refused: its status cannot move there; missing: no such task.',
      }),
      status: z.nullable(z.enum(TASK_STATUSES)),
      version: z.nullable(z.int()),
    }),
    { id: 'CompletionOutcome' },
  ),
);

export const CompleteTasksAnswerSchema = z.lazySchema(() =>
  z.meta(z.strictObject({ tasks: z.array(CompletionOutcomeSchema()) }), {
    id: 'CompleteTasksAnswer',
  }),
);

export const RetryBodySchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      epoch: z.meta(z.optional(Epoch()), {
        description: "The lease holder's epoch (required, fenced).",
      }),
      max_attempts: z.meta(z.optional(z.int().check(z.gte(0)).check(z.lte(1_000_000))), {
        description: "Drydock's max_attempts: absent or 0 is no limit.",
      }),
    }),
    { id: 'RetryRequest' },
  ),
);

export const RollupBodySchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      epoch: z.meta(z.optional(Epoch()), {
        description: "The lease holder's epoch (required, fenced).",
      }),
      bubble: z.meta(
        z.optional(z.strictObject({ action_filter: z.optional(z.nullable(z.enum(ACTIONS))) })),
        {
          description:
            "Run Drydock's bubble_results(action_filter): successes and failures from the finished subtasks.",
        },
      ),
      align: z.meta(
        z.optional(
          z.strictObject({
            action_filter: z.optional(z.nullable(z.enum(ACTIONS))),
            reset_status: z.optional(z.boolean()),
          }),
        ),
        {
          description:
            "Run Drydock's align_result(action_filter, reset_status=true): the result status from the finished subtasks.",
        },
      ),
    }),
    {
      id: 'RollupRequest',
      description:
        'Without bubble and align, both run without a filter (bubble_results(); align_result()).',
    },
  ),
);

// ---------------------------------------------------------------------------------------------
// Messages

export const NewMessageSchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      message: z.string().check(z.minLength(1)).check(z.maxLength(LIMITS.message)),
      error: z.boolean(),
      context_type: z.string().check(z.minLength(1)).check(z.maxLength(LIMITS.contextType)),
      context: z.string().check(z.minLength(1)).check(z.maxLength(LIMITS.name)),
      ts: z.optional(Timestamp()),
      extra: z.optional(z.record(z.string(), z.unknown())),
      idempotency_key: z.optional(IdempotencyKey()),
    }),
    { id: 'NewMessage' },
  ),
);

const MessageBatch = z.lazySchema(() =>
  z.array(NewMessageSchema()).check(z.minLength(1)).check(z.maxLength(LIMITS.batch)),
);

export const AppendMessagesBodySchema = z.lazySchema(() =>
  z.meta(
    z.union([
      NewMessageSchema(),
      MessageBatch(),
      z.meta(z.strictObject({ epoch: Epoch(), messages: MessageBatch() }), {
        description: "An orchestrator's append, fenced by its lease epoch.",
      }),
    ]),
    {
      description:
        'One message, an array of them (appended in order, in one statement), or {epoch, messages}.',
    },
  ),
);

export const ListMessagesQuerySchema = z.lazySchema(() =>
  z
    .strictObject({
      after: z.meta(z.optional(queryInt(0, Number.MAX_SAFE_INTEGER)), {
        description: 'Sequence to start after.',
      }),
      limit: z.optional(queryInt(1, LIMITS.listPage)),
      wait: z.optional(waitSeconds()),
      version: z.meta(z.optional(queryInt(0, 2_147_483_647)), {
        description:
          'With wait: also answer once the task version passes this one (a status or result change), for a follower that stops when the task ends.',
      }),
    })
    .check(
      z.refine((q) => q.version === undefined || q.wait !== undefined, {
        message: 'version is read only with wait',
        path: ['version'],
      }),
    ),
);

// ---------------------------------------------------------------------------------------------
// Build data

export const NewBuildDataSchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      task_id: TaskId(),
      generator: Name(),
      data_format: z.string().check(z.minLength(1)).check(z.maxLength(LIMITS.contextType)),
      data_element: z.string().check(z.minLength(1)),
      collected_date: z.optional(Timestamp()),
      idempotency_key: z.optional(IdempotencyKey()),
    }),
    { id: 'NewBuildData' },
  ),
);

const BuildDataBatch = z.lazySchema(() =>
  z.array(NewBuildDataSchema()).check(z.minLength(1)).check(z.maxLength(100)),
);

export const PostBuildDataBodySchema = z.lazySchema(() =>
  z.meta(
    z.union([
      NewBuildDataSchema(),
      BuildDataBatch(),
      z.meta(z.strictObject({ epoch: Epoch(), items: BuildDataBatch() }), {
        description: "An orchestrator's post, fenced by its lease epoch.",
      }),
    ]),
    { description: 'One build data item, an array of up to 100, or {epoch, items}.' },
  ),
);

// ---------------------------------------------------------------------------------------------
// Leader

const GraceSeconds = z.lazySchema(() =>
  z.meta(z.optional(z.int().check(z.gte(1)).check(z.lte(LIMITS.graceSeconds))), {
    description:
      'Seconds without renewal before another instance may take over (default LEASE_GRACE_SECONDS).',
  }),
);

export const LeaseClaimBodySchema = z.lazySchema(() =>
  z.meta(z.strictObject({ instance_id: InstanceId(), grace_seconds: GraceSeconds() }), {
    id: 'LeaseClaimRequest',
  }),
);
export const LeaseRenewBodySchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({ instance_id: InstanceId(), epoch: Epoch(), grace_seconds: GraceSeconds() }),
    { id: 'LeaseRenewRequest' },
  ),
);
export const RequeueBodySchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      instance_id: InstanceId(),
      epoch: Epoch(),
      limit: z.optional(z.int().check(z.gte(1)).check(z.lte(LIMITS.batch))),
    }),
    { id: 'RequeueRequest' },
  ),
);
export const LeaseAbdicateBodySchema = z.lazySchema(() =>
  z.meta(z.strictObject({ instance_id: InstanceId(), epoch: Epoch() }), {
    id: 'LeaseAbdicateRequest',
  }),
);

// ---------------------------------------------------------------------------------------------
// SQS events

/**
 * `tasks` queue: create a top-level task or a subtask, change a task's status/result, end many,
 * or retry one. A top-level create follows `POST /tasks` (a caller's task needs `design_ref`;
 * with `epoch` it is the lease holder's internal task); a subtask is an orchestrator write, so
 * its parent and epoch are required here rather than checked downstream.
 */
export const TaskEventSchema = z.lazySchema(() =>
  z.meta(
    z.discriminatedUnion('type', [
      z.strictObject({
        type: z.literal('create_task'),
        event_id: z.optional(IdempotencyKey()),
        task_id: z.optional(TaskId()),
        action: z.enum(ACTIONS),
        design_ref: z.optional(z.nullable(DesignRef())),
        node_filter: z.optional(z.nullable(NodeFilterSchema())),
        epoch: z.optional(Epoch()),
      }),
      z.strictObject({
        type: z.literal('create_subtask'),
        event_id: z.optional(IdempotencyKey()),
        parent_task_id: TaskId(),
        task_id: z.optional(TaskId()),
        action: z.enum(ACTIONS),
        design_ref: z.optional(z.nullable(DesignRef())),
        node_filter: z.optional(z.nullable(NodeFilterSchema())),
        retry: z.optional(Retry()),
        epoch: Epoch(),
      }),
      z.strictObject({
        type: z.literal('update_task'),
        event_id: z.optional(IdempotencyKey()),
        task_id: TaskId(),
        status: z.optional(z.enum(TASK_STATUSES)),
        result: z.optional(ResultChangeSchema()),
        retry: z.optional(Retry()),
        expected_version: z.optional(z.int().check(z.gte(1))),
        epoch: z.optional(Epoch()),
      }),
      z.strictObject({
        type: z.literal('complete_tasks'),
        event_id: z.optional(IdempotencyKey()),
        epoch: Epoch(),
        tasks: z.array(CompletionSchema()).check(z.minLength(1)).check(z.maxLength(LIMITS.batch)),
      }),
      z.strictObject({
        type: z.literal('retry_task'),
        event_id: z.optional(IdempotencyKey()),
        task_id: TaskId(),
        epoch: Epoch(),
        max_attempts: z.optional(z.int().check(z.gte(0)).check(z.lte(1_000_000))),
      }),
    ]),
    { id: 'TaskEvent' },
  ),
);

/** `messages` queue: messages for one task. */
export const MessageEventSchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      task_id: TaskId(),
      messages: MessageBatch(),
      epoch: z.meta(z.optional(Epoch()), {
        description: "An orchestrator's lease epoch (fenced).",
      }),
    }),
    { id: 'MessageEvent' },
  ),
);

/** `build-data` queue: build data items for one node. */
export const BuildDataEventSchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      node_name: Name(),
      items: BuildDataBatch(),
      epoch: z.meta(z.optional(Epoch()), {
        description: "An orchestrator's lease epoch (fenced).",
      }),
    }),
    { id: 'BuildDataEvent' },
  ),
);

// ---------------------------------------------------------------------------------------------
// Responses (documentation, and the e2e tests check answers against them)

export const MessageDictSchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      sequence: z.int(),
      message: z.string(),
      error: z.boolean(),
      context_type: z.string(),
      context: z.string(),
      ts: z.string(),
      extra: z.record(z.string(), z.unknown()),
    }),
    { id: 'TaskStatusMessage' },
  ),
);

export const StatusDictSchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      kind: z.literal('Status'),
      apiVersion: z.literal('v1.0'),
      metadata: z.record(z.string(), z.unknown()),
      message: z.nullable(z.string()),
      reason: z.nullable(z.string()),
      status: z.enum(RESULT_STATUSES),
      successes: z.array(z.string()),
      failures: z.array(z.string()),
      links: z.array(z.strictObject({ rel: z.string(), href: z.string() })),
      details: z.strictObject({ errorCount: z.int(), messageList: z.array(MessageDictSchema()) }),
      task_id: z.optional(z.string()),
    }),
    { id: 'TaskStatus' },
  ),
);

const TruncatedPart = z.lazySchema(() =>
  z.strictObject({
    shown: z.int(),
    total: z.int(),
    next: z.meta(z.string(), { description: 'Where the rest is read, a page at a time.' }),
  }),
);

/** What an answer left out to stay within its size bound, and where to read it. */
export const TruncationSchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      messages: z.optional(TruncatedPart()),
      tasks: z.optional(TruncatedPart()),
      build_data: z.meta(z.optional(z.strictObject({ next: z.string() })), {
        description: 'Embedded build data was cut: page it from next.',
      }),
    }),
    {
      id: 'Truncation',
      description:
        'Present when embedded messages, build data (or, in a tree, tasks) were cut to keep the answer within its bound.',
    },
  ),
);

export const TaskDictSchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      kind: z.literal('Task'),
      apiVersion: z.literal('v1'),
      task_id: z.string(),
      action: z.enum(ACTIONS),
      parent_task_id: z.nullable(z.string()),
      design_ref: z.nullable(z.string()),
      status: z.enum(TASK_STATUSES),
      result: StatusDictSchema(),
      node_filter: z.nullable(z.record(z.string(), z.unknown())),
      subtask_id_list: z.array(z.string()),
      created: z.string(),
      created_by: z.nullable(z.string()),
      updated: z.string(),
      terminated: z.nullable(z.string()),
      terminated_by: z.nullable(z.string()),
      terminate: z.boolean(),
      retry: z.int(),
      version: z.int(),
      build_data: z.optional(z.array(z.lazy(() => BuildDataDictSchema()))),
      subtask_errors: z.optional(z.record(z.string(), StatusDictSchema())),
      truncated: z.optional(TruncationSchema()),
    }),
    { id: 'Task' },
  ),
);

export const BuildDataDictSchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      node_name: z.string(),
      task_id: z.string(),
      collected_date: z.string(),
      generator: z.string(),
      data_format: z.string(),
      data_element: z.optional(z.string()),
    }),
    { id: 'BuildData' },
  ),
);

export const LeaseDictSchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      holder: z.string(),
      epoch: z.int(),
      acquired_at: z.string(),
      renewed_at: z.string(),
      expires_at: z.string(),
      db_now: z.string(),
      active: z.boolean(),
      held: z.optional(z.boolean()),
    }),
    { id: 'Lease' },
  ),
);

export const ErrorBodySchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      type: z.literal('error'),
      message: z.string(),
      retry: z.boolean(),
      issues: z.optional(z.array(z.strictObject({ path: z.string(), message: z.string() }))),
      request_id: z.optional(z.string()),
    }),
    { id: 'Error' },
  ),
);

// ---------------------------------------------------------------------------------------------
// Queue health

export const QueueQuerySchema = z.lazySchema(() =>
  z.strictObject({
    stale_after: z.meta(z.optional(queryInt(60, 604_800)), {
      description:
        'Seconds without a change or message after which a running task counts as stale (default 1800).',
    }),
  }),
);

export const QueueHealthDictSchema = z.lazySchema(() =>
  z.meta(
    z.strictObject({
      db_now: z.string(),
      stale_after_seconds: z.int(),
      lease_epoch: z.nullable(z.int()),
      queued: z.int(),
      oldest_queued: z.nullable(
        z.strictObject({
          task_id: z.string(),
          action: z.string(),
          created: z.string(),
          age_seconds: z.int(),
        }),
      ),
      running: z.int(),
      stale: z.int(),
      stranded: z.int(),
      stuck: z.array(
        z.strictObject({
          task_id: z.string(),
          parent_task_id: z.nullable(z.string()),
          action: z.string(),
          status: z.string(),
          active_at: z.string(),
          idle_seconds: z.int(),
          claimed_epoch: z.nullable(z.int()),
          stale: z.boolean(),
          stranded: z.boolean(),
        }),
      ),
    }),
    { id: 'QueueHealth' },
  ),
);
