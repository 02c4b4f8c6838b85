import { createHash } from 'node:crypto';
import type { DesignResolver, ResolveOptions } from '#shared/design-refs/design-resolver.ts';
import { DesignRefError } from '#shared/design-refs/errors.ts';
import { ValidationError } from '#shared/errors.ts';
import { type DesignDocument, ingestDesign } from './ingest-design.ts';
import { DesignSyntaxError } from './parse-yaml.ts';
import {
  RULE_PROCESSING,
  type ValidationMessage,
  type ValidationStatus,
  validationMessage,
  validationStatus,
} from './validation.ts';

/** What the design use cases need. */
export type DesignDeps = {
  designs: Pick<DesignResolver, 'resolve'>;
  clock: { now(): number };
};

/** Input of `resolveDesign`: the reference plus the caller's time limits. */
export type ResolveDesignInput = { designRef: string } & ResolveOptions;

/** A resolved, ingested and validated design (body of `POST /designs/resolve`). */
export type ResolvedDesign = {
  /** The reference with any credentials stripped. */
  designRef: string;
  documents: DesignDocument[];
  /** Documents per kind (`Region`, `Network`, ... or the schema of other services' documents). */
  countsByKind: Record<string, number>;
  /** Hex SHA-256 of the fetched bytes, so callers can tell whether a design changed. */
  sha256: string;
  sizeBytes: number;
  fromCache: boolean;
  /** The validation findings in Drydock's Status envelope. */
  validation: ValidationStatus;
};

/**
 * Fetches a design, ingests both Drydock formats and validates every Drydock document.
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
  const text = decodeUtf8(fetched.bytes);
  const ts = new Date(deps.clock.now()).toISOString();
  const { documents, messages } = ingestDesign(text, { ts });
  const countsByKind: Record<string, number> = {};
  for (const doc of documents) countsByKind[doc.kind] = (countsByKind[doc.kind] ?? 0) + 1;
  return {
    designRef: fetched.designRef,
    documents,
    countsByKind,
    sha256: createHash('sha256').update(fetched.bytes).digest('hex'),
    sizeBytes: fetched.bytes.length,
    fromCache: fetched.fromCache,
    validation: validationStatus(messages),
  };
}

/** Body of `POST /validatedesign`: Drydock's Validation Status plus its `code`. */
export type ValidateDesignBody = ValidationStatus & { code: 200 | 400 };

/** Input of `validateDesign`, Drydock's `{href, rel?, type?}` plus time limits. */
export type ValidateDesignInput = { href: string; rel?: string; type?: string } & ResolveOptions;

/**
 * Drydock's `POST /validatedesign`: 200 with `code: 200` when the design is valid, 400 with
 * `code: 400` when it is not, including an unusable reference, a missing design and a YAML
 * syntax error (reported as a `DD000` message with line and column). Transient upstream
 * failures (unreachable source, 5xx, timeout) are thrown as `DesignRefError`, so the caller gets
 * a retryable 502/504 instead of a verdict on a design nobody could read.
 */
export async function validateDesign(
  deps: DesignDeps,
  input: ValidateDesignInput,
): Promise<{ statusCode: 200 | 400; body: ValidateDesignBody }> {
  const ts = () => new Date(deps.clock.now()).toISOString();
  const failure = (message: string, diagnostic: string) => {
    const msg: ValidationMessage = validationMessage({
      name: RULE_PROCESSING,
      level: 'Error',
      message,
      diagnostic,
      ts: ts(),
    });
    return { statusCode: 400 as const, body: { ...validationStatus([msg]), code: 400 as const } };
  };
  const { href, rel: _rel, type: _type, ...limits } = input;
  let resolved: ResolvedDesign;
  try {
    resolved = await resolveDesign(deps, { designRef: href, ...limits });
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
  const ok = resolved.validation.status === 'Success';
  return {
    statusCode: ok ? 200 : 400,
    body: { ...resolved.validation, code: ok ? 200 : 400 },
  };
}

function decodeUtf8(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DesignSyntaxError('the design is not UTF-8 text', 1, 1);
  }
}
