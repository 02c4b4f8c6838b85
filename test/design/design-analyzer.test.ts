import { afterAll, describe, expect, it } from 'vitest';
import {
  type AnalysisRequest,
  createInlineAnalyzer,
  createWorkerAnalyzer,
  type DesignAnalyzer,
} from '#shared/design/design-analyzer.ts';
import { DesignLimitError, DesignSyntaxError } from '#shared/design/parse-yaml.ts';
import { baseSite, PLATFORM, TS, toYaml } from './site-builder.ts';
import { manyKeys } from './worst-cases.ts';

const settings = { ts: TS, platform: PLATFORM };
const validate = (text: string): AnalysisRequest => ({
  kind: 'validate',
  bytes: Buffer.from(text),
  settings,
});
const analyzers: DesignAnalyzer[] = [];
const worker = (options: Partial<Parameters<typeof createWorkerAnalyzer>[0]> = {}) => {
  const a = createWorkerAnalyzer({ workers: 1, maxMemoryMb: 512, timeoutMs: 60_000, ...options });
  analyzers.push(a);
  return a;
};
afterAll(async () => {
  await Promise.all(analyzers.map((a) => a.close()));
});

describe('design analysis in worker threads', () => {
  it('answers as the inline analysis does, for every kind of request', async () => {
    const bytes = Buffer.from(toYaml(baseSite()));
    const w = worker({ workers: 2 });
    for (const request of [
      { kind: 'validate', bytes, settings } as const,
      { kind: 'nodes', bytes, settings, nodeFilter: null } as const,
      { kind: 'resolve', bytes, settings, head: { design_ref: 'file:///x' } } as const,
    ]) {
      const [inThread, inWorker] = await Promise.all([
        createInlineAnalyzer().analyze(request),
        w.analyze(request),
      ]);
      // Timings differ; everything else is the same.
      expect({ ...inWorker, timings: undefined }).toEqual({ ...inThread, timings: undefined });
    }
  });

  it('hands back a syntax error with its class, line and column', async () => {
    const e = await worker()
      .analyze(validate('a: [1, 2\nb: 3\n'))
      .catch((error: unknown) => error);
    expect(e).toBeInstanceOf(DesignSyntaxError);
    expect(e).toMatchObject({ line: 2, column: 1, status: 400 });
  });

  it('refuses a design that needs more memory than a worker has, and serves the next one', async () => {
    const w = worker({ maxMemoryMb: 64 });
    const e = await w.analyze(validate(manyKeys(370_000))).catch((error: unknown) => error);
    expect(e).toBeInstanceOf(DesignLimitError);
    expect((e as Error).message).toContain('needs more than 64 MB to read');
    const next = await w.analyze(validate(toYaml(baseSite())));
    expect(next).toMatchObject({ kind: 'validate', status: { status: 'Success' } });
  });

  it('stops an analysis that runs past its time, and serves the next one', async () => {
    const w = worker({ timeoutMs: 500 });
    const e = await w.analyze(validate(manyKeys(370_000))).catch((error: unknown) => error);
    expect(e).toBeInstanceOf(DesignLimitError);
    expect((e as Error).message).toContain('took longer than 500 ms to analyse');
    const next = await w.analyze(validate('a: 1\n'));
    expect(next.kind).toBe('validate');
  });

  it('refuses work once closed', async () => {
    const w = worker();
    await w.close();
    await expect(w.analyze(validate('a: 1\n'))).rejects.toThrow('closed');
  });
});
