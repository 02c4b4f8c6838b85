import { createBootActionNodeRoutes } from '#shared/api/routes/boot-actions.ts';
import { getConfig } from '#shared/config.ts';
import { getLogger } from '#shared/deps.ts';
import {
  createInlineAnalyzer,
  createWorkerAnalyzer,
  type DesignAnalyzer,
} from '#shared/design/design-analyzer.ts';
import { createDesignResolver, type DesignResolver } from '#shared/design-refs/design-resolver.ts';
import { type ApiHandler, createHttpHandler } from '#shared/http/handler.ts';
import { invocationDeadline } from '#shared/invocation.ts';

// Leave a second to answer, and stay under API Gateway's 29 s integration timeout.
const RESPONSE_MARGIN_MS = 1_000;
const API_GATEWAY_BUDGET_MS = 28_000;
const WORKER_MEMORY_MB = 1024;

let designs: DesignResolver | undefined;
let analyzer: DesignAnalyzer | undefined;

// As in the design function: inline in a Lambda, worker threads under `npm start`.
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

/** The node-facing routes: POST /bootactions/{action_id}, GET /bootactions/nodes/{hostname}/units|files. */
export const routes = createBootActionNodeRoutes({
  designs: () => (designs ??= createDesignResolver(getConfig().design, { logger: getLogger() })),
  analyzer: () => (analyzer ??= buildAnalyzer()),
  platform: () => getConfig().design.platform,
  // Each invocation's deadline bounds the design and asset fetches.
  deadline: () =>
    invocationDeadline({ marginMs: RESPONSE_MARGIN_MS, maxMs: API_GATEWAY_BUDGET_MS }),
  reportUrl: () => getConfig().bootActions.reportUrl,
});

/**
 * API Gateway REST API without IAM or Keystone: nodes authenticate with their boot-action key
 * (`X-Bootaction-Key`), checked before anything else is read.
 */
export const handler: ApiHandler = createHttpHandler(routes);
