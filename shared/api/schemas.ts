import * as z from 'zod';
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

const TaskId = z.uuid().meta({ description: 'A task id (UUID).' });
const Name = z.string().min(1).max(LIMITS.name);
const IdempotencyKey = z
  .string()
  .min(1)
  .max(LIMITS.idempotencyKey)
  .meta({ description: 'A replay with the same key writes nothing.' });
const Timestamp = z.iso.datetime({ offset: true }).meta({ description: 'ISO-8601 timestamp.' });
const Epoch = z
  .int()
  .min(1)
  .max(Number.MAX_SAFE_INTEGER)
  .meta({ description: 'Lease epoch (fencing token).' });
const InstanceId = Name.meta({ description: 'The orchestrator instance id.' });

/**
 * A design reference as stored on a task: a supported scheme, a well-formed URI, and no
 * credentials in it (Drydock stored and echoed them, defect 34; they belong in the per-host
 * credentials secret).
 */
const DesignRef = z
  .string()
  .min(1)
  .max(LIMITS.designRef)
  .superRefine((value, ctx) => {
    try {
      assertStorableDesignRef(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  })
  .meta({
    description:
      'Design reference URI, e.g. deckhand+https://host/api/v1.0/revisions/1/rendered-documents.',
  });

/** Query-string integer: digits only (no `1e3`, no spaces), then range-checked. */
const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d{1,12}$/, 'expected an integer')
    .transform(Number)
    .pipe(z.int().min(min).max(max));

const TRUE_WORDS = ['true', 'yes', 'on', 't', 'y', '1'];
const FALSE_WORDS = ['false', 'no', 'off', 'f', 'n', '0'];

/**
 * Query-string boolean in the spellings Drydock's callers use (falcon's `get_param_as_bool`):
 * true/false, yes/no, on/off, t/f, y/n, 1/0, in any case; a bare flag (`?builddata`) is true.
 */
const queryBool = z
  .string()
  .refine(
    (value) => value === '' || [...TRUE_WORDS, ...FALSE_WORDS].includes(value.toLowerCase()),
    {
      message: 'expected a boolean: true/false, yes/no, on/off, t/f, 1/0',
    },
  )
  .transform((value) => value === '' || TRUE_WORDS.includes(value.toLowerCase()))
  .meta({ description: 'true/false, yes/no, on/off, t/f, 1/0 (any case); a bare flag is true.' });

export const Cursor = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a cursor from this service')
  .meta({ description: 'Opaque cursor from the X-Next-Cursor header of the previous page.' });

// ---------------------------------------------------------------------------------------------
// Path parameters

export const TaskIdParamsSchema = z.strictObject({ task_id: TaskId });
export const NodeParamsSchema = z.strictObject({ node_name: Name });

// ---------------------------------------------------------------------------------------------
// Node filter (Drydock doc/source/task.rst)

const FilterSet = z.strictObject({
  filter_type: z.enum(['union', 'intersection']),
  node_names: z.array(Name).max(10_000).optional(),
  node_tags: z.array(Name).max(10_000).optional(),
  node_labels: z.record(Name, z.string().max(LIMITS.name)).optional(),
  rack_names: z.array(Name).max(10_000).optional(),
  rack_labels: z.record(Name, z.string().max(LIMITS.name)).optional(),
});

export const NodeFilterSchema = z
  .strictObject({
    filter_set_type: z.enum(['union', 'intersection']),
    filter_set: z.array(FilterSet).max(1000),
  })
  .meta({ id: 'NodeFilter', description: 'Narrows a task to a set of nodes.' });

// ---------------------------------------------------------------------------------------------
// Tasks

export const ListTasksQuerySchema = z.strictObject({
  status: z.enum(TASK_STATUSES).optional(),
  action: z.enum(ACTIONS).optional(),
  parent_task_id: TaskId.optional(),
  top_level: queryBool.optional(),
  created_by: Name.optional(),
  limit: queryInt(1, LIMITS.listPage).optional().meta({
    description:
      'Page size. Without limit (and cursor) every matching task comes back, with its messages, as Drydock answers.',
  }),
  cursor: Cursor.optional(),
});

export const DeleteTasksQuerySchema = z.strictObject({
  // Drydock's client sends `?days=None` when no days are given; Drydock then used its default.
  days: z
    .union([
      z.enum(['', 'None', 'none', 'NONE', 'null']).transform(() => undefined),
      queryInt(1, LIMITS.days),
    ])
    .optional()
    .meta({
      description:
        'Purge finished tasks older than this many days; missing, empty or None: RETENTION_DAYS.',
    }),
});

/** `wait=<seconds>`: answer once the awaited change happened, or after at most that long. */
const waitSeconds = queryInt(0, 3600).meta({
  description:
    'Seconds to wait for a change before answering (cut to WAIT_MAX_SECONDS, 25 by default; the X-Wait header says changed or timeout).',
});

export const GetTaskQuerySchema = z
  .strictObject({
    builddata: queryBool.optional(),
    subtaskerrors: queryBool.optional(),
    layers: queryInt(-1, LIMITS.layers)
      .optional()
      .meta({ description: '0 = the task only; N = N layers as a map; -1 = the whole tree.' }),
    wait: waitSeconds.optional(),
    version: queryInt(0, 2_147_483_647).optional().meta({
      description:
        'With wait: answer once the task version passes this one (default: the version when the wait starts).',
    }),
  })
  .refine((q) => q.version === undefined || q.wait !== undefined, {
    message: 'version is read only with wait',
    path: ['version'],
  });

export const BuildDataReadQuerySchema = z.strictObject({
  verbosity: z.enum(['1', '2']).transform(Number).optional(),
  limit: queryInt(1, LIMITS.listPage).optional(),
  cursor: Cursor.optional(),
});

export const NodeBuildDataQuerySchema = z.strictObject({
  latest: queryBool.optional().meta({ description: 'Newest row per generator (default true).' }),
  task_id: TaskId.optional().meta({ description: 'Only build data recorded under this task.' }),
  verbosity: z.enum(['1', '2']).transform(Number).optional(),
  limit: queryInt(1, LIMITS.listPage).optional(),
  cursor: Cursor.optional(),
});

const Retry = z.int().min(0).max(1_000_000);

export const CreateTaskBodySchema = z
  .strictObject({
    action: z.enum(ACTIONS, {
      error: `unsupported action; POST /tasks accepts ${USER_ACTIONS.join(', ')} (and, with the lease epoch, any action)`,
    }),
    design_ref: DesignRef.nullable().optional().meta({
      description: "Required for a caller's task; optional for an internal task.",
    }),
    node_filter: NodeFilterSchema.nullable().optional(),
    epoch: Epoch.optional().meta({
      description:
        "The lease holder's epoch: creates an internal task (any action, status requested), fenced.",
    }),
  })
  .meta({ id: 'CreateTaskRequest' });

export const CreateSubtaskBodySchema = z
  .strictObject({
    action: z.enum(ACTIONS),
    task_id: TaskId.optional().meta({ description: 'Caller-chosen id (idempotent retry).' }),
    design_ref: DesignRef.nullable().optional(),
    node_filter: NodeFilterSchema.nullable().optional(),
    retry: Retry.optional().meta({
      description:
        "The retry sequence of the attempt creating it (Drydock's create_task(retry=…)).",
    }),
    epoch: Epoch.optional().meta({ description: "The lease holder's epoch (required, fenced)." }),
  })
  .meta({ id: 'CreateSubtaskRequest' });

const LinkSchema = z.strictObject({ rel: Name, href: z.string().min(1).max(LIMITS.designRef) });

export const ResultChangeSchema = z
  .strictObject({
    status: z.enum(RESULT_STATUSES).optional(),
    message: z.string().max(LIMITS.message).nullable().optional(),
    reason: z.string().max(LIMITS.message).nullable().optional(),
    add_successes: z.array(Name).max(10_000).optional(),
    add_failures: z.array(Name).max(10_000).optional(),
    add_links: z.array(LinkSchema).max(1000).optional(),
  })
  .meta({ id: 'ResultChange' });

const hasChange = (v: { status?: unknown; result?: unknown; retry?: unknown }) =>
  v.status !== undefined || v.result !== undefined || v.retry !== undefined;

export const UpdateTaskBodySchema = z
  .strictObject({
    status: z.enum(TASK_STATUSES).optional(),
    result: ResultChangeSchema.optional(),
    retry: Retry.optional(),
    epoch: Epoch.optional().meta({
      description: "The lease holder's epoch (fenced); without it, If-Match is required.",
    }),
  })
  .refine(hasChange, { message: 'nothing to change: give status, result or retry' })
  .meta({ id: 'UpdateTaskRequest' });

export const TerminateBodySchema = z
  .strictObject({ recursive: z.boolean().optional() })
  .meta({ id: 'TerminateRequest' });

export const ClaimBodySchema = z
  .strictObject({
    instance_id: InstanceId,
    epoch: Epoch,
    actions: z.array(z.enum(ACTIONS)).min(1).max(ACTIONS.length).optional(),
    limit: z.int().min(1).max(LIMITS.claim).optional(),
  })
  .meta({ id: 'ClaimRequest' });

/** One task of a batched completion. */
const CompletionSchema = z.strictObject({
  task_id: TaskId,
  status: z.enum(['complete', 'terminated']).optional().meta({
    description: 'Where the task ends: complete (default) or terminated.',
  }),
  result: ResultChangeSchema.optional(),
});

export const CompleteTasksBodySchema = z
  .strictObject({
    epoch: Epoch.meta({ description: "The lease holder's epoch (fenced)." }),
    tasks: z.array(CompletionSchema).min(1).max(LIMITS.batch),
  })
  .meta({ id: 'CompleteTasksRequest' });

export const CompletionOutcomeSchema = z
  .strictObject({
    task_id: TaskId,
    outcome: z.enum(['completed', 'already', 'refused', 'missing']).meta({
      description:
        'completed: moved now; already: it was at that status (a replay), left as it was; refused: its status cannot move there; missing: no such task.',
    }),
    status: z.enum(TASK_STATUSES).nullable(),
    version: z.int().nullable(),
  })
  .meta({ id: 'CompletionOutcome' });

export const CompleteTasksAnswerSchema = z
  .strictObject({ tasks: z.array(CompletionOutcomeSchema) })
  .meta({ id: 'CompleteTasksAnswer' });

export const RetryBodySchema = z
  .strictObject({
    epoch: Epoch.optional().meta({ description: "The lease holder's epoch (required, fenced)." }),
    max_attempts: z.int().min(0).max(1_000_000).optional().meta({
      description: "Drydock's max_attempts: absent or 0 is no limit.",
    }),
  })
  .meta({ id: 'RetryRequest' });

export const RollupBodySchema = z
  .strictObject({
    epoch: Epoch.optional().meta({ description: "The lease holder's epoch (required, fenced)." }),
    bubble: z
      .strictObject({ action_filter: z.enum(ACTIONS).nullable().optional() })
      .optional()
      .meta({
        description:
          "Run Drydock's bubble_results(action_filter): successes and failures from the finished subtasks.",
      }),
    align: z
      .strictObject({
        action_filter: z.enum(ACTIONS).nullable().optional(),
        reset_status: z.boolean().optional(),
      })
      .optional()
      .meta({
        description:
          "Run Drydock's align_result(action_filter, reset_status=true): the result status from the finished subtasks.",
      }),
  })
  .meta({
    id: 'RollupRequest',
    description:
      'Without bubble and align, both run without a filter (bubble_results(); align_result()).',
  });

// ---------------------------------------------------------------------------------------------
// Messages

export const NewMessageSchema = z
  .strictObject({
    message: z.string().min(1).max(LIMITS.message),
    error: z.boolean(),
    context_type: z.string().min(1).max(LIMITS.contextType),
    context: z.string().min(1).max(LIMITS.name),
    ts: Timestamp.optional(),
    extra: z.record(z.string(), z.unknown()).optional(),
    idempotency_key: IdempotencyKey.optional(),
  })
  .meta({ id: 'NewMessage' });

const MessageBatch = z.array(NewMessageSchema).min(1).max(LIMITS.batch);

export const AppendMessagesBodySchema = z
  .union([
    NewMessageSchema,
    MessageBatch,
    z.strictObject({ epoch: Epoch, messages: MessageBatch }).meta({
      description: "An orchestrator's append, fenced by its lease epoch.",
    }),
  ])
  .meta({
    description:
      'One message, an array of them (appended in order, in one statement), or {epoch, messages}.',
  });

export const ListMessagesQuerySchema = z
  .strictObject({
    after: queryInt(0, Number.MAX_SAFE_INTEGER)
      .optional()
      .meta({ description: 'Sequence to start after.' }),
    limit: queryInt(1, LIMITS.listPage).optional(),
    wait: waitSeconds.optional(),
    version: queryInt(0, 2_147_483_647).optional().meta({
      description:
        'With wait: also answer once the task version passes this one (a status or result change), for a follower that stops when the task ends.',
    }),
  })
  .refine((q) => q.version === undefined || q.wait !== undefined, {
    message: 'version is read only with wait',
    path: ['version'],
  });

// ---------------------------------------------------------------------------------------------
// Build data

export const NewBuildDataSchema = z
  .strictObject({
    task_id: TaskId,
    generator: Name,
    data_format: z.string().min(1).max(LIMITS.contextType),
    data_element: z.string().min(1),
    collected_date: Timestamp.optional(),
    idempotency_key: IdempotencyKey.optional(),
  })
  .meta({ id: 'NewBuildData' });

const BuildDataBatch = z.array(NewBuildDataSchema).min(1).max(100);

export const PostBuildDataBodySchema = z
  .union([
    NewBuildDataSchema,
    BuildDataBatch,
    z.strictObject({ epoch: Epoch, items: BuildDataBatch }).meta({
      description: "An orchestrator's post, fenced by its lease epoch.",
    }),
  ])
  .meta({ description: 'One build data item, an array of up to 100, or {epoch, items}.' });

// ---------------------------------------------------------------------------------------------
// Leader

const GraceSeconds = z.int().min(1).max(LIMITS.graceSeconds).optional().meta({
  description:
    'Seconds without renewal before another instance may take over (default LEASE_GRACE_SECONDS).',
});

export const LeaseClaimBodySchema = z
  .strictObject({ instance_id: InstanceId, grace_seconds: GraceSeconds })
  .meta({ id: 'LeaseClaimRequest' });
export const LeaseRenewBodySchema = z
  .strictObject({ instance_id: InstanceId, epoch: Epoch, grace_seconds: GraceSeconds })
  .meta({ id: 'LeaseRenewRequest' });
export const RequeueBodySchema = z
  .strictObject({
    instance_id: InstanceId,
    epoch: Epoch,
    limit: z.int().min(1).max(LIMITS.batch).optional(),
  })
  .meta({ id: 'RequeueRequest' });
export const LeaseAbdicateBodySchema = z
  .strictObject({ instance_id: InstanceId, epoch: Epoch })
  .meta({ id: 'LeaseAbdicateRequest' });

// ---------------------------------------------------------------------------------------------
// SQS events

/**
 * `tasks` queue: create a top-level task or a subtask, change a task's status/result, end many,
 * or retry one. A top-level create follows `POST /tasks` (a caller's task needs `design_ref`;
 * with `epoch` it is the lease holder's internal task); a subtask is an orchestrator write, so
 * its parent and epoch are required here rather than checked downstream.
 */
export const TaskEventSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('create_task'),
      event_id: IdempotencyKey.optional(),
      task_id: TaskId.optional(),
      action: z.enum(ACTIONS),
      design_ref: DesignRef.nullable().optional(),
      node_filter: NodeFilterSchema.nullable().optional(),
      epoch: Epoch.optional(),
    }),
    z.strictObject({
      type: z.literal('create_subtask'),
      event_id: IdempotencyKey.optional(),
      parent_task_id: TaskId,
      task_id: TaskId.optional(),
      action: z.enum(ACTIONS),
      design_ref: DesignRef.nullable().optional(),
      node_filter: NodeFilterSchema.nullable().optional(),
      retry: Retry.optional(),
      epoch: Epoch,
    }),
    z.strictObject({
      type: z.literal('update_task'),
      event_id: IdempotencyKey.optional(),
      task_id: TaskId,
      status: z.enum(TASK_STATUSES).optional(),
      result: ResultChangeSchema.optional(),
      retry: Retry.optional(),
      expected_version: z.int().min(1).optional(),
      epoch: Epoch.optional(),
    }),
    z.strictObject({
      type: z.literal('complete_tasks'),
      event_id: IdempotencyKey.optional(),
      epoch: Epoch,
      tasks: z.array(CompletionSchema).min(1).max(LIMITS.batch),
    }),
    z.strictObject({
      type: z.literal('retry_task'),
      event_id: IdempotencyKey.optional(),
      task_id: TaskId,
      epoch: Epoch,
      max_attempts: z.int().min(0).max(1_000_000).optional(),
    }),
  ])
  .meta({ id: 'TaskEvent' });

