import { AppError } from '../errors.ts';
import type { NodeTemplateContext, TargetedBootAction } from './node-context.ts';
import { renderTemplate, TemplateError } from './template.ts';

/**
 * Drydock's asset rendering (`objects/bootaction.py`: `BootAction.render_assets`,
 * `BootActionAsset.render`, `execute_pipeline`, `_get_template_context`), for the node-facing
 * `units` and `files` routes.
 */

/** The asset types a node downloads; `pkg_list` assets go into the deployment's user data instead. */
export type AssetType = 'unit' | 'file';

/** One rendered asset: where it goes on the node, its mode and its bytes. */
export interface RenderedAsset {
  actionName: string;
  type: AssetType;
  path: string;
  /** Drydock's default for an asset without `permissions` is 0600. */
  mode: number;
  bytes: Buffer;
}

/** The `action` half of Drydock's template context. */
export interface ActionTemplateContext {
  /** The ULID of this action on this node, as the report route takes it. */
  action_id: string;
  /** The node's key in hex (what it presented to download its assets). */
  action_key: string;
  /** Where the node POSTs `<action_id>` reports (Drydock's `[bootactions] report_url`). */
  report_url: string;
  design_ref: string;
}

/** Bounds of one node's rendering. */
export interface RenderLimits {
  /** One asset's rendered bytes (and one template's output). */
  maxAssetBytes: number;
  /** All assets of one answer together. */
  maxTotalBytes: number;
}

/**
 * An asset that cannot be rendered (a pipeline segment failing, a template error, no data): the
 * design is at fault, not the node's request. 500, as Drydock answers, with a message that says
 * which action and asset, never the key.
 */
export class BootActionRenderError extends AppError {
  override readonly name = 'BootActionRenderError';
  readonly status = 500;
}

type Value = Buffer | string;

const SEGMENTS: Record<
  string,
  (value: Value, ctx: TemplateContext, limits: RenderLimits) => Value
> = {
  // Python's b64decode takes text or bytes and skips characters outside the alphabet (line breaks).
  base64_decode: (v) => Buffer.from(typeof v === 'string' ? v : v.toString('latin1'), 'base64'),
  base64_encode: (v) => {
    if (typeof v === 'string') throw new Error('base64_encode needs bytes (add utf8_encode)');
    return Buffer.from(v.toString('base64'), 'ascii');
  },
  utf8_decode: (v) => {
    if (typeof v === 'string') throw new Error('utf8_decode needs bytes');
    return new TextDecoder('utf-8', { fatal: true }).decode(v);
  },
  utf8_encode: (v) => {
    if (typeof v !== 'string') throw new Error('utf8_encode needs text (add utf8_decode)');
    return Buffer.from(v, 'utf8');
  },
  // Jinja2 takes text; bytes are read as UTF-8 here (Drydock would render their Python repr).
  template: (v, ctx, limits) =>
    renderTemplate(
      typeof v === 'string' ? v : new TextDecoder('utf-8', { fatal: true }).decode(v),
      ctx as unknown as Record<string, unknown>,
      limits.maxAssetBytes,
    ),
};

type TemplateContext = { node: NodeTemplateContext; action: ActionTemplateContext };

/** Runs `pipeline` over `value` (Drydock's `execute_pipeline`). */
export function executePipeline(
  value: Value,
  pipeline: readonly string[],
  ctx: TemplateContext,
  limits: RenderLimits,
): Value {
  let data = value;
  for (const segment of pipeline) {
    const run = Object.hasOwn(SEGMENTS, segment) ? SEGMENTS[segment] : undefined;
    if (!run) throw new Error(`Bootaction pipeline segment ${segment} unknown.`);
    try {
      data = run(data, ctx, limits);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`pipeline segment ${segment} failed: ${reason}`);
    }
  }
  return data;
}

/** What rendering needs besides the design's actions. */
export interface RenderInput {
  type: AssetType;
  node: NodeTemplateContext;
  /** The boot actions targeting the node, in design order. */
  actions: readonly TargetedBootAction[];
  /** The node's action ids by action name (its context's rows). */
  actionIds: ReadonlyMap<string, string>;
  keyHex: string;
  reportUrl: string;
  designRef: string;
  /** Fetches a `location` through the design-reference drivers. */
  fetchLocation(url: string): Promise<Buffer>;
  limits: RenderLimits;
}

/**
 * Renders the assets of `type` of every boot action targeting the node that has an action row in
 * its context (an action the orchestrator did not create for this deployment has no id to render
 * with; Drydock crashed on it). Each asset's data, or what its `location` (first through
 * `location_pipeline`) resolves to, goes through `data_pipeline`; text is stored as UTF-8.
 */
export async function renderAssets(input: RenderInput): Promise<RenderedAsset[]> {
  const out: RenderedAsset[] = [];
  let total = 0;
  for (const action of input.actions) {
    const actionId = input.actionIds.get(action.name);
    if (actionId === undefined) continue;
    const ctx: TemplateContext = {
      node: input.node,
      action: {
        action_id: actionId,
        action_key: input.keyHex,
        report_url: input.reportUrl,
        design_ref: input.designRef,
      },
    };
    for (const asset of action.assets) {
      if (asset.type !== input.type) continue;
      const where = `boot action ${action.name}, ${asset.type} asset ${asset.path ?? '(no path)'}`;
      const fail = (reason: string): never => {
        throw new BootActionRenderError(
          `Cannot render ${where}: ${reason.replaceAll(input.keyHex, 'redacted')}`,
        );
      };
      if (asset.path === null) fail('it has no path');
      let bytes: Buffer;
      try {
        let source: Value;
        if (asset.location !== null) {
          const url = executePipeline(asset.location, asset.locationPipeline, ctx, input.limits);
          source = await input.fetchLocation(typeof url === 'string' ? url : url.toString('utf8'));
        } else if (asset.data !== null) {
          source = Buffer.from(asset.data, 'utf8');
        } else {
          return fail('it has neither data nor a location');
        }
        const value = executePipeline(source, asset.dataPipeline, ctx, input.limits);
        bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
      } catch (error) {
        if (error instanceof AppError) throw error;
        const reason =
          error instanceof TemplateError
            ? `template: ${error.message}`
            : error instanceof Error
              ? error.message
              : String(error);
        return fail(reason);
      }
      if (bytes.length > input.limits.maxAssetBytes) {
        fail(`it renders to more than ${input.limits.maxAssetBytes} bytes`);
      }
      total += bytes.length;
      if (total > input.limits.maxTotalBytes) {
        fail(
          `the node's ${input.type} assets render to more than ${input.limits.maxTotalBytes} bytes`,
        );
      }
      out.push({
        actionName: action.name,
        type: input.type,
        path: asset.path as string,
        mode: asset.permissions || 0o600,
        bytes,
      });
    }
  }
  return out;
}
