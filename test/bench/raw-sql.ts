import type pg from 'pg';

/**
 * The raw floor: hand-written statements on the same schema, each the least SQL that does the
 * same job correctly in one round trip, prepared (named) on dedicated node-postgres clients.
 * What they leave out, on purpose, is what the store adds: idempotency keys, lease and epoch
 * checks, the full task row in every answer, JSON-recordset batches, typed decoding.
 */
export const RAW = {
  createTask: {
    name: 'raw_create_task',
    text: `insert into tasks (action, status, design_ref, created_by)
values ($1, 'queued', $2, $3) returning task_id`,
  },
  // peers.md's floor on the project's tables: the oldest queued task (the queue table's head,
  // checked against the task row), claimed by an UPDATE around a SKIP LOCKED subselect,
  // returning what a worker needs to run it.
  claimOne: {
    name: 'raw_claim_one',
    text: `update tasks set status = 'running', claimed_at = now(), updated = now()
where task_id = (select t.task_id from task_queue q join tasks t on t.task_id = q.task_id
  where q.queued and t.status = 'queued' order by q.seq limit 1 for no key update of t skip locked)
returning task_id, action, design_ref, node_filter`,
  },
  claimMany: {
    name: 'raw_claim_many',
    text: `with next as (
  select t.task_id from task_queue q join tasks t on t.task_id = q.task_id
  where q.queued and t.status = 'queued' order by q.seq limit $1 for no key update of t skip locked
)
update tasks t set status = 'running', claimed_at = now(), updated = now()
from next where t.task_id = next.task_id
returning t.task_id, t.action, t.design_ref, t.node_filter`,
  },
  completeOne: {
    name: 'raw_complete_one',
    text: `update tasks set status = 'complete', updated = now() where task_id = $1`,
  },
  completeMany: {
    name: 'raw_complete_many',
    text: `update tasks set status = 'complete', updated = now() where task_id = any($1::uuid[])`,
  },
  // Contiguous per-task sequence numbers need the counter bump; that is part of the floor.
  appendOne: {
    name: 'raw_append_one',
    text: `with bump as (
  update tasks set message_seq = message_seq + 1, error_count = error_count + $6::int
  where task_id = $1 returning message_seq
)
insert into result_message (task_id, sequence, message, error, context_type, context)
select $1, bump.message_seq, $2, $3, $4, $5 from bump
returning sequence`,
  },
  appendMany: {
    name: 'raw_append_many',
    text: `with input as (
  select * from unnest($2::text[], $3::bool[], $4::text[], $5::text[]) with ordinality
    as x(message, error, context_type, context, ord)
),
bump as (
  update tasks set message_seq = message_seq + (select count(*) from input),
    error_count = error_count + (select count(*) from input where error)
  where task_id = $1 returning message_seq
)
insert into result_message (task_id, sequence, message, error, context_type, context)
select $1, bump.message_seq - (select count(*) from input) + x.ord, x.message, x.error, x.context_type, x.context
from input x cross join bump
returning sequence`,
  },
  getTaskWithMessages: {
    name: 'raw_get_task',
    text: `select t.*, m.sequence, m.message, m.error, m.context_type, m.context, m.ts, m.extra
from tasks t left join result_message m on m.task_id = t.task_id
where t.task_id = $1 order by m.sequence`,
  },
  // What a hand-written "latest per generator" usually looks like: correct, but it reads every
  // entry the node has (shown for scale; the floor is the store's own statement, run bare).
  latestDistinctOn: {
    name: 'raw_latest_distinct_on',
    text: `select distinct on (generator) build_data_id, node_name, task_id, collected_date, generator, data_format
from build_data where node_name = $1
order by generator, collected_date desc, build_data_id desc`,
  },
  /** A loose index scan: one descent per generator, its first entry being its newest. */
  latestSkipScan: {
    name: 'raw_latest_skip_scan',
    text: `with recursive l as (
  (select build_data_id, node_name, task_id, collected_date, generator, data_format from build_data
   where node_name = $1 order by generator, collected_date desc, build_data_id desc limit 1)
  union all
  select n.* from l cross join lateral (
    select b.build_data_id, b.node_name, b.task_id, b.collected_date, b.generator, b.data_format
    from build_data b where b.node_name = $1 and b.generator > l.generator
    order by b.generator, b.collected_date desc, b.build_data_id desc limit 1) n
)
select * from l order by collected_date desc, build_data_id desc`,
  },
  /**
   * The newest items kept beside the history (`build_data_latest`, migration 0016), newest
   * first: the least a read of them can do (no paging, no size bound).
   */
  latestKept: {
    name: 'raw_latest_kept',
    text: `select build_data_id, node_name, task_id, collected_date, generator, data_format
from build_data_latest where node_name = $1
order by collected_date desc, build_data_id desc`,
  },
} as const satisfies Record<string, { name: string; text: string }>;

/** Runs a named (prepared) raw statement. */
export function rawQuery(
  client: pg.Client,
  statement: { readonly name: string; readonly text: string },
  values: unknown[] = [],
): Promise<pg.QueryResult> {
  return client.query({ name: statement.name, text: statement.text, values });
}
