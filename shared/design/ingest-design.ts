import type * as z from '#shared/zod.ts';
import {
  DRYDOCK_ADVISORY_SCHEMAS,
  DRYDOCK_SCHEMAS,
  type DrydockKind,
  isDrydockKind,
} from './document-schemas.ts';
import { DEFAULT_YAML_LIMITS, parseYamlDocuments, type YamlLimits } from './parse-yaml.ts';
import {
  type DocumentReference,
  RULE_PROCESSING,
  RULE_SCHEMA,
  type ValidationLevel,
  type ValidationMessage,
  validationMessage,
} from './validation.ts';

/** How a document was written: Deckhand (`schema`/`metadata`/`data`) or legacy (`apiVersion`/`kind`/`spec`). */
export type DocumentFormat = 'deckhand' | 'legacy';

/**
 * One ingested document. Drydock documents of either format are normalised to the same shape
 * (`schema: drydock/<Kind>/v1`, the payload in `data`); others are passed through untouched.
 */
export type DesignDocument = {
  /** `drydock/<Kind>/v1` for Drydock kinds, otherwise the document's own schema or `apiVersion/kind`. */
  schema: string;
  /** The Drydock kind, or the schema for documents of other services. */
  kind: string;
  name: string | null;
  format: DocumentFormat;
  /** Whether this is one of the eight Drydock kinds this service validates. */
  drydock: boolean;
  metadata: Record<string, unknown>;
  /** `data` (Deckhand) or `spec` (legacy). */
  data: unknown;
  /** 1-based position of the document in the stream and its first line. */
  position: { document: number; line: number };
};

/** Ingestion outcome: every document that could be read, and every finding. */
export type IngestedDesign = {
  documents: DesignDocument[];
  messages: ValidationMessage[];
};

/**
 * Turns YAML text into documents and Drydock validation messages. Schema violations are
 * `DD001` errors, unreadable documents `DD000` errors, findings Drydock's schemas state but never
 * enforced are `DD001` warnings. Legacy documents are validated too (Drydock skipped them,
 * defect 37). Only a YAML syntax error throws (`DesignSyntaxError`, a 400 with line and column).
 */
