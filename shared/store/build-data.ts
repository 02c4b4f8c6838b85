import type { Db } from '../db/port.ts';
import { type ColumnSpec, p, type SqlFragment, sql, statement } from '../db/sql.ts';
import { ValidationError } from '../errors.ts';
import { run } from './run.ts';
import type { BuildDataQuery, BuildDataRecord, NewBuildData } from './types.ts';

const META_COLUMNS = {
  buildDataId: 'int',
  nodeName: 'text',
  taskId: 'uuid',
  collectedDate: 'timestamptz',
  generator: 'text',
  dataFormat: 'text',
} as const satisfies ColumnSpec;

const FULL_COLUMNS = { ...META_COLUMNS, dataElement: 'text' } as const satisfies ColumnSpec;

const META_SELECT = sql`b.build_data_id as "buildDataId", b.node_name as "nodeName", b.task_id as "taskId",
  b.collected_date as "collectedDate", b.generator as "generator", b.data_format as "dataFormat"`;

/** Most build-data items one post accepts. */
export const MAX_BUILD_DATA_BATCH = 100;

/**
 * Stores one or many build-data items in one statement (a JSON recordset, no array parameters).
 * An item whose idempotency key is already stored is skipped. Returns the stored items without
 * their payloads.
 */
export async function postBuildData(
  db: Db,
  items: readonly NewBuildData[],
): Promise<{ inserted: BuildDataRecord[]; duplicates: number }> {
  if (items.length === 0 || items.length > MAX_BUILD_DATA_BATCH) {
    throw new ValidationError(`post between 1 and ${MAX_BUILD_DATA_BATCH} build-data items`);
  }
  const batch = items.map((item, ord) => ({
    ord,
    node_name: item.nodeName,
    task_id: item.taskId,
    collected_date: item.collectedDate ?? null,
    generator: item.generator,
    data_format: item.dataFormat,
    data_element: item.dataElement,
    idempotency_key: item.idempotencyKey ?? null,
  }));
  const rows = await run(
    db,
    statement(
      META_COLUMNS,
      sql`with b as (
  insert into build_data (node_name, task_id, collected_date, generator, data_format, data_element, idempotency_key)
  select x.node_name, x.task_id, coalesce(x.collected_date, now()), x.generator, x.data_format, x.data_element,
    x.idempotency_key
  from jsonb_to_recordset(${p.json(batch)}::jsonb) as x(ord int, node_name text, task_id uuid,
    collected_date timestamptz, generator text, data_format text, data_element text, idempotency_key text)
  order by x.ord
  on conflict (idempotency_key) do nothing
  returning *
)
select ${META_SELECT} from b order by b.build_data_id`,
    ),
  );
  return { inserted: rows, duplicates: items.length - rows.length };
}

/**
 * Build data by node, by task, or by node and task, newest first; or, with `latest`, the newest
 * item per generator of a node. Verbosity 1 leaves the payload out. Fixes Drydock's dropped task
 * filter, its invalid `latest` SQL and its ignored verbosity.
 */
export async function queryBuildData(db: Db, query: BuildDataQuery): Promise<BuildDataRecord[]> {
  const limit = query.limit ?? 1000;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new ValidationError('limit must be an integer from 1 to 10000');
  }
  if (query.nodeName === undefined && query.taskId === undefined) {
    throw new ValidationError('build data is queried by node name, task id, or both');
  }
  const full = query.verbosity === 2;
  const columns = full ? FULL_COLUMNS : META_COLUMNS;
  const node = p.text(query.nodeName ?? null);
  const task = p.uuid(query.taskId ?? null);

  if (query.latest) {
    if (query.nodeName === undefined)
      throw new ValidationError('latest build data needs a node name');
    const taskFilter: SqlFragment = query.taskId ? sql`and b.task_id = ${task}::uuid` : sql.empty;
    // A loose index scan: hop from generator to generator through the (node, generator, date)
    // index, then read the newest entry of each from the same index (index-only for the
    // metadata); the payload, when asked for, is one heap read per generator.
    const payload = full
      ? sql`, (select d.data_element from build_data d where d.build_data_id = b.build_data_id) as "dataElement"`
      : sql.empty;
    return run(
      db,
      statement(
        columns,
        sql`with recursive gens as (
  (select generator from build_data where node_name = ${node}::text order by generator limit 1)
  union all
  select (select b.generator from build_data b
          where b.node_name = ${node}::text and b.generator > gens.generator
          order by b.generator limit 1)
  from gens where gens.generator is not null
)
select l.* from gens
cross join lateral (
  select ${META_SELECT}${payload} from build_data b
  where b.node_name = ${node}::text and b.generator = gens.generator ${taskFilter}
  order by b.collected_date desc, b.build_data_id desc limit 1
) l
where gens.generator is not null
order by l."collectedDate" desc, l."buildDataId" desc
limit ${limit}::int`,
      ),
    ) as Promise<BuildDataRecord[]>;
  }

  const conditions: SqlFragment[] = [];
  if (query.nodeName !== undefined) conditions.push(sql`b.node_name = ${node}::text`);
  if (query.taskId !== undefined) conditions.push(sql`b.task_id = ${task}::uuid`);
  return run(
    db,
    statement(
      columns,
      sql`select ${META_SELECT}${full ? sql`, b.data_element as "dataElement"` : sql.empty} from build_data b
where ${sql.join(conditions, ' and ')}
order by b.collected_date desc, b.build_data_id desc
limit ${limit}::int`,
    ),
  ) as Promise<BuildDataRecord[]>;
}
