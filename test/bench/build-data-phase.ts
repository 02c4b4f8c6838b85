import type pg from 'pg';
import { bindValue } from '#shared/db/decode.ts';
import type { Db } from '#shared/db/port.ts';
import type { ColumnSpec, Row, Statement } from '#shared/db/sql.ts';
import { queryBuildData } from '#shared/store/build-data.ts';
import type { BenchSchema } from './bench-db.ts';
import { type CaseResult, measureCase } from './measure.ts';
import type { BenchOptions } from './options.ts';
import { RAW, rawQuery } from './raw-sql.ts';
import { drive, nowMs } from './stats.ts';

const GENERATORS = 8;
const COLLECTIONS = 25;

/** What EXPLAIN (ANALYZE, BUFFERS) said about the store's statement. */
export interface PlanFacts {
  readonly text: string;
  /**
   * Every scan of build_data and build_data_latest is an Index Only Scan (no Seq, Index or
   * Bitmap Heap Scan).
   */
  readonly indexOnly: boolean;
  readonly scans: string[];
  readonly heapFetches: number;
  readonly sharedHitBlocks: number;
  readonly sharedReadBlocks: number;
  readonly executionMs: number;
}

/** One history depth: the case measured on it and the plan of the store's statement there. */
export interface BuildDataShape {
  readonly shape: 'shallow' | 'deep';
  /** Rows of the node each query reads. */
  readonly rowsPerNode: number;
  readonly latest: CaseResult;
  readonly plan: PlanFacts;
}

export interface BuildDataPhaseResult {
  readonly rows: number;
  readonly deepRows: number;
  readonly nodes: number;
  readonly generators: number;
  readonly seedMs: number;
  readonly vacuumMs: number;
  readonly shapes: readonly BuildDataShape[];
}

/** The node with the deep history. */
const DEEP_NODE = 'node-deep';

/** A Db that records statements instead of running them: the exact SQL the store would send. */
function recordingDb(): Db & { last: Statement | undefined } {
  const db = {
    driver: 'pg' as const,
    last: undefined as Statement | undefined,
    query<C extends ColumnSpec>(statement: Statement<C>): Promise<Row<C>[]> {
      db.last = statement;
      return Promise.resolve([]);
    },
    transaction: () => Promise.reject(new Error('not supported')),
    close: () => Promise.resolve(),
  };
  return db;
}

/**
 * Seeds `rows` build_data rows in one INSERT … SELECT over generate_series (collections
 * interleaved across nodes, as they arrive in life), with the secondary indexes dropped first and
 * rebuilt from their own definitions afterwards (much faster than maintaining them row by row),
 * then VACUUM ANALYZE so the visibility map allows index-only scans.
 */
async function seed(
  schema: BenchSchema,
  rows: number,
  deepRows: number,
): Promise<{ nodes: number; seedMs: number; vacuumMs: number }> {
  const nodes = Math.max(1, Math.round(rows / (GENERATORS * COLLECTIONS)));
  const start = nowMs();
  await schema.query('truncate build_data');
  const defs = await schema.query(
    `select indexname, indexdef from pg_indexes
     where schemaname = current_schema() and tablename = 'build_data'
       and indexname not in (select conname from pg_constraint where conrelid = 'build_data'::regclass)`,
  );
  for (const { indexname } of defs.rows as { indexname: string }[]) {
    await schema.query(`drop index ${indexname}`);
  }
  await schema.query(
    `insert into build_data (node_name, task_id, collected_date, generator, data_format, data_element)
     select 'node-' || lpad(n::text, 6, '0'),
       ('00000000-0000-4000-8000-' || lpad(to_hex(c * 1000000 + n), 12, '0'))::uuid,
       timestamptz '2026-01-01 00:00:00+00' + c * interval '1 hour' + g * interval '1 minute',
       'gen-' || g, 'text/plain',
       'collected by gen-' || g || ' on node-' || n || ' run ' || c
     from generate_series(1, $3::int) c, generate_series(1, $1::int) n, generate_series(1, $2::int) g
     limit $4::int`,
    [nodes, GENERATORS, COLLECTIONS, rows],
  );
  // One node whose generators each collected deepRows / GENERATORS times.
  await schema.query(
    `insert into build_data (node_name, task_id, collected_date, generator, data_format, data_element)
     select $1::text, ('00000000-0000-4000-8000-' || lpad(to_hex(c), 12, '0'))::uuid,
       timestamptz '2026-01-01 00:00:00+00' + c * interval '1 minute' + g * interval '1 second',
       'gen-' || g, 'text/plain', 'collected by gen-' || g || ' run ' || c
     from generate_series(1, $2::int) c, generate_series(1, $3::int) g
     limit $4::int`,
    [DEEP_NODE, Math.ceil(deepRows / GENERATORS), GENERATORS, deepRows],
  );
  await schema.query(`set maintenance_work_mem = '256MB'`);
  for (const { indexdef } of defs.rows as { indexdef: string }[]) await schema.query(indexdef);
  const seedMs = nowMs() - start;
  const vStart = nowMs();
  await schema.query('vacuum analyze build_data');
  // The newest items per generator, which the insert triggers kept (migration 0016).
  await schema.query('vacuum analyze build_data_latest');
  return { nodes, seedMs, vacuumMs: nowMs() - vStart };
}

