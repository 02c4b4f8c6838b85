import type { Db } from '../db/port.ts';
import { type ColumnSpec, p, type Row, sql, statement } from '../db/sql.ts';
import { NotFoundError, UnprocessableError, ValidationError } from '../errors.ts';
import { LIMITS } from '../limits.ts';
import { messageAnswerBytesSql, READ_BUDGET_BYTES, ROW_FRAMING_BYTES } from './bounds.ts';
import { checkFence, FENCE_COLUMNS, type LeaseFence, leaseFence } from './fence.ts';
import { run, runRetryingOnConflict } from './run.ts';
import type { AppendResult, MessageRecord, NewMessage } from './types.ts';

/** The same columns, null on the one row a statement returns when it inserted or found none. */
const OPTIONAL_MESSAGE_COLUMNS = {
  sequence: 'int?',
  message: 'text?',
  error: 'bool?',
  contextType: 'text?',
  context: 'text?',
  ts: 'timestamptz?',
  extra: 'json?',
} as const satisfies ColumnSpec;

// One object per statement, not per call: the decoder caches a column list's layout by its identity.
const APPENDED_BATCH_COLUMNS = {
  ...OPTIONAL_MESSAGE_COLUMNS,
  found: 'bool',
  fresh: 'int',
  ...FENCE_COLUMNS,
  clash: 'bool',
} as const satisfies ColumnSpec;
const APPENDED_COLUMNS = {
  ...OPTIONAL_MESSAGE_COLUMNS,
  found: 'bool',
  ...FENCE_COLUMNS,
} as const satisfies ColumnSpec;
const LISTED_MESSAGE_COLUMNS = {
  ...OPTIONAL_MESSAGE_COLUMNS,
  fetched: 'int?',
} as const satisfies ColumnSpec;

type MaybeMessageRow = Row<typeof OPTIONAL_MESSAGE_COLUMNS>;

/** True when the row carries a message (the left join found one): its NOT NULL columns are set. */
function hasMessage<R extends MaybeMessageRow>(row: R): row is R & MessageRecord {
  return (
    row.sequence !== null &&
    row.message !== null &&
    row.error !== null &&
    row.contextType !== null &&
    row.context !== null &&
    row.ts !== null &&
    typeof row.extra === 'object' &&
    row.extra !== null
  );
}

const MESSAGE_SELECT = sql`m.sequence as "sequence", m.message as "message", m.error as "error",
  m.context_type as "contextType", m.context as "context", m.ts as "ts", m.extra as "extra"`;

/** A stored message `r` is input message `i` again (an omitted time matches any). */
const SAME_AS_STORED = sql`r.message = i.message and r.error = i.error and r.context_type = i.context_type
    and r.context = i.context and r.extra = i.extra and (i.ts is null or r.ts = i.ts)`;

/** Input messages `i` and `j` are the same message. */
const SAME_IN_BATCH = sql`j.message = i.message and j.error = i.error and j.context_type = i.context_type
    and j.context = i.context and j.extra = i.extra and j.ts is not distinct from i.ts`;

/** A batch's messages as the statement reads them (`input`). */
const INPUT_COLUMNS = {
  message: 'text',
  error: 'boolean',
  context_type: 'text',
  context: 'text',
  ts: 'timestamptz',
  extra: 'jsonb',
  idempotency_key: 'text',
} as const;

/** Most messages one append accepts; larger batches should be split by the caller. */
export const MAX_APPEND_BATCH = 1000;

/**
 * Appends one or many messages to a task in one statement. Sequence numbers come from the task
 * row's counter, bumped under its row lock, so concurrent appends get contiguous, ordered ranges
 * with no gaps or duplicates. Messages whose idempotency key the task already has are skipped (a
 * replayed batch inserts nothing), unless the key came with another message: then nothing is
 * appended and the replay is refused (422), as is one key given to two different messages of the
 * batch. `error_count` grows by the new error messages only. `extra` is stored as a JSON object
 * and messages are never truncated.
 */
