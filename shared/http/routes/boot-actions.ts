import * as z from '#shared/zod.ts';
import type { AssetDeps, AuthenticatedAction, AuthenticatedNode } from '../../api/boot-actions.ts';
import { API_PREFIX } from '../../api/shapes.ts';
import type { AssetType } from '../../bootactions/render.ts';
import type { DesignAnalyzer } from '../../design/design-analyzer.ts';
import type { DesignResolver } from '../../design-refs/design-resolver.ts';
import { loadOnce } from '../../load-once.ts';
import { type AnyRoute, defineRoute } from '../route.ts';
import { errorResponse as err } from './responses.ts';

// The use cases (and the store) load with the first request that needs them, not at init.
const bootActionsApi = loadOnce(() => import('../../api/boot-actions.ts'));

const BOOTACTIONS = `${API_PREFIX}/bootactions`;

const Hostname = z.lazySchema(() => z.string().check(z.minLength(1)).check(z.maxLength(280)));
const ActionId = z.lazySchema(() =>
  z.meta(
    z
      .string()
      .check(
        z.regex(/^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$/, 'expected a boot action id (a ULID)'),
      ),
    { description: "A boot action's ULID (26 characters, Crockford base32)." },
  ),
);

const BootActionDictSchema = z.lazySchema(() =>
  z.meta(
    z.object({
      node_name: z.string(),
      action_id: z.string(),
      action_name: z.string(),
      task_id: z.string(),
      action_status: z.enum(['incomplete', 'success', 'failure', 'unreported']),
    }),
    { id: 'BootAction' },
  ),
);

const CreateContextBodySchema = z.lazySchema(() =>
  z.strictObject({
    task_id: z.meta(z.uuid(), {
      description: 'The deploy task (Drydock: the DeployNode driver task).',
    }),
    epoch: z.meta(
      z.optional(
        z
          .int()
          .check(z.gte(1))
          .check(z.lte(2 ** 53 - 1)),
      ),
      { description: "The lease holder's epoch (required, fenced)." },
    ),
    actions: z
      .array(
        z.strictObject({
          name: z.meta(z.string().check(z.minLength(1)).check(z.maxLength(255)), {
            description: 'The BootAction document name.',
          }),
          signaling: z.meta(z.optional(z.boolean()), {
            description: 'false: no report expected (status `unreported`).',
          }),
        }),
      )
      .check(z.minLength(1))
      .check(z.maxLength(100)),
  }),
);

/** Drydock's `BootactionResource.bootaction_schema`. */
const ReportBodySchema = z.lazySchema(() =>
  z.strictObject({
    status: z.optional(z.enum(['Failure', 'Success', 'failure', 'success'])),
    details: z.optional(
      z
        .array(
          z.meta(z.catchall(z.object({ message: z.string(), error: z.boolean() }), z.unknown()), {
            description: '{message, error}; other fields are kept in the message extra.',
          }),
        )
        .check(z.maxLength(1000)),
    ),
  }),
);

