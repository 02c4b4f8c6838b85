import { createDesignRoutes, type DesignRouteDeps } from '#shared/api/routes/design.ts';
import { getConfig } from '#shared/config.ts';
import { getLogger, getTelemetry } from '#shared/deps.ts';
import {
  createInlineAnalyzer,
  createWorkerAnalyzer,
  type DesignAnalyzer,
} from '#shared/design/design-analyzer.ts';
import { createDesignResolver, type DesignResolver } from '#shared/design-refs/design-resolver.ts';
import { timedResolver } from '#shared/events/metrics.ts';
import { type ApiHandler, createHttpHandler } from '#shared/http/handler.ts';
import { invocationDeadline } from '#shared/invocation.ts';

// Leave a second to answer, and stay under API Gateway's 29 s integration timeout.
const RESPONSE_MARGIN_MS = 1_000;
const API_GATEWAY_BUDGET_MS = 28_000;

// A design worker may use this much heap; a design needing more is refused, not the process.
const WORKER_MEMORY_MB = 1024;

let designs: DesignResolver | undefined;
let analyzer: DesignAnalyzer | undefined;

// A Lambda serves one request at a time, so parsing inline delays nobody (and its bundle has no
// worker file); `npm start` serves every function from one process and parses in workers
// (DESIGN_WORKERS), so a large design never holds up other requests.
const buildAnalyzer = (): DesignAnalyzer => {
  const { workers } = getConfig().design;
  return workers === 0
    ? createInlineAnalyzer()
    : createWorkerAnalyzer({
        workers,
        maxMemoryMb: WORKER_MEMORY_MB,
        timeoutMs: API_GATEWAY_BUDGET_MS,
      });
};

/** The routes: POST /api/v1.0/designs/resolve, /validatedesign and /nodefilter. */
export const routes = createDesignRoutes({
  designs: () =>
    (designs ??= timedResolver(
      createDesignResolver(getConfig().design, { logger: getLogger() }),
      () => getTelemetry(),
    )),
  analyzer: () => (analyzer ??= buildAnalyzer()),
  settings: () => ({ platform: getConfig().design.platform }),
  // Each invocation's deadline bounds every fetch and retry.
  deadline: () =>
    invocationDeadline({ marginMs: RESPONSE_MARGIN_MS, maxMs: API_GATEWAY_BUDGET_MS }),
});

// This function never touches the database (the stack grants it none): its routes need no Db,
// so none is opened.
const deps = async (): Promise<DesignRouteDeps> => ({
  config: getConfig(),
  clock: { now: () => new Date() },
});
/** API Gateway REST API entry point. */
export const handler: ApiHandler = createHttpHandler(routes, { deps });
