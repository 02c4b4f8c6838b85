import type { Worker } from 'node:worker_threads';
import type { NodeTemplateContext, TargetedBootAction } from '../bootactions/node-context.ts';
import type { AnalysisSettings, AnalysisTimings } from './analyze-design.ts';
import { DesignLimitError, DesignSyntaxError } from './design-errors.ts';
import type { NodeFilterSet } from './node-filter.ts';
import type { ValidationStatus } from './validation.ts';

/**
 * What the service asks of a design's bytes. The bytes (not text) cross to the worker: decoding
 * and hashing megabytes is work for it too, not for the request thread.
 */
export type AnalysisRequest = { bytes: Uint8Array; settings: AnalysisSettings } & (
  | { kind: 'validate' }
  | {
      kind: 'resolve';
      /** The answer's fields known before parsing (reference, size, cache). */
      head: Record<string, unknown>;
    }
  | { kind: 'nodes'; nodeFilter: NodeFilterSet | null }
  | { kind: 'bootactions'; nodeName: string }
);

/** The answer to each kind of request: small, so handing it back between threads is cheap. */
export type AnalysisResult =
  | { kind: 'validate'; status: ValidationStatus; timings: AnalysisTimings }
  | {
      kind: 'resolve';
      /** Hex SHA-256 of the bytes. */
      sha256: string;
      /** The whole `POST /designs/resolve` answer, serialised where it was built. */
      bodyJson: string;
    }
  | {
      kind: 'nodes';
      status: ValidationStatus;
      /** Selected node names; null when the design could not be compiled. */
      nodes: string[] | null;
      /** Why the filter could not be evaluated, when it could not. */
      filterProblem: string | null;
    }
  | {
      kind: 'bootactions';
      status: ValidationStatus;
      /** Whether the effective site could be compiled. */
      compiled: boolean;
      /** The node's template context; null when the design has no such node. */
      node: NodeTemplateContext | null;
      /** The boot actions whose node filter selects the node, in design order. */
      actions: TargetedBootAction[];
    };

/** Runs analyses: in the calling thread, or in worker threads so the event loop stays free. */
export type DesignAnalyzer = {
  analyze(request: AnalysisRequest): Promise<AnalysisResult>;
  close(): Promise<void>;
};

/**
 * Analyses in the caller's thread: for a Lambda, which serves one request at a time. The
 * analysis (the YAML reader, the document schemas, the compiler and the rules) is loaded with
 * the first design, not at init.
 */
export function createInlineAnalyzer(): DesignAnalyzer {
  return {
    analyze: async (request) => (await import('./run-analysis.ts')).runAnalysis(request),
    close: async () => {},
  };
}

/** A failure as it crosses from a worker: errors lose their class on the way. */
export type EncodedFailure =
  | { kind: 'syntax' | 'limit'; reason: string; line: number; column: number }
  | { kind: 'internal'; name: string; message: string };