function parsePlan(lines: string[]): PlanFacts {
  const text = lines.join('\n');
  const scans = lines
    .map(
      (l) =>
        /(Seq Scan|Index Only Scan|Index Scan|Bitmap Heap Scan)(?: Backward)?(?: using \S+)? on build_data(?:_latest)?\b/.exec(
          l,
        )?.[0],
    )
    .filter((s): s is string => s !== undefined);
  const sum = (re: RegExp) =>
    [...text.matchAll(re)].reduce((total, m) => total + Number(m[1] ?? 0), 0);
  // Only the top-level Buffers line (the first one) is the statement's total.
  const top = /Buffers: shared(?: hit=(\d+))?(?: read=(\d+))?/.exec(text);
  return {
    text,
    indexOnly: scans.length > 0 && scans.every((s) => s.startsWith('Index Only Scan')),
    scans: [...new Set(scans)],
    heapFetches: sum(/Heap Fetches: (\d+)/g),
    sharedHitBlocks: Number(top?.[1] ?? 0),
    sharedReadBlocks: Number(top?.[2] ?? 0),
    executionMs: Number(/Execution Time: ([\d.]+) ms/.exec(text)?.[1] ?? Number.NaN),
  };
}

/**
 * Latest build data per generator at two history depths: a node among `buildRows` rows (200 per
 * node) and one node of `buildDeepRows`. At each, the store's queryBuildData (pg adapter) against
 * the same statement sent bare on a dedicated client and against the two correct plain queries,
 * DISTINCT ON (fastest on a shallow history) and a loose index scan (fastest on a deep one): the
 * target is the store within 1.2× of whichever is fastest there. Also a bare read of the newest
 * items the store keeps beside the history (what its statement adds paging and the size bound
 * to), and the plan of the store's statement at each depth.
 */
