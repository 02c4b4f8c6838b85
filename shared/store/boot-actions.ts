import { toIsoUtc } from '../db/decode.ts';
import type { Db } from '../db/port.ts';
import { type ColumnSpec, p, type SqlFragment, sql, statement } from '../db/sql.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { checkFence, FENCE_COLUMNS, leaseFence } from './fence.ts';
import { MAX_APPEND_BATCH } from './messages.ts';
import { eventsReturning, RETURNED_EVENTS_COLUMN, returnedEvents } from './outbox.ts';
import { run } from './run.ts';

/**
 * Drydock's boot-action state (`DrydockState.post_boot_action_context`, `post_boot_action`,
 * `get_boot_action_context`, `get_boot_actions_for_node`, `get_boot_action`,
 * `put_bootaction_status`), one statement per operation. Keys arrive here already hashed
 * (`shared/bootactions/key.ts`): the store never sees a usable key.
 */

/** Drydock's ActionResult values a boot action can hold. */
export type BootActionStatus = 'incomplete' | 'success' | 'failure' | 'unreported';

/** The statuses after which an action never changes. */
export const FINAL_BOOT_ACTION_STATUSES: readonly BootActionStatus[] = [
  'success',
  'failure',
  'unreported',
];

/** One boot action instance as stored. */
export interface BootActionRecord {
  actionId: string;
  nodeName: string;
  actionName: string;
  taskId: string;
  actionStatus: BootActionStatus;
  created: string;
  updated: string;
}

/** A node's context: the deploy task, the key's hash, the task's design and the node's actions. */
export interface BootActionContext {
  nodeName: string;
  taskId: string;
  identityKeyHash: string;
  /** The deploy task's design reference (what the node's assets are rendered from). */
  designRef: string | null;
  created: string;
  actions: BootActionRecord[];
}

/** One action of a new context: its id (a ULID), the BootAction document's name, its status. */
export interface NewBootAction {
  actionId: string;
  actionName: string;
  /** `incomplete` when the action signals (Drydock's default), `unreported` when it does not. */
  actionStatus: 'incomplete' | 'unreported';
}

/** Most boot actions one context holds. */
export const MAX_BOOT_ACTIONS = 100;

const ACTION_COLUMNS = {
  actionId: 'text',
  nodeName: 'text',
  actionName: 'text',
  taskId: 'uuid',
  actionStatus: 'text',
  created: 'timestamptz',
  updated: 'timestamptz',
} as const satisfies ColumnSpec;

/** A report's details as its statement reads them (`input`). */
const DETAIL_COLUMNS = { message: 'text', error: 'boolean', extra: 'jsonb' } as const;
/** A context's boot actions as its statement reads them (`input`). */
const REGISTERED_ACTION_COLUMNS = {
  action_id: 'text',
  action_name: 'text',
  action_status: 'text',
} as const;

// One object per statement, not per call: the decoder caches a column list's layout by its identity.
const ACTION_KEY_COLUMNS = {
  ...ACTION_COLUMNS,
  identityKeyHash: 'text',
} as const satisfies ColumnSpec;
const UPDATED_ACTION_COLUMNS = {
  ...ACTION_COLUMNS,
  identityKeyHash: 'text',
  currentStatus: 'text',
  updatedNow: 'bool',
  ...RETURNED_EVENTS_COLUMN,
} as const satisfies ColumnSpec;
const NODE_ACTIONS_COLUMNS = { found: 'bool', actions: 'json' } as const satisfies ColumnSpec;
const REGISTERED_COLUMNS = {
  nodeName: 'text?',
  taskId: 'uuid?',
  identityKeyHash: 'text?',
  designRef: 'text?',
  created: 'timestamptz?',
  actions: 'json',
  found: 'bool',
  ...FENCE_COLUMNS,
} as const satisfies ColumnSpec;

const ACTION_SELECT = sql`s.action_id as "actionId", s.node_name as "nodeName", s.action_name as "actionName",
  s.task_id as "taskId", s.action_status as "actionStatus", s.created as "created", s.updated as "updated"`;

