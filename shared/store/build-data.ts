import type { Db } from '../db/port.ts';
import { type ColumnSpec, p, type SqlFragment, sql, statement } from '../db/sql.ts';
import { UnprocessableError, ValidationError } from '../errors.ts';
import { READ_BUDGET_BYTES, ROW_FRAMING_BYTES, withMeta } from './bounds.ts';
import { checkFence, FENCE_COLUMNS, leaseFence } from './fence.ts';
import { type Read, run, runRead } from './run.ts';
import type { BuildDataQuery, BuildDataRecord, NewBuildData } from './types.ts';

const META_COLUMNS = {
  buildDataId: 'int',
  nodeName: 'text',
  taskId: 'uuid',
  collectedDate: 'timestamptz',
  generator: 'text',
  dataFormat: 'text',
} as const satisfies ColumnSpec;

const CHUNK_COLUMNS = {
  ...META_COLUMNS,
  chunkIndex: 'int',
  chunk: 'text',
} as const satisfies ColumnSpec;

/** `more` on the last row of a page: the list goes on after it. */
const PAGE_COLUMNS = { more: 'bool' } as const satisfies ColumnSpec;

// One object per shape, not per call: the decoder caches a column list's layout by its identity.
const LISTED_COLUMNS = { ...META_COLUMNS, ...PAGE_COLUMNS } as const satisfies ColumnSpec;
const CHUNKED_COLUMNS = { ...CHUNK_COLUMNS, ...PAGE_COLUMNS } as const satisfies ColumnSpec;

/** 12,000 characters stay under the Data API's 64 KB row limit even at 4 bytes per character. */
const CHUNK_CHARS = 12_000;

// The read's constants as text (`sql.count`: one value each, so one statement text).
const CHUNK = sql.count(CHUNK_CHARS);
const FRAMING_BYTES = sql.count(ROW_FRAMING_BYTES.buildData);
const BUDGET = sql.count(READ_BUDGET_BYTES);

const META_SELECT = sql`b.build_data_id as "buildDataId", b.node_name as "nodeName", b.task_id as "taskId",
  b.collected_date as "collectedDate", b.generator as "generator", b.data_format as "dataFormat"`;

/** A posted batch's items as the statement reads them (`x`). */
const INPUT_COLUMNS = {
  node_name: 'text',
  task_id: 'uuid',
  collected_date: 'timestamptz',
  generator: 'text',
  data_format: 'text',
  data_element: 'text',
  idempotency_key: 'text',
} as const;

/** Most build-data items one post accepts. */
export const MAX_BUILD_DATA_BATCH = 100;

/** A stored row `d` carries the same item as input row `x` (an omitted date matches any). */
const SAME_AS_STORED = sql`d.task_id = x.task_id and d.generator = x.generator
    and d.data_format = x.data_format and d.data_element = x.data_element
    and (x.collected_date is null or d.collected_date = x.collected_date)`;

/** Two input rows `x` and `y` carry the same item. */
const SAME_IN_BATCH = sql`y.task_id = x.task_id and y.generator = x.generator
    and y.data_format = x.data_format and y.data_element = x.data_element
    and y.collected_date is not distinct from x.collected_date`;

/**
 * Stores one or many build-data items in one statement (a JSON recordset, no array parameters).
 * Idempotency keys are scoped to the node: an item whose key the node already has is skipped as a
 * replay, unless it carries another payload, which refuses the whole batch (422) — as does one
 * key given to two different items of the batch. Returns the stored items without payloads.
 */
