import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root (children run from it, as `npm start` does). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A server running as a child process, so its memory and CPU are its own. */
export interface ChildServer {
  readonly url: string;
  readonly pid: number;
  /** Lines the child wrote that were not the listening line (kept for error reports). */
  readonly output: string[];
  stop(): Promise<void>;
}

/**
 * Starts `node <argv>` (the same Node binary as this process: flags, script, its arguments) and
 * resolves once it prints `listening on http://…`. Everything else it prints is drained, so a
 * chatty logger never blocks on a full pipe; the last lines are kept for the error message if it
 * dies.
 */
export function startChildServer(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 30_000,
): Promise<ChildServer> {
  const commandLine = argv.join(' ');
  const child: ChildProcess = spawn(process.execPath, argv, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (line: string) => {
    output.push(line);
    if (output.length > 50) output.shift();
  };
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(new Error(`${commandLine} ${why}:\n${output.join('\n')}`));
    };
    const timer = setTimeout(() => fail(`did not start in ${timeoutMs} ms`), timeoutMs);
    child.on('exit', (code) => fail(`exited with ${code}`));
    child.on('error', (error) => fail(`failed: ${error.message}`));
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', keep);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line);
      if (!match || settled) {
        if (!settled) keep(line);
        return;
      }
      settled = true;
      clearTimeout(timer);
      resolve({
        url: match[1] as string,
        pid: child.pid as number,
        output,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
          }),
      });
    });
  });
}

/** Resident set size now and at its peak (VmHWM), in KiB, from /proc (Linux only). */
export function memoryOf(pid: number): { rssKiB: number; peakKiB: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return { rssKiB: field('VmRSS'), peakKiB: field('VmHWM') };
  } catch {
    return null;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the highest sample and VmHWM. */
export function sampleMemory(
  pid: number,
  everyMs = 50,
): () => { maxRssKiB: number; peakKiB: number } {
  let maxRssKiB = 0;
  let peakKiB = 0;
  const take = () => {
    const m = memoryOf(pid);
    if (!m) return;
    maxRssKiB = Math.max(maxRssKiB, m.rssKiB);
    peakKiB = Math.max(peakKiB, m.peakKiB);
  };
  take();
  const timer = setInterval(take, everyMs);
  return () => {
    clearInterval(timer);
    take();
    return { maxRssKiB, peakKiB };
  };
}

/** CPU (user + system, µs) a process has used so far, from /proc (Linux only; NaN elsewhere). */
export function processCpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat: 11 and 12 after the command name.
    return ((Number(fields[11]) + Number(fields[12])) / 100) * 1e6;
  } catch {
    return Number.NaN;
  }
}
