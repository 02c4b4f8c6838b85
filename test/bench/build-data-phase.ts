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
  /** Every scan of build_data is an Index Only Scan (no Seq, Index or Bitmap Heap Scan). */
  readonly indexOnly: boolean;
  readonly scans: string[];
  readonly heapFetches: number;
  readonly sharedHitBlocks: number;
  readonly sharedReadBlocks: number;
  readonly executionMs: number;
}

export interface BuildDataPhaseResult {
  readonly rows: number;
  readonly nodes: number;
  readonly generators: number;
  readonly seedMs: number;
  readonly vacuumMs: number;
  readonly latest: CaseResult;
  readonly plan: PlanFacts;
}

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
  await schema.query(`set maintenance_work_mem = '256MB'`);
  for (const { indexdef } of defs.rows as { indexdef: string }[]) await schema.query(indexdef);
  const seedMs = nowMs() - start;
  const vStart = nowMs();
  await schema.query('vacuum analyze build_data');
  return { nodes, seedMs, vacuumMs: nowMs() - vStart };
}

function parsePlan(lines: string[]): PlanFacts {
  const text = lines.join('\n');
  const scans = lines
    .map(
      (l) =>
        /(Seq Scan|Index Only Scan|Index Scan|Bitmap Heap Scan)(?: Backward)?(?: using \S+)? on build_data/.exec(
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
 * Latest build data per generator for one node among `buildRows` rows: the store's
 * queryBuildData (pg adapter) against the very same statement sent bare on dedicated clients,
 * with a naive DISTINCT ON for scale, and the plan of the store's statement.
 */
export async function runBuildDataPhase(
  schema: BenchSchema,
  options: BenchOptions,
  progress: (text: string) => void,
): Promise<BuildDataPhaseResult> {
  progress(`seeding ${options.buildRows} build_data rows`);
  const seeded = await seed(schema, options.buildRows);
  // One connection, one query at a time: the target compares the latency of one query with the
  // bare statement's, which concurrent load on two shared cores would blur into CPU queueing.
  const raw = await schema.rawClients(1);
  const store = schema.storeDb(1);

  // The same pseudo-random node sequence for every variant.
  const nodeFor = (i: number) => `node-${String(((i * 7919) % seeded.nodes) + 1).padStart(6, '0')}`;
  const recorder = recordingDb();
  const bareFor = async (node: string) => {
    await queryBuildData(recorder, { nodeName: node, latest: true, verbosity: 1 });
    const statement = recorder.last as Statement;
    return { statement, text: statement.text, values: statement.params.map(bindValue) };
  };
  const bare = await Promise.all(
    Array.from({ length: Math.min(options.buildQueries, seeded.nodes * 4) }, (_, i) =>
      bareFor(nodeFor(i)),
    ),
  );

  const latest = await measureCase(
    {
      id: 'build-latest',
      label: `latest build data per generator, 1 node of ${options.buildRows.toLocaleString('en-US')} rows, sequential`,
      unit: 'queries',
      variants: [
        { id: 'bare', label: "the store's statement, sent bare (prepared)" },
        { id: 'store', label: 'store queryBuildData({latest, verbosity 1})' },
        { id: 'adapter', label: "the store's statement, prebuilt, through the pg adapter" },
        { id: 'distinct-on', label: 'naive DISTINCT ON (generator), for scale' },
      ],
      target: { variant: 'store', atLeast: 1 / 1.2, text: '≥ 0.83× rate (≤ 1.2× time)' },
      async run(variant, scale, report, meter) {
        const n = Math.max(1, Math.round(options.buildQueries * scale));
        const op = async (w: number, i: number) => {
          const node = nodeFor(i);
          let found: number;
          if (variant === 'store') {
            found = (await queryBuildData(store, { nodeName: node, latest: true, verbosity: 1 }))
              .length;
          } else if (variant === 'adapter') {
            found = (
              await store.query((bare[i % bare.length] as { statement: Statement }).statement)
            ).length;
          } else if (variant === 'bare') {
            const q = bare[i % bare.length] as { text: string; values: unknown[] };
            found =
              (await rawQuery(raw[w] as pg.Client, { name: 'bare_latest', text: q.text }, q.values))
                .rowCount ?? 0;
          } else {
            found =
              (await rawQuery(raw[w] as pg.Client, RAW.latestDistinctOn, [node])).rowCount ?? 0;
          }
          if (found !== GENERATORS) throw new Error(`${variant}: ${found} generators for ${node}`);
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
  return {
    rows: options.buildRows,
    nodes: seeded.nodes,
    generators: GENERATORS,
    seedMs: seeded.seedMs,
    vacuumMs: seeded.vacuumMs,
    latest,
    plan,
  };
}
