import { z } from 'zod';
import { resolveDesign, validateDesign } from '../../design/resolve-design.ts';
import type { DesignResolver } from '../../design-refs/design-resolver.ts';
import { API_PREFIX } from '../../http/conventions.ts';
import { type AnyRoute, defineRoute } from '../../http/route.ts';
import { ErrorBodySchema } from '../schemas.ts';

// Far above real references, like the task API's design_ref limit.
const MAX_REF = 4096;

/** What the design routes need beyond the request: the container's resolver and the deadline. */
export interface DesignRouteOptions {
  /** The container's resolver (built once, lazily). */
  readonly designs: () => DesignResolver;
  /** Absolute epoch-ms deadline of the current invocation, when known. */
  readonly deadline: () => number | undefined;
}

const StatusSchema = z.record(z.string(), z.unknown()).meta({
  description:
    "Drydock's Validation Status: kind, apiVersion, metadata, message, reason, status, details{errorCount, messageList}",
});

/**
 * `POST /designs/resolve` (fetch, ingest and validate a design; credentials in the reference are
 * used for this fetch and never echoed) and Drydock's `POST /validatedesign`.
 */
export function createDesignRoutes(options: DesignRouteOptions): readonly AnyRoute[] {
  const depsOf = (clock: { now(): Date }) => ({
    designs: options.designs(),
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
      body: z.strictObject({ design_ref: z.string().min(1).max(MAX_REF) }),
      responses: {
        200: { description: 'The resolved design', schema: z.record(z.string(), z.unknown()) },
        400: {
          description: 'Invalid or refused reference, or unreadable YAML',
          schema: ErrorBodySchema,
        },
        413: { description: 'The design is larger than DESIGN_MAX_BYTES', schema: ErrorBodySchema },
        502: { description: 'The source failed or refused the service', schema: ErrorBodySchema },
        504: { description: 'The source did not answer in time', schema: ErrorBodySchema },
      },
      async handle({ body, deps }) {
        const out = await resolveDesign(depsOf(deps.clock), {
          designRef: body.design_ref,
          ...limits(),
        });
        return {
          status: 200,
          body: {
            design_ref: out.designRef,
            sha256: out.sha256,
            size_bytes: out.sizeBytes,
            from_cache: out.fromCache,
            counts_by_kind: out.countsByKind,
            documents: out.documents,
            validation: out.validation,
          },
        };
      },
    }),
    defineRoute({
      method: 'POST',
      path: `${API_PREFIX}/validatedesign`,
      operationId: 'validateDesign',
      summary:
        "Drydock's design validation: 200 with code 200 when valid, 400 with code 400 otherwise",
      tag: 'designs',
      policy: 'physical_provisioner:validate_site_design',
      // Drydock's clients send {rel: 'design', href, type: 'application/x-yaml'}; extra keys are ignored.
      body: z.object({
        href: z.string().min(1).max(MAX_REF),
        rel: z.string().max(256).nullish(),
        type: z.string().max(256).nullish(),
      }),
      responses: {
        200: { description: 'Valid design', schema: StatusSchema },
        400: {
          description: 'Invalid design, reference or YAML (Status body, code 400)',
          schema: StatusSchema,
        },
        502: { description: 'The source failed; retry', schema: ErrorBodySchema },
        504: { description: 'The source did not answer in time; retry', schema: ErrorBodySchema },
      },
      async handle({ body, deps }) {
        const out = await validateDesign(depsOf(deps.clock), { href: body.href, ...limits() });
        return { status: out.statusCode, body: out.body };
      },
    }),
  ];
}
