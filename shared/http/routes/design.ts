import * as z from '#shared/zod.ts';
import type { DesignDeps } from '../../api/resolve-design.ts';
import { NodeFilterSchema } from '../../api/schemas.ts';
import { API_PREFIX } from '../../api/shapes.ts';
import type { Deps } from '../../deps.ts';
import type { DesignAnalyzer } from '../../design/design-analyzer.ts';
import type { DesignResolver } from '../../design-refs/design-resolver.ts';
import { LIMITS } from '../../limits.ts';
import { loadOnce } from '../../load-once.ts';
import { type AnyRoute, JsonText, routesNeeding } from '../route.ts';
import { errorResponse as err } from './responses.ts';

// The use cases (and the store) load with the first request that needs them, not at init.
const designApi = loadOnce(() => import('../../api/resolve-design.ts'));

/** The dependencies the design routes read: configuration and the clock, never a database. */
export type DesignRouteDeps = Pick<Deps, 'config' | 'clock'>;

const defineRoute = routesNeeding<DesignRouteDeps>();

/** What the design routes need beyond the request: the container's collaborators and deadline. */
export interface DesignRouteOptions {
  /** The container's resolver (built once, lazily). */
  readonly designs: () => DesignResolver;
  /** Where designs are parsed and validated (built once, lazily). */
  readonly analyzer: () => DesignAnalyzer;
  /** Allowed platform selections for DD3001, from configuration. */
  readonly settings: () => DesignDeps['settings'];
  /** Absolute epoch-ms deadline of the current invocation, when known. */
  readonly deadline: () => number | undefined;
}

const StatusSchema = z.lazySchema(() =>
  z.meta(z.record(z.string(), z.unknown()), {
    description:
      "Drydock's Validation Status: kind, apiVersion, metadata, message, reason, status, details{errorCount, messageList[{kind: 'ValidationMessage', name, message, error, level, diagnostic, documents[{schema, name}], ts}]}",
  }),
);

/**
 * `POST /designs/resolve` (fetch, ingest, compile and validate a design; credentials in the
 * reference are used for this fetch and never echoed), Drydock's `POST /validatedesign` and
 * Drydock's `POST /nodefilter`.
 */
export function createDesignRoutes(
  options: DesignRouteOptions,
): readonly AnyRoute<DesignRouteDeps>[] {
  const depsOf = (clock: { now(): Date }): DesignDeps => ({
    designs: options.designs(),
    analyzer: options.analyzer(),
    settings: options.settings(),
    clock: { now: () => clock.now().getTime() },
  });
  const limits = () => {
    const deadline = options.deadline();
    return deadline === undefined ? {} : { deadline };
  };
  return [
    defineRoute({
      method: 'POST',
      path: `${API_PREFIX}/designs/resolve`,
      operationId: 'resolveDesign',
      summary:
        'Resolve a design reference: its documents, count per kind, sha256, size and validation messages',
      tag: 'designs',
      policy: 'physical_provisioner:read_data',
      body: z.lazySchema(() =>
        z.strictObject({
          design_ref: z.string().check(z.minLength(1)).check(z.maxLength(LIMITS.designRef)),
        }),
      ),
      responses: {
        200: {
          description: 'The resolved design',
          schema: z.lazySchema(() => z.record(z.string(), z.unknown())),
        },
        400: err('Invalid or refused reference, unreadable YAML, or a design past the YAML limits'),
        413: err('The design is larger than DESIGN_MAX_BYTES'),
        502: err('The source failed or refused the service'),
        504: err('The source did not answer in time'),
      },
      async handle({ body, deps }) {
        const { resolveDesign } = await designApi();
        const out = await resolveDesign(depsOf(deps.clock), {
          designRef: body.design_ref,
          ...limits(),
        });
        return { status: 200, body: new JsonText(out.bodyJson) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: `${API_PREFIX}/validatedesign`,
      operationId: 'validateDesign',
      summary:
        "Drydock's design validation (document schemas, effective site, 18 rules): 200 with code 200 when valid, 400 with code 400 otherwise",
      tag: 'designs',
      policy: 'physical_provisioner:validate_site_design',
      // Drydock's clients send {rel: 'design', href, type: 'application/x-yaml'}; extra keys are
      // ignored. `content` (the YAML itself, bounded by MAX_BODY_BYTES) is this service's
      // addition, so an operator can validate a design that is not published anywhere yet.
      body: z.lazySchema(() =>
        z
          .object({
            href: z.optional(z.string().check(z.minLength(1)).check(z.maxLength(LIMITS.designRef))),
            content: z.meta(z.optional(z.string().check(z.minLength(1))), {
              description: 'The design YAML itself, instead of href (not a Drydock field).',
            }),
            rel: z.nullish(z.string().check(z.maxLength(256))),
            type: z.nullish(z.string().check(z.maxLength(256))),
          })
          .check(
            z.refine((body) => (body.href === undefined) !== (body.content === undefined), {
              message: 'give either href (a design reference) or content (the design), not both',
            }),
          ),
      ),
      responses: {
        200: { description: 'Valid design', schema: StatusSchema },
        400: {
          description: 'Invalid design, reference or YAML (Status body, code 400)',
          schema: StatusSchema,
        },
        502: err('The source failed; retry'),
        504: err('The source did not answer in time; retry'),
      },
      async handle({ body, deps }) {
        const { validateDesign } = await designApi();
        const source =
          body.content !== undefined ? { content: body.content } : { href: body.href ?? '' };
        const out = await validateDesign(depsOf(deps.clock), {
          ...source,
          ...limits(),
        });
        return { status: out.statusCode, body: out.body };
      },
    }),
    defineRoute({
      method: 'POST',
      path: `${API_PREFIX}/nodefilter`,
      operationId: 'selectNodes',
      summary:
        "Drydock's node filter: the names of the design's nodes the filter selects (every node without a filter)",
      tag: 'designs',
      // Drydock's NodeFilterResource checks read_data.
      policy: 'physical_provisioner:read_data',
      body: z.lazySchema(() =>
        z.object({
          design_ref: z.string().check(z.minLength(1)).check(z.maxLength(LIMITS.designRef)),
          node_filter: z.nullish(NodeFilterSchema()),
        }),
      ),
      responses: {
        200: {
          description: 'Node names, in design order',
          schema: z.lazySchema(() => z.array(z.string())),
        },
        400: err(
          'Invalid filter or reference, unreadable YAML, or a design that cannot be compiled (its errors listed in issues)',
        ),
        413: err('The design is larger than DESIGN_MAX_BYTES'),
        502: err('The source failed; retry'),
        504: err('The source did not answer in time; retry'),
      },
      async handle({ body, deps }) {
        const { selectDesignNodes } = await designApi();
        const nodes = await selectDesignNodes(depsOf(deps.clock), {
          designRef: body.design_ref,
          nodeFilter: body.node_filter ?? null,
          ...limits(),
        });
        return { status: 200, body: nodes };
      },
    }),
  ];
}