export function ingestDesign(
  text: string,
  options: { ts: string; limits?: YamlLimits },
): IngestedDesign {
  const { documents: yamlDocs, duplicateKeys } = parseYamlDocuments(
    text,
    options.limits ?? DEFAULT_YAML_LIMITS,
  );
  const documents: DesignDocument[] = [];
  const messages: ValidationMessage[] = [];
  const add = (
    name: string,
    level: ValidationLevel,
    message: string,
    diagnostic: string,
    refs: DocumentReference[] = [],
  ) =>
    messages.push(
      validationMessage({ name, level, message, diagnostic, documents: refs, ts: options.ts }),
    );
  // Document references by position in the stream, for the duplicate-key warnings.
  const refByIndex = new Map<number, DocumentReference>();

  if (yamlDocs.length === 0) {
    add(
      RULE_PROCESSING,
      'Error',
      'Design contains no documents',
      'The design is empty; nothing to validate.',
    );
  }

  for (const { index, line, value } of yamlDocs) {
    const position = { document: index + 1, line };
    const where = `document ${position.document} (line ${line})`;
    if (!isRecord(value)) {
      add(
        RULE_PROCESSING,
        'Error',
        'Error processing document: not a mapping',
        `${where} is a ${Array.isArray(value) ? 'list' : typeof value}, expected a mapping with schema/metadata/data or apiVersion/kind/metadata/spec.`,
      );
      continue;
    }
    const metadata = isRecord(value.metadata) ? value.metadata : {};
    const rawName = metadata.name;
    const name = typeof rawName === 'string' && rawName !== '' ? rawName : null;

    let format: DocumentFormat;
    let schema: string;
    let kind: DrydockKind | undefined;
    let data: unknown;
    if (typeof value.schema === 'string') {
      format = 'deckhand';
      schema = value.schema;
      data = value.data;
      const parts = schema.split('/');
      if (parts.length !== 3) {
        add(
          RULE_PROCESSING,
          'Warning',
          `Document schema '${schema}' is not of the form <namespace>/<Kind>/<version>`,
          `${where} was passed through without validation.`,
          [{ schema, name: name ?? '' }],
        );
      } else if (parts[0] === 'drydock') {
        const [, k = '', version] = parts;
        if (isDrydockKind(k) && version === 'v1') {
          kind = k;
        } else {
          add(
            RULE_SCHEMA,
            'Warning',
            `Unknown Drydock document schema '${schema}'`,
            `${where}: this service validates drydock/<Kind>/v1 for Kind in Region, Rack, NetworkLink, Network, HardwareProfile, HostProfile, BaremetalNode, BootAction; the document was passed through.`,
            [{ schema, name: name ?? '' }],
          );
        }
      }
    } else if (typeof value.apiVersion === 'string') {
      format = 'legacy';
      const k = typeof value.kind === 'string' ? value.kind : '';
      schema = k ? `${value.apiVersion}/${k}` : value.apiVersion;
      data = value.spec;
      if (value.apiVersion === 'drydock/v1') {
        if (isDrydockKind(k)) {
          kind = k;
        } else {
          add(
            RULE_SCHEMA,
            'Warning',
            `Unknown Drydock document kind '${k}'`,
            `${where}: apiVersion drydock/v1 documents are validated for kinds Region, Rack, NetworkLink, Network, HardwareProfile, HostProfile, BaremetalNode, BootAction; the document was passed through.`,
            [{ schema, name: name ?? '' }],
          );
        }
      }
    } else {
      add(
        RULE_PROCESSING,
        'Error',
        'Error processing document: no schema or apiVersion',
        `${where} has neither 'schema' (Deckhand format) nor 'apiVersion' (legacy format).`,
        name ? [{ schema: '', name }] : [],
      );
      continue;
    }

    refByIndex.set(index, {
      schema: kind === undefined ? schema : `drydock/${kind}/v1`,
      name: name ?? '',
    });
    if (kind === undefined) {
      documents.push({
        schema,
        kind: schema,
        name,
        format,
        drydock: false,
        metadata,
        data,
        position,
      });
      continue;
    }

    const canonical = `drydock/${kind}/v1`;
    const ref: DocumentReference = { schema: canonical, name: name ?? '' };
    const payload = format === 'deckhand' ? 'data' : 'spec';
    if (name === null) {
      add(
        RULE_SCHEMA,
        'Error',
        `${kind}:v1 schema validation error: metadata.name is required`,
        `${where}: give the document a non-empty metadata.name.`,
        [ref],
      );
    }
    const errors = issuesOf(DRYDOCK_SCHEMAS[kind], data);
    for (const issue of errors) {
      add(
        RULE_SCHEMA,
        'Error',
        `${kind}:v1 schema validation error: ${issue.message} at ${payload}${issue.path}`,
        `${where} '${name ?? ''}': ${payload}${issue.path} does not match the ${canonical} schema (${issue.code}).`,
        [ref],
      );
    }
    if (errors.length === 0) {
      for (const issue of issuesOf(DRYDOCK_ADVISORY_SCHEMAS[kind], data)) {
        add(
          RULE_SCHEMA,
          'Warning',
          `${kind}:v1 schema advice: ${issue.message} at ${payload}${issue.path}`,
          `${where} '${name ?? ''}': the ${canonical} schema describes ${payload}${issue.path} this way, but Drydock never enforced it.`,
          [ref],
        );
      }
    }
    documents.push({
      schema: canonical,
      kind,
      name,
      format,
      drydock: true,
      metadata,
      data,
      position,
    });
  }
  for (const dup of duplicateKeys.slice(0, MAX_DUPLICATE_KEY_WARNINGS)) {
    const ref = refByIndex.get(dup.documentIndex);
    const key = dup.key.length > 100 ? `${dup.key.slice(0, 100)}…` : dup.key;
    add(
      RULE_PROCESSING,
      'Warning',
      `Duplicate key '${key}' at line ${dup.line}, column ${dup.column}: the last value is used`,
      `Document ${dup.documentIndex + 1} repeats the key '${key}' in one mapping; Drydock (PyYAML) keeps the last value, and so does this service. Remove the earlier one.`,
      ref ? [ref] : [],
    );
  }
  const unlisted = duplicateKeys.length - MAX_DUPLICATE_KEY_WARNINGS;
  if (unlisted > 0) {
    add(
      RULE_PROCESSING,
      'Warning',
      `${unlisted} further duplicate keys not listed`,
      `Only the first ${MAX_DUPLICATE_KEY_WARNINGS} duplicate keys are listed.`,
    );
  }
  return { documents, messages };
}

/** Duplicate keys listed one by one; more are counted in one message, so answers stay bounded. */
export const MAX_DUPLICATE_KEY_WARNINGS = 100;

type Issue = { path: string; message: string; code: string };

function issuesOf(schema: z.ZodMiniType, data: unknown): Issue[] {
  const result = schema.safeParse(data);
  if (result.success) return [];
  return result.error.issues.map((i) => ({
    path: formatPath(i.path),
    message: i.message,
    code: i.code,
  }));
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