export async function runBuildDataPhase(
  schema: BenchSchema,
  options: BenchOptions,
  progress: (text: string) => void,
): Promise<BuildDataPhaseResult> {
  progress(`seeding ${options.buildRows} build_data rows and a node of ${options.buildDeepRows}`);
  const seeded = await seed(schema, options.buildRows, options.buildDeepRows);
  // One connection, one query at a time: the target compares the latency of one query with the
  // bare statement's, which concurrent load on two shared cores would blur into CPU queueing.
  const raw = await schema.rawClients(1);
  const store = schema.storeDb(1);
  const recorder = recordingDb();
  const bareFor = async (node: string) => {
    await queryBuildData(recorder, { nodeName: node, latest: true, verbosity: 1 });
    const statement = recorder.last as Statement;
    return { statement, text: statement.text, values: statement.params.map(bindValue) };
  };

  const measureShape = async (shape: 'shallow' | 'deep'): Promise<BuildDataShape> => {
    // The same pseudo-random node sequence for every variant (the one deep node when deep).
    const nodeFor =
      shape === 'deep'
        ? () => DEEP_NODE
        : (i: number) => `node-${String(((i * 7919) % seeded.nodes) + 1).padStart(6, '0')}`;
    const queries = options.buildQueries;
    // DISTINCT ON reads a deep node's whole history per query (about 9 ms): fewer queries of it
    // there. Every other variant runs as many as on the shallow node, so that the ratios to the
    // kept rows (tenths of a millisecond a query) rest on as many queries at both depths.
    const queriesOf = (variant: string) =>
      shape === 'deep' && variant === 'distinct-on'
        ? Math.max(5, Math.round(queries / 20))
        : queries;
    const bare = await Promise.all(
      Array.from({ length: Math.min(queries, shape === 'deep' ? 1 : seeded.nodes * 4) }, (_, i) =>
        bareFor(nodeFor(i)),
      ),
    );
    const rowsPerNode =
      shape === 'deep' ? options.buildDeepRows : Math.round(options.buildRows / seeded.nodes);
    const latest = await measureCase(
      {
        id: `build-latest-${shape}`,
        label: `latest build data per generator, a node of ${rowsPerNode.toLocaleString('en-US')} rows (${shape}), sequential`,
        unit: 'queries',
        variants: [
          { id: 'bare', label: "the store's statement, sent bare (prepared)" },
          { id: 'store', label: 'store queryBuildData({latest, verbosity 1})' },
          { id: 'distinct-on', label: 'DISTINCT ON (generator), prepared' },
          {
            id: 'skip-scan',
            label: 'loose index scan (recursive, one descent per generator), prepared',
          },
          { id: 'kept', label: 'the kept newest items (build_data_latest) read bare, prepared' },
        ],
        versus: [
          { variant: 'store', over: 'distinct-on', atLeast: 1 / 1.2 },
          { variant: 'store', over: 'skip-scan', atLeast: 1 / 1.2 },
          { variant: 'store', over: 'kept', atLeast: 1 / 1.2 },
        ],
        async run(variant, scale, report, meter) {
          const n = Math.max(1, Math.round(queriesOf(variant) * scale));
          const op = async (w: number, i: number) => {
            const node = nodeFor(i);
            const client = raw[w] as pg.Client;
            let found: number;
            if (variant === 'store') {
              found = (await queryBuildData(store, { nodeName: node, latest: true, verbosity: 1 }))
                .length;
            } else if (variant === 'bare') {
              const q = bare[i % bare.length] as { text: string; values: unknown[] };
              found =
                (await rawQuery(client, { name: `bare_latest_${shape}`, text: q.text }, q.values))
                  .rowCount ?? 0;
            } else if (variant === 'distinct-on') {
              found = (await rawQuery(client, RAW.latestDistinctOn, [node])).rowCount ?? 0;
            } else if (variant === 'skip-scan') {
              found = (await rawQuery(client, RAW.latestSkipScan, [node])).rowCount ?? 0;
            } else {
              found = (await rawQuery(client, RAW.latestKept, [node])).rowCount ?? 0;
            }
            if (found !== GENERATORS)
              throw new Error(`${variant}: ${found} generators for ${node}`);
          };
          await meter.begin();
          const { elapsedMs, done } = await drive(1, n, op, (d) => report(`${d}/${n}`));
          await meter.end();
          return { ops: done, elapsedMs };
        },
      },
      options.rounds,
      progress,
      schema,
    );
    const sample = bare[0] as { text: string; values: unknown[] };
    const explained = await schema.query(
      `explain (analyze, buffers, costs off) ${sample.text}`,
      sample.values,
    );
    const plan = parsePlan(explained.rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']));
    return { shape, rowsPerNode, latest, plan };
  };

  const shapes = [await measureShape('shallow'), await measureShape('deep')];
  return {
    rows: options.buildRows,
    deepRows: options.buildDeepRows,
    nodes: seeded.nodes,
    generators: GENERATORS,
    seedMs: seeded.seedMs,
    vacuumMs: seeded.vacuumMs,
    shapes,
  };
}
