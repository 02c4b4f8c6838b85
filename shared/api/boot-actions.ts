import {
  BOOT_ACTION_KEY_HEADER,
  generateBootActionKey,
  hashPresentedKey,
  newBootActionId,
  sameKeyHash,
} from '../bootactions/key.ts';
import type { AssetType, RenderedAsset } from '../bootactions/render.ts';
import type { Deps } from '../deps.ts';
import type { DesignAnalyzer } from '../design/design-analyzer.ts';
import type { PlatformLists } from '../design/rules/rule.ts';
import type { DesignResolver } from '../design-refs/design-resolver.ts';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PreconditionRequiredError,
  UnauthorizedError,
} from '../errors.ts';
import {
  type BootActionContext,
  type BootActionRecord,
  createBootActionContext,
  getBootAction,
  getBootActionContext,
  listNodeBootActions,
  reportBootAction,
} from '../store/boot-actions.ts';
import { type AnnounceDeps, announced } from './announce.ts';
import { bounds } from './bounds.ts';

/**
 * The boot-action use cases: the orchestrator's (create a node's context, list and read its
 * actions) and the node's (download its rendered units and files, report an action's outcome).
 * `shared/bootactions/README.md` describes the flow.
 */

/** Drydock's boot-action JSON shape (`BootactionResource.on_post`'s answer). */
export interface BootActionDict {
  node_name: string;
  action_id: string;
  action_name: string;
  task_id: string;
  action_status: string;
}

export function toBootActionDict(record: BootActionRecord): BootActionDict {
  return {
    node_name: record.nodeName,
    action_id: record.actionId,
    action_name: record.actionName,
    task_id: record.taskId,
    action_status: record.actionStatus,
  };
}

/** What the orchestrator gets back once: the node's key, to hand to the node. */
export interface CreatedContextDict {
  node_name: string;
  task_id: string;
  design_ref: string | null;
  /** 64 hex digits; shown in this answer only, stored as a hash. */
  identity_key: string;
  actions: BootActionDict[];
}

/**
 * Creates (or replaces) a node's context with one action per name (Drydock's
 * `Orchestrator.create_bootaction_context`): a new random key, a ULID per action, `incomplete`
 * for actions that signal and `unreported` for those that do not. Fenced by the lease epoch,
 * which it needs (428 without).
 */
export async function createNodeContext(
  deps: Pick<Deps, 'db'>,
  input: {
    nodeName: string;
    taskId: string;
    epoch: number | undefined;
    actions: readonly { name: string; signaling?: boolean | undefined }[];
  },
): Promise<CreatedContextDict> {
  if (input.epoch === undefined) {
    throw new PreconditionRequiredError(
      "creating a boot-action context is the orchestrator's write: send the lease epoch",
    );
  }
  const key = generateBootActionKey();
  const context = await createBootActionContext(
    deps.db,
    {
      nodeName: input.nodeName,
      taskId: input.taskId,
      identityKeyHash: key.hash,
      actions: input.actions.map((a) => ({
        actionId: newBootActionId(),
        actionName: a.name,
        actionStatus: a.signaling === false ? 'unreported' : 'incomplete',
      })),
    },
    { epoch: input.epoch },
  );
  return {
    node_name: context.nodeName,
    task_id: context.taskId,
    design_ref: context.designRef,
    identity_key: key.hex,
    actions: context.actions.map(toBootActionDict),
  };
}

/** A node's actions and statuses, oldest first (what `bootaction_report` polls). */
export async function listNodeActions(
  deps: Pick<Deps, 'db'>,
  nodeName: string,
): Promise<BootActionDict[]> {
  return (await listNodeBootActions(deps.db, nodeName)).map(toBootActionDict);
}

/** One action; 404 when unknown. */
export async function readAction(
  deps: Pick<Deps, 'db'>,
  actionId: string,
): Promise<BootActionDict> {
  const found = await getBootAction(deps.db, normaliseActionId(actionId) ?? '');
  if (!found) throw new NotFoundError(`boot action ${actionId} does not exist`);
  return toBootActionDict(found);
}

// ---------------------------------------------------------------------------------------------
// The node's side: its key is checked before anything else is read.

/** Drydock's ULIDs are case-insensitive base32; stored upper case. Undefined: cannot be one. */
function normaliseActionId(raw: string): string | undefined {
  const upper = raw.toUpperCase();
  return /^[0-9A-HJKMNP-TV-Z]{26}$/.test(upper) ? upper : undefined;
}

/**
 * The hash of the key a node presents: 401 when it presents none (Drydock's
 * "No X-Bootaction-Key"), 403 when what it presents cannot be a key.
 */
function presentedKeyHash(headers: Readonly<Record<string, string | undefined>>): {
  hex: string;
  hash: string;
} {
  const presented = headers[BOOT_ACTION_KEY_HEADER]?.trim() ?? '';
  if (presented === '') throw new UnauthorizedError('No X-Bootaction-Key');
  const hash = hashPresentedKey(presented);
  if (hash === undefined) throw new ForbiddenError('Invalid X-Bootaction-Key');
  return { hex: presented.toLowerCase(), hash };
}

/** A node authenticated for one of its actions. */
export interface AuthenticatedAction {
  action: BootActionRecord;
  keyHash: string;
}

/**
 * Authenticates a node's report (Drydock's order: no key 401, unknown action 404, another key
 * 403), before its body is read.
 */
