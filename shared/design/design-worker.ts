// A worker thread of `createWorkerAnalyzer`: analyses one design at a time, off the event loop
// of the process serving requests.
import { parentPort } from 'node:worker_threads';
import { type AnalysisRequest, encodeFailure, runAnalysis } from './design-analyzer.ts';

parentPort?.on('message', (request: AnalysisRequest) => {
  try {
    parentPort?.postMessage({ ok: true, result: runAnalysis(request) });
  } catch (error) {
    parentPort?.postMessage({ ok: false, failure: encodeFailure(error) });
  }
});
