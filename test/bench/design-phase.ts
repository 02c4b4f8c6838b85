import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeDesign } from '#shared/design/analyze-design.ts';
import { DesignSyntaxError, parseYamlDocuments } from '#shared/design/parse-yaml.ts';
import { createDesignResolver } from '#shared/design-refs/design-resolver.ts';
import { generatedSite, PLATFORM, toYaml } from '../design/site-builder.ts';
import { manyKeys, WORST_CASES } from '../design/worst-cases.ts';
import type { BenchOptions } from './options.ts';
import { type Summary, summarize } from './stats.ts';

/** The design brief's target: a 500-node site validated within a second on this machine. */
export const DESIGN_TARGET_MS = 1_000;

export interface DesignPhaseResult {
  readonly nodes: number;
  readonly bytes: number;
  readonly documents: number;
  /** Milliseconds per stage of one validation: fetch (file://), parse (with the schema checks), compile, rules. */
  readonly stages: {
    fetch: Summary;
    parse: Summary;
    compile: Summary;
    rules: Summary;
    total: Summary;
  };
  /** `parseYamlDocuments` alone on the same text: the floor the stages are compared with. */
  readonly parseAlone: Summary;
  /** Each stage divided by parsing alone, per round, then the median. */
  readonly ratios: { parse: Summary; compile: Summary; rules: Summary; total: Summary };
  readonly targetMs: number;
  readonly met: boolean;
  /** Parsing the largest design accepted under the default 4 MiB cap (370,000 keys by default). */
  readonly largest: { keys: number; bytes: number; parseMs: Summary };
  /** Each worst case of the design tables: its size, the time to accept or refuse it, the answer. */
  readonly worstCases: { name: string; bytes: number; ms: number; outcome: string }[];
}

/**
 * Validates a generated site of `designNodes` nodes `rounds` times, timing each stage of the
 * pipeline a validation runs (in the calling thread, as a Lambda does), against parsing alone;
 * then parses the largest accepted design and every worst case once per round.
 */
export async function runDesignPhase(
  options: BenchOptions,
  progress: (line: string) => void,
): Promise<DesignPhaseResult> {
  const dir = await mkdtemp(join(tmpdir(), 'drydock-bench-design-'));
  const resolver = createDesignResolver({
    fileRoots: [dir],
    allowHosts: [],
    maxBytes: 8 * 1024 * 1024,
    cacheTtlSeconds: 0,
    httpTimeoutMs: 10_000,
    httpRetries: 0,
  });
  try {
    const text = toYaml(generatedSite(options.designNodes));
    const file = join(dir, 'site.yaml');
    await writeFile(file, text);
    const samples = {
      fetch: [],
      parse: [],
      compile: [],
      rules: [],
      total: [],
      alone: [],
    } as Record<string, number[]>;
    const ratios = { parse: [], compile: [], rules: [], total: [] } as Record<string, number[]>;
    let documents = 0;
    // One unrecorded round first: the first parse of a process also compiles the parser.
    parseYamlDocuments(text);
    analyzeDesign(text, { ts: new Date().toISOString(), platform: PLATFORM });
    for (let round = 0; round < options.rounds; round++) {
      progress(`design: round ${round + 1}/${options.rounds}`);
      let t = performance.now();
      const alone = parseYamlDocuments(text);
      const parseAlone = performance.now() - t;
      documents = alone.documents.length;

      t = performance.now();
      const fetched = await resolver.resolve(`file://${file}`);
      const decoded = new TextDecoder('utf-8', { fatal: true }).decode(fetched.bytes);
      const fetchMs = performance.now() - t;
      const analysis = analyzeDesign(decoded, { ts: new Date().toISOString(), platform: PLATFORM });
      if (analysis.status.status !== 'Success') {
        throw new Error(
          `the generated site does not validate: ${analysis.status.details.errorCount} errors`,
        );
      }
      const { parse, compile, rules } = analysis.timings;
      const total = fetchMs + parse + compile + rules;
      for (const [k, v] of Object.entries({
        fetch: fetchMs,
        parse,
        compile,
        rules,
        total,
        alone: parseAlone,
      })) {
        samples[k]?.push(v);
      }
      for (const [k, v] of Object.entries({ parse, compile, rules, total })) {
        ratios[k]?.push(v / parseAlone);
      }
    }

    progress('design: the largest accepted design');
    const largestText = manyKeys(options.designKeys);
    const largest: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const t = performance.now();
      parseYamlDocuments(largestText);
      largest.push(performance.now() - t);
    }

    const worstCases: DesignPhaseResult['worstCases'] = [];
    for (const c of options.designWorstCases ? WORST_CASES : []) {
      progress(`design: ${c.name}`);
      const caseText = c.text();
      const t = performance.now();
      let outcome = 'accepted';
      try {
        parseYamlDocuments(caseText);
      } catch (error) {
        if (!(error instanceof DesignSyntaxError)) throw error;
        outcome = `refused: ${error.issues[0]?.message ?? error.message}`;
      }
      worstCases.push({ name: c.name, bytes: caseText.length, ms: performance.now() - t, outcome });
    }

    const stages = {
      fetch: summarize(samples.fetch ?? []),
      parse: summarize(samples.parse ?? []),
      compile: summarize(samples.compile ?? []),
      rules: summarize(samples.rules ?? []),
      total: summarize(samples.total ?? []),
    };
    return {
      nodes: options.designNodes,
      bytes: text.length,
      documents,
      stages,
      parseAlone: summarize(samples.alone ?? []),
      ratios: {
        parse: summarize(ratios.parse ?? []),
        compile: summarize(ratios.compile ?? []),
        rules: summarize(ratios.rules ?? []),
        total: summarize(ratios.total ?? []),
      },
      targetMs: DESIGN_TARGET_MS,
      met: stages.total.median <= DESIGN_TARGET_MS,
      largest: { keys: options.designKeys, bytes: largestText.length, parseMs: summarize(largest) },
      worstCases,
    };
  } finally {
    await resolver.close();
    await rm(dir, { recursive: true, force: true });
  }
}
