// A worker thread of `createWorkerAnalyzer`: analyses one design at a time, off the event loop
// of the process serving requests.
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { type AnalysisRequest, encodeFailure } from './design-analyzer.ts';
import { runAnalysis } from './run-analysis.ts';

// On Linux a thread has its own nice value: this one yields the CPU to the request thread, so
// parsing a large design slows itself down on a busy machine rather than the other requests.
try {
  setPriority(19);
} catch {
  // Not permitted or not supported here: the analysis still runs off the event loop.
}

parentPort?.on('message', (request: AnalysisRequest) => {
  try {
    parentPort?.postMessage({ ok: true, result: runAnalysis(request) });
  } catch (error) {
    parentPort?.postMessage({ ok: false, failure: encodeFailure(error) });
  }
});
// Modules loaded: the pool starts the time limit of a request from here.
parentPort?.postMessage({ ready: true });
