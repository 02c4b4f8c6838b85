import type { DesignResolver, ResolveOptions } from '#shared/design-refs/design-resolver.ts';
import { DesignRefError } from '#shared/design-refs/errors.ts';
import { ValidationError } from '#shared/errors.ts';
import type { AnalysisRequest, AnalysisResult, DesignAnalyzer } from '../design/design-analyzer.ts';
import { DesignSyntaxError } from '../design/design-errors.ts';
import type { NodeFilterSet } from '../design/node-filter.ts';
import type { YamlLimits } from '../design/parse-yaml.ts';
import type { PlatformLists } from '../design/rules/rule.ts';
import {
  RULE_PROCESSING,
  type ValidationStatus,
  validationMessage,
  validationStatus,
} from '../design/validation.ts';

/** What the design use cases need. */
export type DesignDeps = {
  designs: Pick<DesignResolver, 'resolve'>;
  clock: { now(): number };
  /** Where designs are parsed, compiled and validated (a worker thread under `npm start`). */
  analyzer: DesignAnalyzer;
  /** Allowed platform selections (DD3001) and, for tests, a smaller YAML budget. */
  settings: { platform: PlatformLists; limits?: YamlLimits };
};

/** Input of `resolveDesign`: the reference plus the caller's time limits. */
export type ResolveDesignInput = { designRef: string } & ResolveOptions;

/** The `POST /designs/resolve` answer, already serialised (it can be megabytes). */
export type ResolvedDesign = {
  /** The reference with any credentials stripped. */
  designRef: string;
  /** Hex SHA-256 of the fetched bytes, so callers can tell whether a design changed. */
  sha256: string;
  sizeBytes: number;
  fromCache: boolean;
  /** `{design_ref, sha256, size_bytes, from_cache, counts_by_kind, documents, validation}`. */
  bodyJson: string;
};

function analyze<K extends AnalysisRequest['kind']>(
  deps: DesignDeps,
  request: Extract<AnalysisRequest, { kind: K }>,
): Promise<Extract<AnalysisResult, { kind: K }>> {
  return deps.analyzer.analyze(request) as Promise<Extract<AnalysisResult, { kind: K }>>;
}

function settingsOf(deps: DesignDeps) {
  const ts = new Date(deps.clock.now()).toISOString();
  const { platform, limits } = deps.settings;
  return { ts, platform, ...(limits ? { limits } : {}) };
}

/**
 * Fetches a design, ingests both Drydock formats, compiles the effective site and validates it.
 * Validation findings are data (in `validation`), not errors; only an unusable reference
 * (`ValidationError`, `DesignRefError`) or unreadable YAML (`DesignSyntaxError`, 400 with line
 * and column) throws.
 * @example await resolveDesign(deps, { designRef: 's3://designs/site.yaml', deadline })
 */
export async function resolveDesign(
  deps: DesignDeps,
  input: ResolveDesignInput,
): Promise<ResolvedDesign> {
  const { designRef, ...limits } = input;
  const fetched = await deps.designs.resolve(designRef, limits);
  const head = {
    design_ref: fetched.designRef,
    size_bytes: fetched.bytes.length,
    from_cache: fetched.fromCache,
  };
  const { bytes } = fetched;
  const result = await analyze(deps, { kind: 'resolve', bytes, settings: settingsOf(deps), head });
  return {
    designRef: head.design_ref,
    sha256: result.sha256,
    sizeBytes: head.size_bytes,
    fromCache: head.from_cache,
    bodyJson: result.bodyJson,
  };
}

/** Body of `POST /validatedesign`: Drydock's Validation Status plus its `code`. */
export type ValidateDesignBody = ValidationStatus & { code: 200 | 400 };

/**
 * Input of `validateDesign`: Drydock's `{href, rel?, type?}`, or the design itself as `content`
 * (an operator pasting a design), plus time limits.
 */
export type ValidateDesignInput = ({ href: string } | { content: string }) & {
  rel?: string;
  type?: string;
} & ResolveOptions;

