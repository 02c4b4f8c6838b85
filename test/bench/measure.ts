import { type BenchSchema, backendCpu, cpuBetween } from './bench-db.ts';
import { type Summary, summarize } from './stats.ts';

/** One timed run of a variant: how many operations completed in how long. */
export interface RunResult {
  readonly ops: number;
  readonly elapsedMs: number;
}

/** A raw-versus-store comparison: the first variant is the floor the others are divided by. */
export interface CaseSpec {
  readonly id: string;
  readonly label: string;
  /** What one operation is (`tasks`, `calls`, `reads`, `queries`). */
  readonly unit: string;
  readonly variants: readonly { readonly id: string; readonly label: string }[];
  /** The DESIGN.md §6 target on a variant's throughput ratio to the floor, if there is one. */
  readonly target?: { readonly variant: string; readonly atLeast: number; readonly text: string };
  /** Targets against another variant than the floor (a peer): `variant` ÷ `over` per round. */
  readonly versus?: readonly {
    readonly variant: string;
    readonly over: string;
    readonly atLeast: number;
  }[];
  /** Items per operation, when an operation carries several (a batch of 10 messages). */
  readonly itemsPerOp?: number;
  readonly note?: string;
  /**
   * CPU so far of a variant's server processes, when they are not the bench schema's named
   * connections (a peer's own database).
   */
  readonly serverCpu?: (variant: string) => Promise<Map<number, number>> | undefined;
  /**
   * Runs one variant at `scale` (1 = the configured size), preparation excluded from timing;
   * calls `meter.begin()` / `meter.end()` around the timed part for the CPU accounting.
   */
  run(
    variant: string,
    scale: number,
    progress: (text: string) => void,
    meter: Meter,
  ): Promise<RunResult>;
}

/** Brackets the timed part of a run for the CPU accounting. */
export interface Meter {
  begin(): Promise<void>;
  end(): Promise<void>;
}

/** The application_name of the connections a variant uses (bench-db.ts names them). */
function backendOf(variant: string): string {
  return variant.startsWith('store') || variant === 'adapter' ? 'bench_store' : 'bench_raw';
}

/**
 * Measures CPU per operation: this process's (client) and the variant's own server backends',
 * so the figures hold even while other sessions load the same server.
 */
function createMeter(
  schema: BenchSchema | undefined,
  variant: string,
  custom?: CaseSpec['serverCpu'],
) {
  const read = () =>
    custom?.(variant) ?? (schema ? backendCpu(schema, backendOf(variant)) : undefined);
  let client = 0;
  let server = 0;
  let clientAt: NodeJS.CpuUsage | undefined;
  let serverAt: Map<number, number> | undefined;
  const meter: Meter = {
    async begin() {
      serverAt = schema ? await read() : undefined;
      clientAt = process.cpuUsage();
    },
    async end() {
      const used = process.cpuUsage(clientAt);
      client += used.user + used.system;
      const now = schema && serverAt ? await read() : undefined;
      if (serverAt && now) server += cpuBetween(serverAt, now);
    },
  };
  return { meter, totals: () => ({ client, server: schema ? server : Number.NaN }) };
}

export interface CaseResult {
  readonly id: string;
  readonly label: string;
  readonly unit: string;
  readonly floor: string;
  readonly itemsPerOp: number;
  readonly variants: Record<
    string,
    {
      label: string;
      opsPerSec: Summary;
      ops: number[];
      /** CPU µs per operation in this process (client) and in the variant's server backends. */
      clientCpuUs: Summary;
      serverCpuUs: Summary;
    }
  >;
  /** Per-round throughput ratio variant / floor, summarised (the ratio of each round, not of medians). */
  readonly ratios: Record<string, Summary>;
  readonly target: CaseSpec['target'] | null;
  readonly targetMet: boolean | null;
  /** The `versus` targets with their per-round ratios. */
  readonly versus: {
    variant: string;
    over: string;
    atLeast: number;
    ratio: Summary;
    met: boolean;
  }[];
  readonly note: string | null;
}

/**
 * Runs every variant of a case for `rounds` rounds after one untimed warm-up round at a tenth of
 * the size (prepared statements, caches), rotating the variant order each round so neither side
 * always runs first on a warm or a cold box.
 */
export async function measureCase(
  spec: CaseSpec,
  rounds: number,
  progress: (text: string) => void,
  schema?: BenchSchema,
): Promise<CaseResult> {
  const ids = spec.variants.map((v) => v.id);
  for (const id of ids) {
    await spec.run(
      id,
      0.1,
      (t) => progress(`${spec.id} warm-up ${id} ${t}`),
      createMeter(undefined, id).meter,
    );
  }
  const rates: Record<string, number[]> = Object.fromEntries(ids.map((id) => [id, []]));
  const ops: Record<string, number[]> = Object.fromEntries(ids.map((id) => [id, []]));
  const clientCpu: Record<string, number[]> = Object.fromEntries(ids.map((id) => [id, []]));
  const serverCpu: Record<string, number[]> = Object.fromEntries(ids.map((id) => [id, []]));
  for (let round = 0; round < rounds; round += 1) {
    const order = ids.map((_, i) => ids[(i + round) % ids.length] as string);
    for (const id of order) {
      const cpu = createMeter(schema, id, spec.serverCpu);
      const result = await spec.run(
        id,
        1,
        (t) => progress(`${spec.id} round ${round + 1}/${rounds} ${id}: ${t}`),
        cpu.meter,
      );
      rates[id]?.push((result.ops / result.elapsedMs) * 1000);
      ops[id]?.push(result.ops);
      const used = cpu.totals();
      clientCpu[id]?.push(used.client / result.ops);
      serverCpu[id]?.push(used.server / result.ops);
    }
  }
  const floor = ids[0] as string;
  const floorRates = rates[floor] as number[];
  const ratios: Record<string, Summary> = {};
  for (const id of ids.slice(1)) {
    ratios[id] = summarize(
      (rates[id] as number[]).map((rate, i) => rate / (floorRates[i] as number)),
    );
  }
  const versus = (spec.versus ?? []).map((v) => {
    const over = rates[v.over] as number[];
    const ratio = summarize(
      (rates[v.variant] as number[]).map((rate, i) => rate / (over[i] as number)),
    );
    return { ...v, ratio, met: ratio.median >= v.atLeast };
  });
  const target = spec.target ?? null;
  const targetRatio = target ? ratios[target.variant]?.median : undefined;
  return {
    id: spec.id,
    label: spec.label,
    unit: spec.unit,
    floor,
    itemsPerOp: spec.itemsPerOp ?? 1,
    variants: Object.fromEntries(
      spec.variants.map((v) => [
        v.id,
        {
          label: v.label,
          opsPerSec: summarize(rates[v.id] as number[]),
          ops: ops[v.id] as number[],
          clientCpuUs: summarize(clientCpu[v.id] as number[]),
          serverCpuUs: summarize(serverCpu[v.id] as number[]),
        },
      ]),
    ),
    ratios,
    target,
    targetMet: target && targetRatio !== undefined ? targetRatio >= target.atLeast : null,
    versus,
    note: spec.note ?? null,
  };
}