/** `messages` queue: messages for one task. */
export const MessageEventSchema = z
  .strictObject({
    task_id: TaskId,
    messages: MessageBatch,
    epoch: Epoch.optional().meta({ description: "An orchestrator's lease epoch (fenced)." }),
  })
  .meta({ id: 'MessageEvent' });

/** `build-data` queue: build data items for one node. */
export const BuildDataEventSchema = z
  .strictObject({
    node_name: Name,
    items: BuildDataBatch,
    epoch: Epoch.optional().meta({ description: "An orchestrator's lease epoch (fenced)." }),
  })
  .meta({ id: 'BuildDataEvent' });

// ---------------------------------------------------------------------------------------------
// Responses (documentation, and the e2e tests check answers against them)

export const MessageDictSchema = z
  .strictObject({
    sequence: z.int(),
    message: z.string(),
    error: z.boolean(),
    context_type: z.string(),
    context: z.string(),
    ts: z.string(),
    extra: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'TaskStatusMessage' });

export const StatusDictSchema = z
  .strictObject({
    kind: z.literal('Status'),
    apiVersion: z.literal('v1.0'),
    metadata: z.record(z.string(), z.unknown()),
    message: z.string().nullable(),
    reason: z.string().nullable(),
    status: z.enum(RESULT_STATUSES),
    successes: z.array(z.string()),
    failures: z.array(z.string()),
    links: z.array(z.strictObject({ rel: z.string(), href: z.string() })),
    details: z.strictObject({ errorCount: z.int(), messageList: z.array(MessageDictSchema) }),
    task_id: z.string().optional(),
  })
  .meta({ id: 'TaskStatus' });