/**
 * Drydock's `POST /validatedesign`: 200 with `code: 200` when the design passes every document
 * check and rule, 400 with `code: 400` when it does not, including an unusable reference, a
 * missing design and unreadable YAML (a `DD000` message with line and column). Transient
 * upstream failures (unreachable source, 5xx, timeout) are thrown as `DesignRefError`, so the
 * caller gets a retryable 502/504 instead of a verdict on a design nobody could read.
 */
export async function validateDesign(
  deps: DesignDeps,
  input: ValidateDesignInput,
): Promise<{ statusCode: 200 | 400; body: ValidateDesignBody }> {
  const failure = (message: string, diagnostic: string) => {
    const msg = validationMessage({
      name: RULE_PROCESSING,
      level: 'Error',
      message,
      diagnostic,
      ts: new Date(deps.clock.now()).toISOString(),
    });
    return { statusCode: 400 as const, body: { ...validationStatus([msg]), code: 400 as const } };
  };
  let status: ValidationStatus;
  try {
    let bytes: Buffer;
    if ('content' in input) {
      // Pasted by an operator: already here, bounded by the request body limit.
      bytes = Buffer.from(input.content, 'utf8');
    } else {
      const { href, rel: _rel, type: _type, ...limits } = input;
      bytes = (await deps.designs.resolve(href, limits)).bytes;
    }
    status = (await analyze(deps, { kind: 'validate', bytes, settings: settingsOf(deps) })).status;
  } catch (error) {
    if (error instanceof DesignSyntaxError) {
      return failure(
        `Error parsing design: ${error.message}`,
        `Fix the YAML at line ${error.line}, column ${error.column}.`,
      );
    }
    if (error instanceof DesignRefError && !error.retry) {
      return failure(
        `Error loading design: ${error.message}`,
        'Check the design reference and its source.',
      );
    }
    if (error instanceof ValidationError) {
      return failure(`Invalid design reference: ${error.message}`, 'Check the href value.');
    }
    throw error;
  }
  const ok = status.status === 'Success';
  return { statusCode: ok ? 200 : 400, body: { ...status, code: ok ? 200 : 400 } };
}

/** Input of `selectDesignNodes`: a design and a node filter (`null` selects every node). */
export type SelectNodesInput = {
  designRef: string;
  nodeFilter: NodeFilterSet | null;
} & ResolveOptions;

/**
 * The names of the nodes of a design that a node filter selects (Drydock's `POST /nodefilter`
 * and `Orchestrator.process_node_filter`), in design order, for the API and for tasks whose
 * `node_filter` must be resolved against their design. As in Drydock, rule findings do not stop
 * the selection, but a design whose documents fail or that cannot be compiled does: a
 * `ValidationError` listing its errors (as do an unusable reference and unreadable YAML).
 * @example const nodes = await selectDesignNodes(deps, { designRef: task.designRef, nodeFilter: task.nodeFilter })
 */
export async function selectDesignNodes(
  deps: DesignDeps,
  input: SelectNodesInput,
): Promise<string[]> {
  const { designRef, nodeFilter, ...limits } = input;
  const { bytes } = await deps.designs.resolve(designRef, limits);
  const result = await analyze(deps, {
    kind: 'nodes',
    bytes,
    settings: settingsOf(deps),
    nodeFilter,
  });
  if (result.filterProblem !== null) {
    throw new ValidationError(`Invalid node_filter: ${result.filterProblem}`, [
      { path: 'node_filter', message: result.filterProblem },
    ]);
  }
  if (result.nodes === null) {
    const errors = result.status.details.messageList.filter((m) => m.error);
    throw new ValidationError(
      `Unable to render effective site design: ${errors.length} error${errors.length === 1 ? '' : 's'}`,
      errors.slice(0, 100).map((m) => ({ path: m.name, message: m.message })),
    );
  }
  return result.nodes;
}