/** The node's actions as one JSON array, oldest first (ULIDs sort by creation time). */
const ACTIONS_JSON = sql`coalesce((select jsonb_agg(jsonb_build_object(
    'actionId', s.action_id, 'nodeName', s.node_name, 'actionName', s.action_name,
    'taskId', s.task_id, 'actionStatus', s.action_status,
    'created', to_char(s.created at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'updated', to_char(s.updated at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
    order by s.action_id)
  from boot_action_status s where s.node_name = b.node_name), '[]'::jsonb)`;

const CONTEXT_COLUMNS = {
  nodeName: 'text',
  taskId: 'uuid',
  identityKeyHash: 'text',
  designRef: 'text?',
  created: 'timestamptz',
  actions: 'json',
} as const satisfies ColumnSpec;

/** ISO-8601 as every driver decodes timestamps (the JSON path formats its own). */
function isoFromJson(value: string): string {
  return toIsoUtc(value);
}

function decodeActions(value: unknown): BootActionRecord[] {
  return (value as BootActionRecord[]).map((a) => ({
    ...a,
    created: isoFromJson(a.created),
    updated: isoFromJson(a.updated),
  }));
}

/**
 * Creates a node's boot-action context and its action rows in one statement, replacing an
 * earlier context of the node (a redeploy: the latest deployment wins, as Drydock's upsert) and
 * the earlier context's actions with it, so no stale instance is ever read again (Drydock's S13).
 * Fenced by the orchestrator's lease epoch. 404 when the deploy task does not exist.
 */
export async function createBootActionContext(
  db: Db,
  input: {
    nodeName: string;
    taskId: string;
    identityKeyHash: string;
    actions: readonly NewBootAction[];
  },
  options: { epoch?: number | undefined } = {},
): Promise<BootActionContext> {
  if (input.actions.length === 0 || input.actions.length > MAX_BOOT_ACTIONS) {
    throw new ValidationError(`a context holds between 1 and ${MAX_BOOT_ACTIONS} boot actions`);
  }
  const names = new Set(input.actions.map((a) => a.actionName));
  if (names.size !== input.actions.length) {
    throw new ValidationError('each boot action of a node must have its own name');
  }
  const fence = leaseFence(options.epoch);
  const batch = input.actions.map((a) => ({
    action_id: a.actionId,
    action_name: a.actionName,
    action_status: a.actionStatus,
  }));
  const node = p.text(input.nodeName);
  const task = p.uuid(input.taskId);
  const hash = p.text(input.identityKeyHash);
  const rows = await run(
    db,
    statement(
      REGISTERED_COLUMNS,
      sql`with ${fence.ctes}found as (select design_ref from tasks where task_id = ${task}::uuid),
input as (${sql.recordset(REGISTERED_ACTION_COLUMNS, batch)}),
ctx as (
  insert into boot_action as b (node_name, task_id, identity_key_hash)
  select ${node}::text, ${task}::uuid, ${hash}::text
  where exists (select 1 from found)${fence.guard}
  on conflict (node_name) do update
    set task_id = excluded.task_id, identity_key_hash = excluded.identity_key_hash, created = now()
  returning b.*
),
-- The earlier deployment's actions go; the new ones are inserted only once they are gone (the
-- count forces the order), so the node's action names stay unique.
gone as (
  delete from boot_action_status s using ctx where s.node_name = ctx.node_name
  returning 1
),
added as (
  insert into boot_action_status as s
    (action_id, node_name, action_name, task_id, identity_key_hash, action_status)
  select i.action_id, ctx.node_name, i.action_name, ctx.task_id, ctx.identity_key_hash, i.action_status
  from input i cross join ctx cross join (select count(*) from gone) as g
  returning s.*
)
select ctx.node_name as "nodeName", ctx.task_id as "taskId", ctx.identity_key_hash as "identityKeyHash",
  (select design_ref from found) as "designRef", ctx.created as "created",
  coalesce((select jsonb_agg(jsonb_build_object(
      'actionId', s.action_id, 'nodeName', s.node_name, 'actionName', s.action_name,
      'taskId', s.task_id, 'actionStatus', s.action_status,
      'created', to_char(s.created at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
      'updated', to_char(s.updated at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
      order by s.action_id) from added s), '[]'::jsonb) as "actions",
  exists (select 1 from found) as "found", ${fence.columns}
from (select 1) as one left join ctx on true`,
    ),
  );
  const row = rows[0];
  checkFence(row, options.epoch);
  if (!row?.found) throw new NotFoundError(`task ${input.taskId} does not exist`);
  if (row.nodeName === null || row.taskId === null || row.identityKeyHash === null) {
    throw new Error('boot action context was not written');
  }
  return {
    nodeName: row.nodeName,
    taskId: row.taskId,
    identityKeyHash: row.identityKeyHash,
    designRef: row.designRef,
    created: row.created as string,
    actions: decodeActions(row.actions),
  };
}