export async function authenticateAction(
  deps: Pick<Deps, 'db'>,
  actionId: string,
  headers: Readonly<Record<string, string | undefined>>,
): Promise<AuthenticatedAction> {
  const key = presentedKeyHash(headers);
  const id = normaliseActionId(actionId);
  const found = id === undefined ? undefined : await getBootAction(deps.db, id);
  if (!found) throw new NotFoundError(`boot action ${actionId.slice(0, 64)} does not exist`);
  const { identityKeyHash, ...action } = found;
  if (!sameKeyHash(identityKeyHash, key.hash)) throw new ForbiddenError('Invalid X-Bootaction-Key');
  return { action, keyHash: key.hash };
}

/** Drydock's report body, validated. */
export interface ReportBody {
  status?: 'Success' | 'Failure' | 'success' | 'failure' | undefined;
  details?: ({ message: string; error: boolean } & Record<string, unknown>)[] | undefined;
}

/**
 * A node's report (Drydock's `BootactionResource.on_post`): 409 once the action is final
 * (`unreported` included), else each detail becomes a message on the deploy task and the status,
 * when given, becomes final, in one statement.
 */
export async function reportAction(
  deps: Pick<Deps, 'db'> & AnnounceDeps,
  auth: AuthenticatedAction,
  body: ReportBody,
): Promise<BootActionDict> {
  if (auth.action.actionStatus !== 'incomplete') {
    throw new ConflictError(
      `Action ${auth.action.actionId} status finalized, not available for update.`,
    );
  }
  const details = (body.details ?? []).map(({ message, error, ...extra }) => ({
    message,
    error,
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  }));
  // Each detail is a message of the deploy task: within a message's bound, as any other.
  bounds.messages(
    details.map((d) => ({
      message: d.message,
      context_type: 'bootaction',
      context: auth.action.actionId,
      extra: d.extra ?? {},
    })),
  );
  const status = body.status?.toLowerCase() as 'success' | 'failure' | undefined;
  const record = await reportBootAction(deps.db, {
    actionId: auth.action.actionId,
    identityKeyHash: auth.keyHash,
    status,
    details,
  });
  // A final status wrote its "Boot Action Status" event in the same statement: publish it now.
  return announced(deps, toBootActionDict(record));
}

/** A node authenticated for its context. */
export interface AuthenticatedNode {
  context: BootActionContext;
  keyHex: string;
}

/** Authenticates a node's download: no key 401, no context 404, another key 403. */
export async function authenticateNode(
  deps: Pick<Deps, 'db'>,
  hostname: string,
  headers: Readonly<Record<string, string | undefined>>,
): Promise<AuthenticatedNode> {
  const key = presentedKeyHash(headers);
  const context =
    hostname === '' || Buffer.byteLength(hostname) > 280
      ? undefined
      : await getBootActionContext(deps.db, hostname);
  if (!context) {
    throw new NotFoundError(`Error locating boot action for ${hostname.slice(0, 280)}`);
  }
  if (!sameKeyHash(context.identityKeyHash, key.hash)) {
    throw new ForbiddenError('Invalid X-Bootaction-Key');
  }
  return { context, keyHex: key.hex };
}

/** What rendering a node's assets needs beyond the database. */
export interface AssetDeps {
  designs: Pick<DesignResolver, 'resolve'>;
  analyzer: DesignAnalyzer;
  platform: PlatformLists;
  clock: { now(): Date };
  /** Absolute epoch-ms deadline of the request, when known. */
  deadline: number | undefined;
}

/** Bounds of one answer: a Lambda answer stops at 6 MB, 4.5 MB of it before base64. */
export const ASSET_LIMITS = { maxAssetBytes: 1024 * 1024, maxTotalBytes: 4 * 1024 * 1024 };

/**
 * A node's rendered assets of one type as Drydock's gzipped tarball
 * (`BootactionAssetsResource.do_get`): the deploy task's design, compiled; the boot actions whose
 * node filter selects the node; their assets of that type rendered with the node's context.
 */
export async function nodeAssetTarball(
  deps: AssetDeps,
  node: AuthenticatedNode,
  type: AssetType,
  reportUrl: string,
): Promise<{ tarball: Buffer; assets: RenderedAsset[] }> {
  // The template engine (nunjucks) and the tar writer load with the first render: the other
  // boot-action routes, served by the same code, never need them in their init.
  const [{ BootActionRenderError, renderAssets }, { buildTarball }] = await Promise.all([
    import('../bootactions/render.ts'),
    import('../bootactions/tarball.ts'),
  ]);
  const { context } = node;
  if (context.designRef === null) {
    throw new BootActionRenderError(
      `The deploy task ${context.taskId} of ${context.nodeName} has no design reference.`,
    );
  }
  const limits = deps.deadline === undefined ? {} : { deadline: deps.deadline };
  const { bytes } = await deps.designs.resolve(context.designRef, limits);
  const analysis = await deps.analyzer.analyze({
    kind: 'bootactions',
    bytes,
    settings: { ts: deps.clock.now().toISOString(), platform: deps.platform },
    nodeName: context.nodeName,
  });
  if (analysis.kind !== 'bootactions' || !analysis.compiled) {
    throw new BootActionRenderError('Unable to render effective site design.');
  }
  if (analysis.node === null) {
    throw new BootActionRenderError(`The design has no node ${context.nodeName}.`);
  }
  const assets = await renderAssets({
    type,
    node: analysis.node,
    actions: analysis.actions,
    actionIds: new Map(context.actions.map((a) => [a.actionName, a.actionId])),
    keyHex: node.keyHex,
    reportUrl,
    designRef: context.designRef,
    fetchLocation: async (url) => (await deps.designs.resolve(url, limits)).bytes,
    limits: ASSET_LIMITS,
  });
  return { tarball: await buildTarball(assets), assets };
}