/** Orchestrator routes: IAM or Keystone, Drydock-style policy rules, fenced writes. */
export const bootActionRoutes: readonly AnyRoute[] = [
  defineRoute({
    method: 'POST',
    path: `${BOOTACTIONS}/nodes/{hostname}`,
    operationId: 'createBootActionContext',
    summary:
      "Create (or replace) a node's boot-action context: its key, returned in this answer only, and one action per name",
    tag: 'bootactions',
    policy: 'physical_provisioner:create_bootaction_context',
    params: z.lazySchema(() => z.strictObject({ hostname: Hostname() })),
    body: CreateContextBodySchema,
    responses: {
      201: {
        description: 'Created; `identity_key` is shown here only (the service keeps its hash)',
        schema: z.lazySchema(() =>
          z.object({
            node_name: z.string(),
            task_id: z.string(),
            design_ref: z.nullable(z.string()),
            identity_key: z.string(),
            actions: z.array(BootActionDictSchema()),
          }),
        ),
      },
      400: err('Bad body'),
      404: err('No such task'),
      412: err('Stale lease epoch'),
      428: err('No lease epoch'),
    },
    async handle({ deps, params, body }) {
      const { createNodeContext } = await bootActionsApi();
      const created = await createNodeContext(deps, {
        nodeName: params.hostname,
        taskId: body.task_id,
        epoch: body.epoch,
        actions: body.actions,
      });
      // The key is in this body: no cache on the way may keep it.
      return { status: 201, body: created, headers: { 'Cache-Control': 'no-store' } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${BOOTACTIONS}/nodes/{hostname}`,
    operationId: 'listBootActions',
    summary: "A node's boot actions and their statuses (what bootaction_report polls)",
    tag: 'bootactions',
    policy: 'physical_provisioner:read_bootaction',
    params: z.lazySchema(() => z.strictObject({ hostname: Hostname() })),
    responses: {
      200: {
        description: 'Oldest first',
        schema: z.lazySchema(() => z.array(BootActionDictSchema())),
      },
      404: err('The node has no boot-action context'),
    },
    async handle({ deps, params }) {
      const { listNodeActions } = await bootActionsApi();
      return { status: 200, body: await listNodeActions(deps, params.hostname) };
    },
  }),
  defineRoute({
    method: 'GET',
    // Not `/bootactions/{action_id}`: that path is the nodes' (POST, on their own API), and one
    // path served by two functions would answer OPTIONS with half of its methods.
    path: `${BOOTACTIONS}/actions/{action_id}`,
    operationId: 'getBootAction',
    summary: 'One boot action and its status',
    tag: 'bootactions',
    policy: 'physical_provisioner:read_bootaction',
    params: z.lazySchema(() => z.strictObject({ action_id: ActionId() })),
    responses: {
      200: { description: 'The action', schema: BootActionDictSchema },
      400: err('Not an action id'),
      404: err('No such action'),
    },
    async handle({ deps, params }) {
      const { readAction } = await bootActionsApi();
      return { status: 200, body: await readAction(deps, params.action_id) };
    },
  }),
];

/** What the node routes need beyond the request: the container's design collaborators. */
export interface BootActionNodeRouteOptions {
  readonly designs: () => DesignResolver;
  readonly analyzer: () => DesignAnalyzer;
  readonly platform: () => AssetDeps['platform'];
  /** Absolute epoch-ms deadline of the current invocation, when known. */
  readonly deadline: () => number | undefined;
  /** `BOOTACTION_REPORT_URL`, when configured. */
  readonly reportUrl: () => string | undefined;
}

const KEY_HEADER = {
  'X-Bootaction-Key': "required; the node's key, 64 hex digits (401 without it, 403 when wrong)",
};

/**
 * Where nodes report (Drydock's `[bootactions] report_url`): the configured URL, else this
 * service's own, as the node reached it.
 */
function reportUrlOf(
  configured: string | undefined,
  headers: Readonly<Record<string, string | undefined>>,
): string {
  if (configured) return configured.endsWith('/') ? configured : `${configured}/`;
  const host = headers.host ?? 'localhost';
  const proto = headers['x-forwarded-proto']?.split(',')[0]?.trim() || 'http';
  return `${proto}://${host}${BOOTACTIONS}/`;
}

const NodeAssetParams = z.lazySchema(() => z.strictObject({ hostname: z.string() }));

/**
 * Node-facing routes (Drydock's `control/bootaction.py`): public on API Gateway, authenticated
 * by the node's key (`X-Bootaction-Key`), which is checked before the body, the design or
 * anything else is read.
 */
export function createBootActionNodeRoutes(
  options: BootActionNodeRouteOptions,
): readonly AnyRoute[] {
  const assetRoute = (suffix: 'units' | 'files', type: AssetType) =>
    defineRoute({
      method: 'GET',
      path: `${BOOTACTIONS}/nodes/{hostname}/${suffix}`,
      operationId: suffix === 'units' ? 'getBootActionUnits' : 'getBootActionFiles',
      summary: `The node's rendered ${type} assets as a gzipped tarball (authenticated by the node's key)`,
      tag: 'bootactions',
      params: NodeAssetParams,
      requestHeaders: KEY_HEADER,
      authenticate: async ({ deps, params, headers }) =>
        (await bootActionsApi()).authenticateNode(deps, params.hostname ?? '', headers),
      responses: {
        200: {
          description: `application/gzip: <hostname>-${type}.tar.gz, one file per asset at its path with its mode`,
        },
        401: err('No X-Bootaction-Key'),
        403: err('Wrong X-Bootaction-Key'),
        404: err('The node has no boot-action context'),
        500: err('An asset cannot be rendered (the design is at fault)'),
        502: err('The design or an asset location could not be fetched'),
      },
      async handle({ deps, headers, authenticated }) {
        const node = authenticated as AuthenticatedNode;
        const { nodeAssetTarball } = await bootActionsApi();
        const { tarball } = await nodeAssetTarball(
          {
            designs: options.designs(),
            analyzer: options.analyzer(),
            platform: options.platform(),
            clock: deps.clock,
            deadline: options.deadline(),
          },
          node,
          type,
          reportUrlOf(options.reportUrl(), headers),
        );
        return {
          status: 200,
          body: new Uint8Array(tarball),
          headers: {
            'Content-Type': 'application/gzip',
            'Content-Disposition': `attachment; filename="${node.context.nodeName}-${type}.tar.gz"`,
            // Templates may render the node's key into its assets.
            'Cache-Control': 'no-store',
          },
        };
      },
    });
  return [
    defineRoute({
      method: 'POST',
      path: `${BOOTACTIONS}/{action_id}`,
      operationId: 'reportBootAction',
      summary:
        "A node reports an action's progress (details become messages on the deploy task) and its final status",
      tag: 'bootactions',
      params: z.lazySchema(() => z.strictObject({ action_id: z.string() })),
      body: ReportBodySchema,
      requestHeaders: KEY_HEADER,
      authenticate: async ({ deps, params, headers }) =>
        (await bootActionsApi()).authenticateAction(deps, params.action_id ?? '', headers),
      responses: {
        200: { description: 'The action after the report', schema: BootActionDictSchema },
        400: err('Bad body or status'),
        401: err('No X-Bootaction-Key'),
        403: err('Wrong X-Bootaction-Key'),
        404: err('No such action'),
        409: err('The action is already final'),
        413: err('Body or a detail too large'),
      },
      async handle({ deps, body, authenticated }) {
        const { reportAction } = await bootActionsApi();
        const result = await reportAction(deps, authenticated as AuthenticatedAction, body);
        return { status: 200, body: result };
      },
    }),
    assetRoute('units', 'unit'),
    assetRoute('files', 'file'),
  ];
}
