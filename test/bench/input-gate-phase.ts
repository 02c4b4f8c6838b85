import { assertSoundInput, parseJsonText } from '#shared/input.ts';
import type { BenchOptions } from './options.ts';
import { type Summary, summarize } from './stats.ts';

/**
 * The CPU the input gate costs (`shared/input.ts`): every body passes `parseJsonText`
 * (a linear scan for depth and syntax, `JSON.parse`, then a walk refusing NUL, ill-formed
 * Unicode and `__proto__` keys), and headers and query strings pass `assertSoundInput`. Timed
 * as this thread's CPU (`process.threadCpuUsage`), so other work on the machine does not
 * lengthen it, against `JSON.parse` of the same text, the floor any JSON API pays.
 */
export interface InputGatePhaseResult {
  readonly bodies: {
    readonly name: string;
    readonly bytes: number;
    /** CPU microseconds per call: `JSON.parse` alone, and the gate (which includes the parse). */
    readonly parseUs: Summary;
    readonly gateUs: Summary;
    /** Gate ÷ parse, per round, then the median. */
    readonly ratio: Summary;
  }[];
  /** CPU microseconds per request for the header and query maps of a typical request. */
  readonly headersUs: Summary;
}

const cpuUs = () => {
  const usage = process.threadCpuUsage();
  return usage.user + usage.system;
};

const name = (i: number) => `n${String(i).padStart(5, '0')}.rack-${i % 40}.site.example`;

/** Bodies as the service receives them, from a typical write to the 1 MiB cap. */
function bodies(): { name: string; text: string }[] {
  const patch = {
    status: 'complete',
    epoch: 7,
    result: { status: 'success', message: 'deployed', add_successes: [1, 2, 3, 4, 5].map(name) },
  };
  const messages = {
    epoch: 7,
    messages: Array.from({ length: 100 }, (_, i) => ({
      message: `Node ${name(i)} deployed: ${'step '.repeat(36)}`,
      error: i % 10 === 0,
      context_type: 'node',
      context: name(i),
      extra: { attempt: 1, phase: 'deploy', ip: `10.0.${i % 250}.${i % 200}` },
    })),
  };
  const buildData = {
    epoch: 7,
    items: Array.from({ length: 4 }, (_, i) => ({
      task_id: '4f0e2b9c-5d1a-4c3e-9f6b-2a7d8e1c0b3f',
      generator: `lshw-${i}`,
      data_format: 'text/xml',
      data_element: `<node id="${i}">${'<cpu cores="64" vendor="GenuineIntel"/>'.repeat(6_000)}</node>`,
    })),
  };
  const manyKeys = {
    message: 'inventory',
    error: false,
    context_type: 'node',
    context: 'n1',
    extra: Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`k${i}`, `v${i % 97}`])),
  };
  return [
    { name: 'PATCH /tasks/{id} (status, result, 5 names)', text: JSON.stringify(patch) },
    { name: 'POST /tasks/{id}/messages, 100 messages', text: JSON.stringify(messages) },
    {
      name: 'POST /nodes/{name}/builddata, 4 payloads of 240 KB (the 1 MiB cap)',
      text: JSON.stringify(buildData),
    },
    { name: 'a message whose extra holds 40,000 keys', text: JSON.stringify(manyKeys) },
  ];
}

/** CPU microseconds per call of `op` over `iterations` calls. */
function timeCpu(iterations: number, op: () => unknown): number {
  const start = cpuUs();
  for (let i = 0; i < iterations; i++) op();
  return (cpuUs() - start) / iterations;
}

export async function runInputGatePhase(
  options: BenchOptions,
  progress: (line: string) => void,
): Promise<InputGatePhaseResult> {
  const headers = {
    host: 'api.example',
    'content-type': 'application/json',
    'content-length': '812',
    'user-agent': 'python-requests/2.31.0',
    'x-context-marker': 'a3c9e0f2-7d1b-4c55-9e2a-0b6f1d2e3c4a',
    'x-end-user': 'shipyard',
    'x-auth-token': 'gAAAAABl'.padEnd(180, 'x'),
    accept: '*/*',
    'accept-encoding': 'gzip, deflate',
    'if-match': '"3"',
  };
  const query = { status: 'queued', action: 'deploy_nodes', top_level: 'true', limit: '50' };
  const results: InputGatePhaseResult['bodies'][number][] = [];
  for (const body of bodies()) {
    const bytes = Buffer.byteLength(body.text);
    // About 8 MiB of text per round and measure, at least 5 calls.
    const iterations = Math.max(5, Math.min(20_000, Math.ceil((8 * 1024 * 1024) / bytes)));
    // One unrecorded pass: the first calls compile the scanner and the walk.
    timeCpu(Math.min(iterations, 50), () => parseJsonText(body.text, 'body'));
    const parse: number[] = [];
    const gate: number[] = [];
    const ratio: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      progress(`input gate: ${body.name}, round ${round + 1}/${options.rounds}`);
      // Alternate which goes first, so neither always runs on a warmer heap.
      const first = round % 2 === 0;
      const a = first ? timeCpu(iterations, () => JSON.parse(body.text)) : 0;
      const g = timeCpu(iterations, () => parseJsonText(body.text, 'body'));
      const p = first ? a : timeCpu(iterations, () => JSON.parse(body.text));
      parse.push(p);
      gate.push(g);
      ratio.push(g / p);
    }
    results.push({
      name: body.name,
      bytes,
      parseUs: summarize(parse),
      gateUs: summarize(gate),
      ratio: summarize(ratio),
    });
  }
  const headerSamples: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    headerSamples.push(
      timeCpu(20_000, () => {
        assertSoundInput(headers, 'headers');
        assertSoundInput(query, 'query');
      }),
    );
  }
  return { bodies: results, headersUs: summarize(headerSamples) };
}

/** The phase as Markdown, for the bench report. */
export function inputGateSection(r: InputGatePhaseResult): string[] {
  const f = (s: Summary, digits = 1) =>
    s.samples.length > 1
      ? `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`
      : s.median.toFixed(digits);
  const size = (n: number) =>
    n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(2)} MB` : `${(n / 1024).toFixed(1)} kB`;
  return [
    'CPU of this thread per call (`process.threadCpuUsage`): `parseJsonText`, the gate every body passes ' +
      '(syntax and depth scan, `JSON.parse`, the walk refusing NUL, ill-formed Unicode and `__proto__`), ' +
      'against `JSON.parse` alone.',
    '',
    '| body | size | JSON.parse µs | gate µs | gate ÷ JSON.parse | gate MB/s |',
    '|---|---|---|---|---|---|',
    ...r.bodies.map(
      (b) =>
        `| ${b.name} | ${size(b.bytes)} | ${f(b.parseUs)} | ${f(b.gateUs)} | ${f(b.ratio, 2)}× | ${(b.bytes / b.gateUs.median).toFixed(0)} |`,
    ),
    '',
    `Headers (10) and query (4) of a typical request: ${f(r.headersUs, 2)} µs.`,
  ];
}