const TruncatedPart = z.strictObject({
  shown: z.int(),
  total: z.int(),
  next: z.string().meta({ description: 'Where the rest is read, a page at a time.' }),
});

/** What an answer left out to stay within its size bound, and where to read it. */
export const TruncationSchema = z
  .strictObject({
    messages: TruncatedPart.optional(),
    tasks: TruncatedPart.optional(),
    build_data: z
      .strictObject({ next: z.string() })
      .optional()
      .meta({ description: 'Embedded build data was cut: page it from next.' }),
  })
  .meta({
    id: 'Truncation',
    description:
      'Present when embedded messages, build data (or, in a tree, tasks) were cut to keep the answer within its bound.',
  });

export const TaskDictSchema = z
  .strictObject({
    kind: z.literal('Task'),
    apiVersion: z.literal('v1'),
    task_id: z.string(),
    action: z.enum(ACTIONS),
    parent_task_id: z.string().nullable(),
    design_ref: z.string().nullable(),
    status: z.enum(TASK_STATUSES),
    result: StatusDictSchema,
    node_filter: z.record(z.string(), z.unknown()).nullable(),
    subtask_id_list: z.array(z.string()),
    created: z.string(),
    created_by: z.string().nullable(),
    updated: z.string(),
    terminated: z.string().nullable(),
    terminated_by: z.string().nullable(),
    terminate: z.boolean(),
    retry: z.int(),
    version: z.int(),
    build_data: z.array(z.lazy(() => BuildDataDictSchema)).optional(),
    subtask_errors: z.record(z.string(), StatusDictSchema).optional(),
    truncated: TruncationSchema.optional(),
  })
  .meta({ id: 'Task' });