/**
 * A node's context with its deploy task's design reference and its actions, or undefined when
 * the node has none. The node-facing routes read this first and check the key against it before
 * anything else.
 */
export async function getBootActionContext(
  db: Db,
  nodeName: string,
): Promise<BootActionContext | undefined> {
  const rows = await run(
    db,
    statement(
      CONTEXT_COLUMNS,
      sql`select b.node_name as "nodeName", b.task_id as "taskId", b.identity_key_hash as "identityKeyHash",
  t.design_ref as "designRef", b.created as "created", ${ACTIONS_JSON} as "actions"
from boot_action b join tasks t on t.task_id = b.task_id
where b.node_name = ${p.text(nodeName)}::text`,
    ),
  );
  const row = rows[0];
  if (!row) return undefined;
  return { ...row, actions: decodeActions(row.actions) };
}

/**
 * A node's actions and their statuses, oldest first (what Drydock's `bootaction_report` polls);
 * 404 when the node has no context.
 */
export async function listNodeBootActions(db: Db, nodeName: string): Promise<BootActionRecord[]> {
  const rows = await run(
    db,
    statement(
      NODE_ACTIONS_COLUMNS,
      sql`select true as "found", ${ACTIONS_JSON} as "actions"
from boot_action b where b.node_name = ${p.text(nodeName)}::text`,
    ),
  );
  const row = rows[0];
  if (!row) throw new NotFoundError(`node ${nodeName} has no boot-action context`);
  return decodeActions(row.actions);
}

/** One action with its key's hash, or undefined. */
export async function getBootAction(
  db: Db,
  actionId: string,
): Promise<(BootActionRecord & { identityKeyHash: string }) | undefined> {
  const rows = await run(
    db,
    statement(
      ACTION_KEY_COLUMNS,
      sql`select ${ACTION_SELECT}, s.identity_key_hash as "identityKeyHash"
from boot_action_status s where s.action_id = ${p.text(actionId)}::text`,
    ),
  );
  const row = rows[0];
  return row ? { ...row, actionStatus: row.actionStatus as BootActionStatus } : undefined;
}

/** A detail a node reports: Drydock's `{message, error}` plus any other fields (kept in `extra`). */
export interface BootActionDetail {
  message: string;
  error: boolean;
  extra?: Record<string, unknown>;
}

/**
 * The final-status write announces itself: a "Boot Action Status" event in the transactional
 * outbox (`event_outbox`, see shared/notify/README.md), in the same statement as the status it
 * reports. `final` names the CTE holding the row that became final (columns of
 * `boot_action_status`, plus `old_status`). The event's task fields are the deploy task's (its
 * version as this statement read it); `old_status`/`new_status` are the boot action's, and
 * `action_id`, `action_name` and `node_name` name it. Returns the CTE to splice in, followed by
 * a comma.
 */