export function encodeFailure(error: unknown): EncodedFailure {
  if (error instanceof DesignSyntaxError) {
    return {
      kind: error instanceof DesignLimitError ? 'limit' : 'syntax',
      reason: error.issues[0]?.message ?? error.message,
      line: error.line,
      column: error.column,
    };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return { kind: 'internal', name: e.name, message: e.message };
}

function decodeFailure(failure: EncodedFailure): Error {
  if (failure.kind !== 'internal') {
    const { reason, line, column } = failure;
    return failure.kind === 'limit'
      ? new DesignLimitError(reason, line, column)
      : new DesignSyntaxError(reason, line, column);
  }
  return new Error(`design analysis failed (${failure.name}: ${failure.message})`);
}

/** Options of `createWorkerAnalyzer`. */
export type WorkerAnalyzerOptions = {
  /** Threads analysing at once; more requests wait their turn. */
  workers: number;
  /** Heap of one worker: a design needing more is refused, the server lives on. */
  maxMemoryMb: number;
  /** An analysis running longer is stopped (its worker replaced) and refused. */
  timeoutMs: number;
};

type Job = {
  request: AnalysisRequest;
  resolve: (result: AnalysisResult) => void;
  reject: (error: Error) => void;
};

type Slot = {
  worker: Worker | null;
  /** Whether the worker has loaded its modules: the time limit runs from then on. */
  ready: boolean;
  job: Job | null;
  timer: NodeJS.Timeout | null;
};

type WorkerMessage =
  | { ready: true }
  | { ok: true; result: AnalysisResult }
  | { ok: false; failure: EncodedFailure };

const WORKER_URL = new URL('./design-worker.ts', import.meta.url);

/**
 * Analyses in worker threads, so parsing a 4 MiB design (about 2 s on a small machine) never
 * holds up the requests the same process serves (`npm start` runs every function in one
 * process). Workers start on first use, stay for the next design, and do not keep the process
 * alive; a worker that runs out of memory or time is replaced and its request refused (400).
 */
export function createWorkerAnalyzer(options: WorkerAnalyzerOptions): DesignAnalyzer {
  const slots: Slot[] = Array.from({ length: Math.max(1, options.workers) }, () => ({
    worker: null,
    ready: false,
    job: null,
    timer: null,
  }));
  const queue: Job[] = [];
  let closed = false;

  const finish = (slot: Slot): Job | null => {
    const job = slot.job;
    slot.job = null;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    return job;
  };

  const retire = (slot: Slot, worker: Worker, error: Error) => {
    if (slot.worker !== worker) return;
    slot.worker = null;
    finish(slot)?.reject(error);
    void worker.terminate();
    dispatch();
  };

  const spawn = (slot: Slot): Worker => {
    // Taken when the first worker starts: a module that only runs analyses inline (the design
    // function) does not load `node:worker_threads` at its cold start.
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    const worker = new Worker(WORKER_URL, {
      resourceLimits: { maxOldGenerationSizeMb: options.maxMemoryMb },
    });
    worker.unref();
    worker.on('message', (message: WorkerMessage) => {
      if ('ready' in message) {
        slot.ready = true;
        if (slot.job) startTimer(slot, worker);
        return;
      }
      const job = finish(slot);
      if (job) {
        if (message.ok) job.resolve(message.result);
        else job.reject(decodeFailure(message.failure));
      }
      dispatch();
    });
    worker.on('error', (error: Error & { code?: string }) => {
      const outOfMemory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
      retire(
        slot,
        worker,
        outOfMemory
          ? new DesignLimitError(`needs more than ${options.maxMemoryMb} MB to read`, 1, 1)
          : error,
      );
    });
    worker.on('exit', () => {
      retire(slot, worker, new Error('the design analysis worker stopped'));
    });
    slot.worker = worker;
    slot.ready = false;
    return worker;
  };

  const startTimer = (slot: Slot, worker: Worker) => {
    slot.timer = setTimeout(() => {
      retire(
        slot,
        worker,
        new DesignLimitError(`took longer than ${options.timeoutMs} ms to analyse`, 1, 1),
      );
    }, options.timeoutMs);
  };

  function dispatch(): void {
    for (const slot of slots) {
      if (closed || slot.job !== null || queue.length === 0) continue;
      const job = queue.shift() as Job;
      const worker = slot.worker ?? spawn(slot);
      slot.job = job;
      worker.ref();
      if (slot.ready) startTimer(slot, worker);
      worker.postMessage(job.request);
    }
    for (const slot of slots) if (slot.job === null) slot.worker?.unref();
  }

  return {
    analyze(request) {
      if (closed) return Promise.reject(new Error('the design analyzer is closed'));
      return new Promise((resolve, reject) => {
        queue.push({ request, resolve, reject });
        dispatch();
      });
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(new Error('the design analyzer is closed'));
      await Promise.all(
        slots.map(async (slot) => {
          const worker = slot.worker;
          slot.worker = null;
          finish(slot)?.reject(new Error('the design analyzer is closed'));
          if (worker) await worker.terminate();
        }),
      );
    },
  };
}