export const BuildDataDictSchema = z
  .strictObject({
    node_name: z.string(),
    task_id: z.string(),
    collected_date: z.string(),
    generator: z.string(),
    data_format: z.string(),
    data_element: z.string().optional(),
  })
  .meta({ id: 'BuildData' });

export const LeaseDictSchema = z
  .strictObject({
    holder: z.string(),
    epoch: z.int(),
    acquired_at: z.string(),
    renewed_at: z.string(),
    expires_at: z.string(),
    db_now: z.string(),
    active: z.boolean(),
    held: z.boolean().optional(),
  })
  .meta({ id: 'Lease' });

export const ErrorBodySchema = z
  .strictObject({
    type: z.literal('error'),
    message: z.string(),
    retry: z.boolean(),
    issues: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
    request_id: z.string().optional(),
  })
  .meta({ id: 'Error' });

// ---------------------------------------------------------------------------------------------
// Queue health

export const QueueQuerySchema = z.strictObject({
  stale_after: queryInt(60, 604_800).optional().meta({
    description:
      'Seconds without a change or message after which a running task counts as stale (default 1800).',
  }),
});

export const QueueHealthDictSchema = z
  .strictObject({
    db_now: z.string(),
    stale_after_seconds: z.int(),
    lease_epoch: z.int().nullable(),
    queued: z.int(),
    oldest_queued: z
      .strictObject({
        task_id: z.string(),
        action: z.string(),
        created: z.string(),
        age_seconds: z.int(),
      })
      .nullable(),
    running: z.int(),
    stale: z.int(),
    stranded: z.int(),
    stuck: z.array(
      z.strictObject({
        task_id: z.string(),
        parent_task_id: z.string().nullable(),
        action: z.string(),
        status: z.string(),
        active_at: z.string(),
        idle_seconds: z.int(),
        claimed_epoch: z.int().nullable(),
        stale: z.boolean(),
        stranded: z.boolean(),
      }),
    ),
  })
  .meta({ id: 'QueueHealth' });
