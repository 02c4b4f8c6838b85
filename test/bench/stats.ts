/** Small statistics and timing helpers shared by every phase. */

/** Median and spread of a series of per-round figures. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: readonly number[];
}

/** `summarize` of each named figure over the rounds: `{ [key]: its Summary }`. */
export function summarizeEach<K extends string>(
  runs: readonly Readonly<Record<K, number>>[],
  keys: readonly K[],
): Record<K, Summary> {
  const out = {} as Record<K, Summary>;
  for (const key of keys) out[key] = summarize(runs.map((r) => r[key]));
  return out;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0)
    return { median: Number.NaN, min: Number.NaN, max: Number.NaN, samples };
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    median: quantile(sorted, 0.5),
    min: sorted[0] as number,
    max: sorted.at(-1) as number,
    samples,
  };
}

/** Linear-interpolated quantile of an ascending array (q in 0..1). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const a = sorted[lower] as number;
  const b = sorted[upper] as number;
  return a + (b - a) * (position - lower);
}

/** Monotonic milliseconds. */
export function nowMs(): number {
  return performance.now();
}

/**
 * Runs `op` from `workers` concurrent loops until `total` operations have been started (each
 * loop takes the next index from a shared counter, so fast workers do more), and returns the
 * elapsed wall-clock time. `op` returning false stops its worker early (a drained queue).
 */
export async function drive(
  workers: number,
  total: number,
  op: (worker: number, index: number) => Promise<unknown>,
  onProgress?: (done: number) => void,
): Promise<{ elapsedMs: number; done: number }> {
  let next = 0;
  let done = 0;
  const start = nowMs();
  const loop = async (worker: number) => {
    while (next < total) {
      const index = next++;
      const more = await op(worker, index);
      done += 1;
      if (onProgress && done % 500 === 0) onProgress(done);
      if (more === false) return;
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, w) => loop(w)));
  return { elapsedMs: nowMs() - start, done };
}

/**
 * A one-line progress indicator on stderr: rewritten in place on a terminal, throttled to one
 * line every few seconds otherwise (CI logs), silent when `quiet`.
 */
export function createProgress(quiet: boolean): {
  update(text: string): void;
  done(text?: string): void;
} {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let shown = false;
  return {
    update(text) {
      if (quiet) return;
      const now = Date.now();
      if (tty) {
        process.stderr.write(`\r\x1b[2K${text}`);
        shown = true;
      } else if (now - last > 5_000) {
        process.stderr.write(`${text}\n`);
        last = now;
      }
    },
    done(text) {
      if (quiet) return;
      if (tty && shown) process.stderr.write('\r\x1b[2K');
      shown = false;
      if (text) process.stderr.write(`${text}\n`);
    },
  };
}