export async function postBuildData(
  db: Db,
  items: readonly NewBuildData[],
  options: { epoch?: number | undefined } = {},
): Promise<{ inserted: BuildDataRecord[]; duplicates: number }> {
  if (items.length === 0 || items.length > MAX_BUILD_DATA_BATCH) {
    throw new ValidationError(`post between 1 and ${MAX_BUILD_DATA_BATCH} build-data items`);
  }
  const batch = sql.recordset(
    INPUT_COLUMNS,
    items.map((item) => ({
      node_name: item.nodeName,
      task_id: item.taskId,
      collected_date: item.collectedDate ?? null,
      generator: item.generator,
      data_format: item.dataFormat,
      data_element: item.dataElement,
      idempotency_key: item.idempotencyKey ?? null,
    })),
  );
  // An orchestrator's post carries its lease epoch and lands only while that epoch is live.
  const fence = leaseFence(options.epoch);
  const rows = await run(
    db,
    statement(
      POSTED_COLUMNS,
      sql`with ${fence.ctes}x as (${batch}),
clash as (
  select 1 from x join build_data d on d.node_name = x.node_name and d.idempotency_key = x.idempotency_key
  where not (${SAME_AS_STORED})
  union all
  select 1 from x join x y on y.node_name = x.node_name and y.idempotency_key = x.idempotency_key and y.ord > x.ord
  where not (${SAME_IN_BATCH})
),
b as (
  insert into build_data (node_name, task_id, collected_date, generator, data_format, data_element, idempotency_key)
  select x.node_name, x.task_id, coalesce(x.collected_date, now()), x.generator, x.data_format, x.data_element,
    x.idempotency_key
  from x
  where not exists (select 1 from clash)${fence.guard}
  order by x.ord
  on conflict (node_name, idempotency_key) where idempotency_key is not null do nothing
  returning *
)
select ${META_SELECT}, ${fence.columns}, exists (select 1 from clash) as "clash"
from (select 1) as one left join b on true order by b.build_data_id`,
    ),
  );
  checkFence(rows[0], options.epoch);
  if (rows[0]?.clash) {
    throw new UnprocessableError(
      'an idempotency key of this node was first used for another build-data item; a replay must repeat the item, new data needs a new key',
    );
  }
  const inserted = rows
    .filter((row) => row.buildDataId !== null)
    .map(({ leaseHeld: _held, liveEpoch: _live, clash: _clash, ...row }) => row as BuildDataRecord);
  return { inserted, duplicates: items.length - inserted.length };
}

/** META_COLUMNS, null on the one row a post returns when it stored nothing. */
const OPTIONAL_META_COLUMNS = {
  buildDataId: 'int?',
  nodeName: 'text?',
  taskId: 'uuid?',
  collectedDate: 'timestamptz?',
  generator: 'text?',
  dataFormat: 'text?',
} as const satisfies ColumnSpec;

/** What a post returns: the stored items, the fence's verdict, and whether a key clashed. */
const POSTED_COLUMNS = {
  ...OPTIONAL_META_COLUMNS,
  ...FENCE_COLUMNS,
  clash: 'bool',
} as const satisfies ColumnSpec;

/** Cursor text: the position (collected date in microseconds, id) of the last item of a page. */
function encodeBuildDataCursor(micros: number, id: number): string {
  return Buffer.from(`b:${micros}:${id}`).toString('base64url');
}

const ISO_UTC = /^(\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z$/;

/**
 * Microseconds since 1970 of a collected date as every driver decodes it (ISO-8601 UTC with
 * microseconds), exactly what `POSITION` computes in SQL: the page's last item is positioned
 * here rather than by the statement, which computed it for every row (numeric arithmetic, about
 * a seventh of a latest read's server time).
 */
function microsOf(iso: string): number {
  const m = ISO_UTC.exec(iso);
  if (!m) throw new Error(`a collected date the cursor cannot position: ${iso}`);
  const [, y, mo, d, h, mi, s, frac] = m;
  // setUTCFullYear, not Date.UTC, which reads the years 0 to 99 as 1900 to 1999.
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s), 0);
  return date.getTime() * 1000 + Number((frac ?? '').padEnd(6, '0'));
}

function decodeBuildDataCursor(cursor: string): { micros: number; id: number } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^b:(-?\d{1,17}):([1-9]\d{0,15})$/.exec(text);
  if (!match) {
    throw new ValidationError('invalid cursor', [
      { path: 'cursor', message: 'not a build-data cursor from this API' },
    ]);
  }
  return { micros: Number(match[1]), id: Number(match[2]) };
}

/** An item's position in the listing order, comparable with a cursor's. */
const POSITION = (alias: SqlFragment) =>
  sql`((extract(epoch from ${alias}.collected_date) * 1000000)::bigint, ${alias}.build_data_id)`;

/**
 * Build data by node, by task, or by node and task, newest first; or, with `latest`, the newest
 * item per generator of a node. Verbosity 1 leaves the payload out. Fixes Drydock's dropped task
 * filter, its invalid `latest` SQL and its ignored verbosity. At most `limit` items and
 * `READ_BUDGET_BYTES` of them (payloads included), always at least one; `nextCursor` continues
 * after the last item when either cut the list.
 */
export async function queryBuildData(db: Db, query: BuildDataQuery): Promise<BuildDataPage> {
  return runRead(db, buildDataRead(query));
}

/** A page of build data and the cursor of the next one (null on the last). */
export type BuildDataPage = BuildDataRecord[] & { nextCursor: string | null };