export function bootActionStatusOutbox(db: Db, final: SqlFragment): SqlFragment {
  return sql`boot_action_events as (
  insert into event_outbox (detail_type, task_id, parent_task_id, action, old_status, new_status,
    result_status, epoch, version, extra)
  select 'Boot Action Status', f.task_id, t.parent_task_id, t.action, f.old_status, f.action_status,
    t.result_status, t.claimed_epoch, t.version,
    jsonb_build_object('action_id', f.action_id, 'action_name', f.action_name, 'node_name', f.node_name)
  from ${final} f left join tasks t on t.task_id = f.task_id
  ${eventsReturning(db)}
),
`;
}

/**
 * Reports a boot action's outcome in one statement (Drydock's `BootactionResource.on_post`):
 * each detail becomes a message on the deploy task (context type `bootaction`, context the
 * action id, other fields in `extra`), and a final status, when given, is set; both only while
 * the action is `incomplete` and only with the action's key (by hash). 404 unknown action, 403
 * another key, 409 already final (then nothing is written).
 */
export async function reportBootAction(
  db: Db,
  input: {
    actionId: string;
    identityKeyHash: string;
    status?: 'success' | 'failure' | undefined;
    details: readonly BootActionDetail[];
  },
): Promise<BootActionRecord> {
  if (input.details.length > MAX_APPEND_BATCH) {
    throw new ValidationError(`report at most ${MAX_APPEND_BATCH} details at once`);
  }
  const details = sql.recordset(
    DETAIL_COLUMNS,
    input.details.map((d) => ({ message: d.message, error: d.error, extra: d.extra ?? {} })),
  );
  const id = p.text(input.actionId);
  const rows = await run(
    db,
    statement(
      UPDATED_ACTION_COLUMNS,
      sql`with cur as (select * from boot_action_status where action_id = ${id}::text),
upd as (
  update boot_action_status s
  set action_status = coalesce(${p.text(input.status ?? null)}::text, s.action_status), updated = now()
  where s.action_id = ${id}::text and s.action_status = 'incomplete'
    and s.identity_key_hash = ${p.text(input.identityKeyHash)}::text
  returning s.*, (select c.action_status from cur c) as old_status
),
final as (select * from upd where action_status <> 'incomplete'),
${bootActionStatusOutbox(db, sql`final`)}input as (${details}),
bump as (
  update tasks t set
    message_seq = message_seq + (select count(*) from input),
    error_count = error_count + (select count(*) from input where error)
  from upd
  where t.task_id = upd.task_id and exists (select 1 from input)
  returning t.task_id, t.message_seq
),
m as (
  insert into result_message (task_id, sequence, message, error, context_type, context, extra)
  select bump.task_id, bump.message_seq - (select count(*) from input) + i.ord + 1, i.message, i.error,
    'bootaction', ${id}::text, i.extra
  from input i cross join bump
  returning 1
)
select c.action_id as "actionId", c.node_name as "nodeName", c.action_name as "actionName",
  c.task_id as "taskId", coalesce(u.action_status, c.action_status) as "actionStatus",
  c.created as "created", coalesce(u.updated, c.updated) as "updated",
  c.identity_key_hash as "identityKeyHash", c.action_status as "currentStatus",
  (u.action_id is not null) as "updatedNow", ${returnedEvents(db, sql`boot_action_events`)}
from cur c left join upd u on u.action_id = c.action_id`,
    ),
  );
  const row = rows[0];
  if (!row) throw new NotFoundError(`boot action ${input.actionId} does not exist`);
  if (!row.updatedNow) {
    if (row.identityKeyHash !== input.identityKeyHash) {
      throw new ForbiddenError('Invalid X-Bootaction-Key');
    }
    throw new ConflictError(`Action ${input.actionId} status finalized, not available for update.`);
  }
  const {
    identityKeyHash: _hash,
    currentStatus: _current,
    updatedNow: _now,
    outboxEvents: _events,
    ...record
  } = row;
  return { ...record, actionStatus: record.actionStatus as BootActionStatus };
}
