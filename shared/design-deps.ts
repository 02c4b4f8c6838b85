import { getConfig } from './config.ts';
import { getLogger, getTelemetry } from './deps.ts';
import {
  createInlineAnalyzer,
  createWorkerAnalyzer,
  type DesignAnalyzer,
} from './design/design-analyzer.ts';
import { createDesignResolver, type DesignResolver } from './design-refs/design-resolver.ts';
import { invocationDeadline } from './invocation.ts';
import { timedResolver } from './metrics.ts';

/**
 * What every function that reads designs shares (the design function and the boot-action node
 * function): one resolver with its cache and one analyser per container. Under `npm start` both
 * functions live in one process, so one pool of design workers serves them both.
 */

// Leave a second to answer, and stay under API Gateway's 29 s integration timeout.
const RESPONSE_MARGIN_MS = 1_000;
const API_GATEWAY_BUDGET_MS = 28_000;

// A design worker may use this much heap; a design needing more is refused, not the process.
const WORKER_MEMORY_MB = 1024;

let designs: DesignResolver | undefined;
let analyzer: DesignAnalyzer | undefined;

/** The design-reference resolver, its fetch times and failures recorded as metrics. */
export function getDesignResolver(): DesignResolver {
  designs ??= timedResolver(createDesignResolver(getConfig().design, { logger: getLogger() }), () =>
    getTelemetry(),
  );
  return designs;
}

/**
 * A Lambda serves one request at a time, so parsing inline delays nobody (and its bundle has no
 * worker file); `npm start` serves every function from one process and parses in workers
 * (DESIGN_WORKERS), so a large design never holds up other requests.
 */
export function getDesignAnalyzer(): DesignAnalyzer {
  const { workers } = getConfig().design;
  analyzer ??=
    workers === 0
      ? createInlineAnalyzer()
      : createWorkerAnalyzer({
          workers,
          maxMemoryMb: WORKER_MEMORY_MB,
          timeoutMs: API_GATEWAY_BUDGET_MS,
        });
  return analyzer;
}

/** The invocation's deadline for design and asset fetches and analysis. */
export const designDeadline = () =>
  invocationDeadline({ marginMs: RESPONSE_MARGIN_MS, maxMs: API_GATEWAY_BUDGET_MS });