/** `queryBuildData` as a read, to share a round trip with another (`runReadsTogether`). */
export function buildDataRead(query: BuildDataQuery): Read<ColumnSpec, BuildDataPage> {
  const limit = query.limit ?? 1000;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new ValidationError('limit must be an integer from 1 to 10000');
  }
  if (
    query.nodeName === undefined &&
    query.taskId === undefined &&
    query.taskIds === undefined &&
    query.taskTree === undefined
  ) {
    throw new ValidationError('build data is queried by node name, task id, or both');
  }
  const node = p.text(query.nodeName ?? null);
  const task = p.uuid(query.taskId ?? null);
  const cursor = query.cursor === undefined ? undefined : decodeBuildDataCursor(query.cursor);
  const after = (alias: SqlFragment) =>
    cursor === undefined
      ? sql.empty
      : sql` and ${POSITION(alias)} < (${cursor.micros}::bigint, ${cursor.id}::bigint)`;
  // `items`: the candidates, at most one more than the limit in the answer's order (newest
  // first), but a node's kept latest rows, which the window below orders and ends itself;
  // `metaBytes`: what an item's metadata adds to the read as JSON text (escaped once).
  let items: SqlFragment;
  let metaBytes: SqlFragment = sql`json_text_bytes(i."nodeName") + json_text_bytes(i."generator")
      + json_text_bytes(i."dataFormat")`;
  if (query.latest && query.nodeName === undefined) {
    throw new ValidationError('latest build data needs a node name');
  }
  if (query.latest && query.taskId === undefined) {
    // The newest item per generator is kept beside the history (`build_data_latest`, migration
    // 0016), with its metadata's size: a node's latest items are one range of a small index,
    // read index-only in the answer's order, whatever the depth of the node's history.
    // Neither sorted nor cut here: the window below reads them in its order straight off the
    // index, this subquery flattened into its query (a scan node and a projection fewer), and
    // the run condition its position's filter becomes (`n <= limit`) ends the scan after
    // limit + 2 rows (`lead` looks one past the first row the condition stops). Postgres 15 and
    // later; an older server would read the node's whole range, one row per generator, for the
    // same answer. Measured: shared/store/README.md (build data).
    items = sql`with items as (
  select l.build_data_id as "buildDataId", l.node_name as "nodeName", l.task_id as "taskId",
    l.collected_date as "collectedDate", l.generator as "generator", l.data_format as "dataFormat",
    l.meta_bytes as "metaBytes"
  from build_data_latest l
  where l.node_name = ${node}::text${after(sql`l`)}
)`;
    metaBytes = sql`i."metaBytes"`;
  } else if (query.latest) {
    const next = sql`select ${META_SELECT} from build_data b
    where b.node_name = ${node}::text and b.task_id = ${task}::uuid`;
    const indexOrder = sql`order by b.generator, b.collected_date desc, b.build_data_id desc`;
    const position = sql`((extract(epoch from l."collectedDate") * 1000000)::bigint, l."buildDataId")`;
    // The newest item per generator among one task's: a loose index scan over the (node,
    // generator, date desc) index, index-only for the metadata, each step descending once to the
    // next generator, whose first entry of the task is its newest.
    items = sql`with recursive l as (
  (${next} ${indexOrder} limit 1)
  union all
  select n.* from l cross join lateral (
    ${next} and b.generator > l."generator" ${indexOrder} limit 1
  ) n
),
items as (
  select l.* from l
  ${cursor === undefined ? sql.empty : sql`where ${position} < (${cursor.micros}::bigint, ${cursor.id}::bigint)`}
  order by l."collectedDate" desc, l."buildDataId" desc
  limit ${limit + 1}::int
)`;
  } else {
    const conditions: SqlFragment[] = [];
    if (query.nodeName !== undefined) conditions.push(sql`b.node_name = ${node}::text`);
    if (query.taskId !== undefined) conditions.push(sql`b.task_id = ${task}::uuid`);
    if (query.taskIds !== undefined) {
      conditions.push(
        sql`b.task_id in (select jsonb_array_elements_text(${p.json(query.taskIds)}::jsonb)::uuid)`,
      );
    }
    if (query.taskTree !== undefined) {
      const { rootTaskId, layers } = query.taskTree;
      conditions.push(sql`b.task_id in (
    with recursive tree as (
      select task_id, 1 as layer from tasks where task_id = ${p.uuid(rootTaskId)}::uuid
      union all
      select c.task_id, tree.layer + 1 from tasks c join tree on c.parent_task_id = tree.task_id
      where ${layers}::int < 0 or tree.layer < ${layers}::int
    )
    select task_id from tree)`);
    }
    items = sql`with items as (
  select ${META_SELECT} from build_data b
  where ${sql.join(conditions, ' and ')}${after(sql`b`)}
  order by b.collected_date desc, b.build_data_id desc
  limit ${limit + 1}::int
)`;
  }
  // One more item than the limit tells whether the list goes on; the byte budget may end it
  // earlier (after one item at least), counting payloads only when they are sent.
  // Everything counts as JSON text (escaped once), as the Data API carries it: the payload, and
  // the metadata with its row's framing once per row, so once per chunk of the payload. The
  // chunks are counted from the payload's JSON size (at least its characters), never fewer.
  // One window, in one pass over the candidates: the running size, the position, and whether
  // another candidate follows (`more` on the last item kept: the list goes on). Its frame is
  // ROWS, which on this order (unique: the id is in it) sums exactly what the default RANGE
  // frame sums, without comparing each row with the next for peers; the constants are written
  // into the text rather than bound on every call, and verbosity 1 sums the metadata alone
  // instead of a zero payload's chunks (server instructions before and after:
  // shared/store/README.md, build data).
  const framed = sql`${FRAMING_BYTES} + ${metaBytes}`;
  const [itemBytes, candidates] =
    query.verbosity === 2
      ? [
          sql`p.bytes + (1 + (p.bytes - 3) / ${CHUNK}) * (${framed})`,
          sql`items i join build_data d on d.build_data_id = i."buildDataId"
  cross join lateral (select json_text_bytes(d.data_element) as bytes) p`,
        ]
      : [framed, sql`items i`];
  const ranked = sql`select i."buildDataId", i."nodeName", i."taskId", i."collectedDate", i."generator",
    i."dataFormat",
    sum(${itemBytes}) over w as running, row_number() over w as n, lead(true, 1, false) over w as "more"
  from ${candidates}
  window w as (order by i."collectedDate" desc, i."buildDataId" desc
    rows between unbounded preceding and current row)`;
  const kept = sql`k.n <= ${limit}::int and (k.n = 1 or k.running <= ${BUDGET}::bigint)`;
  const page = <R extends { more: boolean; buildDataId: number; collectedDate: string }>(
    rows: R[],
  ) => {
    const last = rows.at(-1);
    return last?.more
      ? encodeBuildDataCursor(microsOf(last.collectedDate), last.buildDataId)
      : null;
  };

  if (query.verbosity === 1) {
    const columns = LISTED_COLUMNS;
    const read: Read<typeof columns, BuildDataPage> = {
      columns,
      fragment: sql`${items}
select k."buildDataId", k."nodeName", k."taskId", k."collectedDate", k."generator", k."dataFormat",
  k."more"
from (${ranked}) k
where ${kept}
order by k."collectedDate" desc, k."buildDataId" desc`,
      order: '"collectedDate" desc, "buildDataId" desc',
      decode: (rows) =>
        withMeta(
          rows.map((r) => ({
            buildDataId: r.buildDataId,
            nodeName: r.nodeName,
            taskId: r.taskId,
            collectedDate: r.collectedDate,
            generator: r.generator,
            dataFormat: r.dataFormat,
          })),
          { nextCursor: page(rows) },
        ),
    };
    return read as unknown as Read<ColumnSpec, BuildDataPage>;
  }
  // Payloads travel in slices of CHUNK_CHARS characters, one row each, and are joined here: the
  // Data API refuses rows over 64 KB, and an lshw dump is often several times that.
  const columns = CHUNKED_COLUMNS;
  const read: Read<typeof columns, BuildDataPage> = {
    columns,
    fragment: sql`${items}
select k."buildDataId", k."nodeName", k."taskId", k."collectedDate", k."generator", k."dataFormat",
  c.i as "chunkIndex", substr(d.data_element, c.i * ${CHUNK} + 1, ${CHUNK}) as "chunk",
  k."more"
from (${ranked}) k
join build_data d on d.build_data_id = k."buildDataId"
cross join lateral generate_series(0, greatest(0, (length(d.data_element) - 1) / ${CHUNK})) as c(i)
where ${kept}
order by k."collectedDate" desc, k."buildDataId" desc, c.i`,
    order: '"collectedDate" desc, "buildDataId" desc, "chunkIndex"',
    decode(rows) {
      const records: BuildDataRecord[] = [];
      for (const { chunkIndex, chunk, more: _more, ...meta } of rows) {
        const last = records.at(-1);
        if (chunkIndex > 0 && last?.buildDataId === meta.buildDataId) last.dataElement += chunk;
        else records.push({ ...meta, dataElement: chunk });
      }
      return withMeta(records, { nextCursor: page(rows) });
    },
  };
  return read as unknown as Read<ColumnSpec, BuildDataPage>;
}
