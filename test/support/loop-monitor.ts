/**
 * Preloaded into a server process (`node --import ./test/support/loop-monitor.ts …`, spawned
 * with an IPC channel) to measure how long the server's main thread blocks its own event loop.
 *
 * A timer ticks every 10 ms. Between two ticks the main thread ran whatever callbacks were
 * ready; the CPU time the thread spent in that stretch (`process.threadCpuUsage`) is the
 * longest synchronous slice it could have delayed any other request by. Unlike the wall time
 * between ticks (or `monitorEventLoopDelay`, reported alongside), it does not grow when other
 * processes on a loaded machine take the core away: only the thread's own work counts.
 *
 * Messages: `loop-reset` starts a new measurement; `loop-report` answers
 * `{ maxSliceMs, maxGapMs, delayMaxMs, delayP99Ms, ticks }`.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

const TICK_MS = 10;

const cpuMs = () => {
  const usage = process.threadCpuUsage();
  return (usage.user + usage.system) / 1000;
};

let delay = monitorEventLoopDelay({ resolution: 10 });
let stats = { maxSliceMs: 0, maxGapMs: 0, ticks: 0 };
let lastCpu = cpuMs();
let lastWall = performance.now();

function reset() {
  delay.disable();
  delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  stats = { maxSliceMs: 0, maxGapMs: 0, ticks: 0 };
  lastCpu = cpuMs();
  lastWall = performance.now();
}

setInterval(() => {
  const cpu = cpuMs();
  const wall = performance.now();
  stats.maxSliceMs = Math.max(stats.maxSliceMs, cpu - lastCpu);
  stats.maxGapMs = Math.max(stats.maxGapMs, wall - lastWall - TICK_MS);
  stats.ticks += 1;
  lastCpu = cpu;
  lastWall = wall;
}, TICK_MS).unref();

delay.enable();
process.on('message', (message) => {
  if (message === 'loop-reset') reset();
  if (message === 'loop-report') {
    process.send?.({
      ...stats,
      delayMaxMs: delay.max / 1e6,
      delayP99Ms: delay.percentile(99) / 1e6,
    });
  }
});
// The channel must not keep the server alive once it is told to stop.
process.channel?.unref();
