import {
  documentsOf,
  type ValidationMessage,
  type ValidationStatus,
} from '#shared/client/api-client.ts';

export interface RuleGroup {
  /** The rule code (`DD1001`, `DD001`, …) or `(no rule)`. */
  readonly rule: string;
  readonly errors: number;
  readonly warnings: number;
  readonly documents: readonly DocumentGroup[];
}

export interface DocumentGroup {
  /** `schema name`, or `(whole design)` for messages that name no document. */
  readonly document: string;
  readonly messages: readonly ValidationMessage[];
}

const LEVEL_ORDER: Readonly<Record<string, number>> = { Error: 0, Warning: 1, Info: 2 };

/**
 * Validation messages grouped by rule, then by the document they name (a message naming two
 * documents appears under each). Rules with errors come first, then warnings, then the rest.
 */
export function groupValidation(status: ValidationStatus): RuleGroup[] {
  const rules = new Map<string, Map<string, ValidationMessage[]>>();
  for (const message of status.details.messageList) {
    const rule = message.name ?? '(no rule)';
    const byDocument = rules.get(rule) ?? new Map<string, ValidationMessage[]>();
    rules.set(rule, byDocument);
    const documents = documentsOf(message);
    const names =
      documents.length === 0
        ? ['(whole design)']
        : documents.map((doc) => [doc.schema, doc.name].filter(Boolean).join(' ') || '(unnamed)');
    for (const name of new Set(names)) {
      byDocument.set(name, [...(byDocument.get(name) ?? []), message]);
    }
  }
  const isError = (m: ValidationMessage) => m.level === 'Error' || m.error === true;
  const groups = [...rules].map(([rule, byDocument]) => {
    const messages = new Set([...byDocument.values()].flat());
    return {
      rule,
      errors: [...messages].filter(isError).length,
      warnings: [...messages].filter((m) => m.level === 'Warning').length,
      documents: [...byDocument]
        .map(([document, list]) => ({
          document,
          messages: [...list].sort(
            (a, b) => (LEVEL_ORDER[a.level ?? ''] ?? 3) - (LEVEL_ORDER[b.level ?? ''] ?? 3),
          ),
        }))
        .sort((a, b) => (a.document < b.document ? -1 : a.document > b.document ? 1 : 0)),
    };
  });
  return groups.sort(
    (a, b) =>
      Number(b.errors > 0) - Number(a.errors > 0) ||
      Number(b.warnings > 0) - Number(a.warnings > 0) ||
      (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0),
  );
}