export async function appendMessages(
  db: Db,
  taskId: string,
  messages: readonly NewMessage[],
  options: { epoch?: number | undefined } = {},
): Promise<AppendResult> {
  if (messages.length === 0 || messages.length > MAX_APPEND_BATCH) {
    throw new ValidationError(`append between 1 and ${MAX_APPEND_BATCH} messages`);
  }
  const fence = leaseFence(options.epoch);
  const [only] = messages;
  if (messages.length === 1 && only && only.idempotencyKey === undefined) {
    return appendOne(db, taskId, only, fence, options.epoch);
  }
  const batch = sql.recordset(
    INPUT_COLUMNS,
    messages.map((m) => ({
      message: m.message,
      error: m.error,
      context_type: m.contextType,
      context: m.context,
      ts: m.ts ?? null,
      extra: m.extra ?? {},
      idempotency_key: m.idempotencyKey ?? null,
    })),
  );
  const task = p.uuid(taskId);
  const rows = await runRetryingOnConflict(
    db,
    statement(
      APPENDED_BATCH_COLUMNS,
      sql`with ${fence.ctes}input as (${batch}),
found as (select 1 from tasks where task_id = ${task}::uuid),
clash as (
  select 1 from input i join result_message r
    on r.task_id = ${task}::uuid and r.idempotency_key = i.idempotency_key
  where not (${SAME_AS_STORED})
  union all
  select 1 from input i join input j on j.idempotency_key = i.idempotency_key and j.ord > i.ord
  where not (${SAME_IN_BATCH})
),
fresh as (
  select d.*, row_number() over (order by d.ord) as n
  from (
    select distinct on (coalesce(i.idempotency_key, '#' || i.ord)) i.*
    from input i
    where not exists (select 1 from clash) and (i.idempotency_key is null or not exists (
      select 1 from result_message r where r.task_id = ${task}::uuid and r.idempotency_key = i.idempotency_key))
    order by coalesce(i.idempotency_key, '#' || i.ord), i.ord
  ) d
),
bump as (
  update tasks set
    message_seq = message_seq + (select count(*) from fresh),
    error_count = error_count + (select count(*) from fresh where error)
  where task_id = ${task}::uuid and exists (select 1 from fresh)${fence.guard}
  returning message_seq
),
m as (
  insert into result_message (task_id, sequence, message, error, context_type, context, ts, extra, idempotency_key)
  select ${task}::uuid, bump.message_seq - (select count(*) from fresh) + f.n, f.message, f.error,
    f.context_type, f.context, coalesce(f.ts, now()), f.extra, f.idempotency_key
  from fresh f cross join bump
  returning *
)
select ${MESSAGE_SELECT}, exists (select 1 from found) as "found", (select count(*) from fresh)::int as "fresh",
  ${fence.columns}, exists (select 1 from clash) as "clash"
from (select 1) as one left join m on true
order by m.sequence`,
    ),
    'result_message_idempotency_idx',
  );
  checkFence(rows[0], options.epoch);
  if (!rows[0]?.found) throw new NotFoundError(`task ${taskId} does not exist`);
  if (rows[0].clash) {
    throw new UnprocessableError(
      `an idempotency key of task ${taskId} was first used for another message; a replay must repeat the message, a new message needs a new key`,
    );
  }
  const appended: MessageRecord[] = rows.filter(hasMessage);
  return { appended, duplicates: messages.length - appended.length };
}

/** A page of messages, and whether more follow it. */
export interface MessagePage {
  messages: MessageRecord[];
  /** The page was full, or the byte budget ended it early: read on after its last message. */
  more: boolean;
}

/**
 * A page of a task's messages after sequence `after`, in order: at most `limit` of them and
 * `READ_BUDGET_BYTES` of rows, counted as the Data API carries them (values as JSON text,
 * `messageAnswerBytesSql`, and each row's framing); always at least one, so paging moves on.
 */
export async function listMessages(
  db: Db,
  taskId: string,
  options: { after: number; limit: number },
): Promise<MessagePage> {
  if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > LIMITS.listPage) {
    throw new ValidationError(`limit must be an integer from 1 to ${LIMITS.listPage}`);
  }
  if (!Number.isInteger(options.after) || options.after < 0) {
    throw new ValidationError('after must be a non-negative integer');
  }
  const task = p.uuid(taskId);
  const rows = await run(
    db,
    statement(
      LISTED_MESSAGE_COLUMNS,
      sql`select ${MESSAGE_SELECT}, m.fetched as "fetched"
from (select task_id from tasks where task_id = ${task}::uuid) as t
left join lateral (
  select * from (
    select r.*, count(*) over () as fetched, row_number() over w as n,
      sum(${messageAnswerBytesSql(sql`r`)} + ${ROW_FRAMING_BYTES.message}::int) over w as running
    from (
      select * from result_message r
      where r.task_id = t.task_id and r.sequence > ${options.after}::bigint
      order by r.sequence limit ${options.limit}::int
    ) r
    window w as (order by r.sequence)
  ) b
  where b.running <= ${READ_BUDGET_BYTES}::bigint or b.n = 1
) m on true
order by m.sequence`,
    ),
  );
  if (rows.length === 0) throw new NotFoundError(`task ${taskId} does not exist`);
  const messages: MessageRecord[] = rows.filter(hasMessage);
  const fetched = rows[0]?.fetched ?? 0;
  return { messages, more: messages.length === options.limit || fetched > messages.length };
}

/**
 * One message without an idempotency key, the commonest append: no recordset to unpack and no
 * replay lookup, just the counter bump and the insert it numbers. The time is sent as text and
 * parsed by the server, as in the batch path, so a malformed one is the same 400 on every driver.
 */
async function appendOne(
  db: Db,
  taskId: string,
  m: NewMessage,
  fence: LeaseFence,
  epoch: number | undefined,
): Promise<AppendResult> {
  const task = p.uuid(taskId);
  const rows = await run(
    db,
    statement(
      APPENDED_COLUMNS,
      sql`with ${fence.ctes}bump as (
  update tasks set message_seq = message_seq + 1, error_count = error_count + ${m.error ? 1 : 0}::int
  where task_id = ${task}::uuid${fence.guard}
  returning message_seq
),
m as (
  insert into result_message (task_id, sequence, message, error, context_type, context, ts, extra)
  select ${task}::uuid, bump.message_seq, ${m.message}::text, ${m.error}::boolean, ${m.contextType}::text,
    ${m.context}::text, coalesce(${p.text(m.ts ?? null)}::timestamptz, now()), ${p.json(m.extra ?? {})}::jsonb
  from bump
  returning *
)
select ${MESSAGE_SELECT}, exists (select 1 from bump) as "found", ${fence.columns}
from (select 1) as one left join m on true`,
    ),
  );
  checkFence(rows[0], epoch);
  if (!rows[0]?.found) throw new NotFoundError(`task ${taskId} does not exist`);
  return {
    appended: rows.filter(hasMessage).map(({ leaseHeld: _held, liveEpoch: _live, ...row }) => row),
    duplicates: 0,
  };
}
