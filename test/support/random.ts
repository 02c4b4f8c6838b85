import { randomInt } from 'node:crypto';
import { onTestFailed } from 'vitest';

/**
 * mulberry32: a tiny 32-bit PRNG, plenty for choosing what a race contender does next. The same
 * seed gives the same sequence, which is all a race test needs to be replayed.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The seed of a race test, called inside the test: `TEST_SEED` when set (to replay a failure),
 * otherwise a fresh one. A failing test prints it with the command that replays it.
 */
export function raceSeed(): number {
  const fromEnv = process.env.TEST_SEED;
  const seed = fromEnv === undefined || fromEnv === '' ? randomInt(2 ** 32) : Number(fromEnv);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new Error(`TEST_SEED must be an integer from 0 to 2^32 - 1, not ${fromEnv}`);
  }
  onTestFailed(({ task }) => {
    console.error(`"${task.name}" failed with seed ${seed}; replay it with TEST_SEED=${seed}`);
  });
  return seed;
}

/**
 * One independent stream per contender, derived from the test's seed, so what contender `i`
 * chooses does not depend on how the others' calls interleave.
 */
export function contenderRandom(seed: number, contender: number): () => number {
  return mulberry32(seed ^ Math.imul(contender + 1, 0x9e3779b9));
}

/** Lets other contenders run for a random handful of event-loop turns: varies the interleaving without waiting for time. */
export async function yieldRandomly(random: () => number, maxTurns = 3): Promise<void> {
  const turns = Math.floor(random() * (maxTurns + 1));
  for (let i = 0; i < turns; i += 1) await new Promise((resolve) => setImmediate(resolve));
}
