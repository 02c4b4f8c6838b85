import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DesignRefError } from '#shared/design-refs/errors.ts';
import { testResolver } from './servers.ts';

const INSIDE = 'schema: drydock/Network/v1\nmetadata: {name: inside}\ndata: {}\n';
const OUTSIDE = 'password: outside-secret-never-returned\n';

let base: string;
let root: string;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'design-races-'));
  root = join(base, 'designs');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(root, 'sub', 'site.yaml'), INSIDE);
  writeFileSync(join(base, 'outside', 'site.yaml'), OUTSIDE);
  writeFileSync(join(root, 'plain.yaml'), INSIDE);
  execFileSync('mkfifo', [join(root, 'pipe.yaml')]);
  symlinkSync(join(root, 'pipe.yaml'), join(root, 'pipe-link.yaml'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/**
 * Runs `body` (plain JavaScript, with `renameSync` and `dir` in scope) in a loop on another
 * thread until `stop()`, which answers how many rounds it made. Answers once the first round is
 * done, so the race has begun whatever the load on the machine (a thread can take longer to
 * start than the resolutions take to run).
 */
async function swapLoop(body: string, dir: string) {
  const flags = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(
    `const { renameSync } = require('node:fs');
     const { workerData: { flags, dir } } = require('node:worker_threads');
     while (Atomics.load(flags, 0) === 0) {
       try { ${body} } catch {}
       Atomics.add(flags, 1, 1);
       Atomics.notify(flags, 1);
     }`,
    { eval: true, workerData: { flags, dir } },
  );
  const started = Atomics.waitAsync(flags, 1, 0);
  if (started.async) await started.value;
  return {
    async stop() {
      Atomics.store(flags, 0, 1);
      await new Promise((resolve) => worker.once('exit', resolve));
      return Atomics.load(flags, 1);
    },
  };
}

type Result = 'inside' | 'outside' | 'refused' | 'not_found' | 'other';

async function resolveMany(
  ref: string,
  times: number,
  parallel = 4,
): Promise<Record<Result, number>> {
  const r = testResolver({ fileRoots: [root] });
  const counts: Record<Result, number> = {
    inside: 0,
    outside: 0,
    refused: 0,
    not_found: 0,
    other: 0,
  };
  try {
    for (let done = 0; done < times; done += parallel) {
      await Promise.all(
        Array.from({ length: parallel }, async () => {
          try {
            const text = (await r.resolve(ref)).bytes.toString();
            counts[
              text === INSIDE ? 'inside' : text.includes('outside-secret') ? 'outside' : 'other'
            ] += 1;
          } catch (error) {
            const failure = error instanceof DesignRefError ? error.failure : 'other';
            counts[failure === 'refused' || failure === 'not_found' ? failure : 'other'] += 1;
          }
        }),
      );
    }
  } finally {
    await r.close();
  }
  return counts;
}

/**
 * Resolves `file` (under the root) `times` times, `parallel` at once, while `swap` runs in a
 * loop on another thread: what the resolutions came to, and how many rounds the attacker made.
 */
async function resolveWhileSwapping(swap: string, file: string, times: number, parallel = 4) {
  const attacker = await swapLoop(swap, root);
  let counts: Record<Result, number>;
  let rounds: number;
  try {
    counts = await resolveMany(pathToFileURL(join(root, file)).href, times, parallel);
  } finally {
    rounds = await attacker.stop();
  }
  return { counts, rounds };
}

describe('file:// references under a concurrent attacker', () => {
  it('never returns an outside byte while a folder on the path is swapped with a symlink', async () => {
    // The attacker's loop: `sub` is a real folder, then a symlink to the outside, then the
    // folder again, by renames (no atomic exchange in Node), as fast as one thread can.
    symlinkSync(join(base, 'outside'), join(root, 'evil'));
    const { counts, rounds } = await resolveWhileSwapping(
      `renameSync(dir + '/sub', dir + '/parked');
       renameSync(dir + '/evil', dir + '/sub');
       renameSync(dir + '/sub', dir + '/evil');
       renameSync(dir + '/parked', dir + '/sub');`,
      join('sub', 'site.yaml'),
      3_000,
    );
    // The race was real: the attacker kept swapping throughout, and the path was seen in
    // more than one state (read inside, refused or missing).
    expect(rounds).toBeGreaterThan(100);
    expect(counts.inside).toBeGreaterThan(0);
    expect(counts.refused + counts.not_found).toBeGreaterThan(0);
    expect(counts.outside, JSON.stringify(counts)).toBe(0);
    expect(counts.other, JSON.stringify(counts)).toBe(0);
  });

  it('refuses a FIFO before opening it, also through a link, and never holds a thread', async () => {
    const r = testResolver({ fileRoots: [root] });
    try {
      // More concurrent FIFO reads than libuv has threads (4): a blocking open would leave
      // none for the regular read that follows, and this test would time out.
      const refusals = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          r.resolve(pathToFileURL(join(root, i % 2 ? 'pipe.yaml' : 'pipe-link.yaml')).href),
        ),
      );
      for (const outcome of refusals) {
        expect(outcome.status).toBe('rejected');
        const error = (outcome as PromiseRejectedResult).reason as DesignRefError;
        expect([error.failure, error.status, error.message]).toEqual([
          'refused',
          400,
          expect.stringContaining('not a regular file'),
        ]);
      }
      const plain = await r.resolve(pathToFileURL(join(root, 'plain.yaml')).href);
      expect(plain.bytes.toString()).toBe(INSIDE);
    } finally {
      await r.close();
    }
  });

  it('opens without blocking when a FIFO is swapped in after the check', async () => {
    // `swap.yaml` alternates between a regular file and a FIFO; every resolution must end
    // (read, or refused), none may wait for a writer that never comes.
    writeFileSync(join(root, 'swap-file'), INSIDE);
    execFileSync('mkfifo', [join(root, 'swap-fifo')]);
    writeFileSync(join(root, 'swap.yaml'), INSIDE);
    const { counts } = await resolveWhileSwapping(
      `renameSync(dir + '/swap.yaml', dir + '/swap-file');
       renameSync(dir + '/swap-fifo', dir + '/swap.yaml');
       renameSync(dir + '/swap.yaml', dir + '/swap-fifo');
       renameSync(dir + '/swap-file', dir + '/swap.yaml');`,
      'swap.yaml',
      1_000,
      8,
    );
    expect(counts.inside + counts.refused + counts.not_found, JSON.stringify(counts)).toBe(1_000);
    expect(counts.inside).toBeGreaterThan(0);
  });
});
