// Imports one bundle in this fresh process and prints how long its module initialisation took
// (evaluation of the bundle's top level, as a Lambda cold start runs it before the first event).
// Usage: node test/bench/import-timer.ts <bundle.mjs>
import { pathToFileURL } from 'node:url';

const file = process.argv[2];
if (!file) throw new Error('usage: import-timer.ts <bundle.mjs>');
const before = process.memoryUsage.rss();
const cpu = process.cpuUsage();
const start = performance.now();
const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
const importMs = performance.now() - start;
// CPU of the whole process (every thread) during the import: what a busy machine disturbs least.
const used = process.cpuUsage(cpu);
const importCpuMs = (used.user + used.system) / 1000;
if (typeof module.handler !== 'function') throw new Error(`${file} exports no handler`);
console.log(
  JSON.stringify({
    importMs,
    importCpuMs,
    rssDeltaKiB: Math.round((process.memoryUsage.rss() - before) / 1024),
  }),
);
