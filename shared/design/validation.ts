/** Severity of a Drydock validation message. */
export type ValidationLevel = 'Error' | 'Warning' | 'Info';

/** A reference to the document a message is about (Drydock's `DocumentReference`). */
export type DocumentReference = { schema: string; name: string };

/**
 * One validation finding in Drydock's `ValidationMessage` shape. `name` is the rule code:
 * `DD001` for schema violations, `DD000` for documents that could not be processed.
 */
export type ValidationMessage = {
  name: string;
  message: string;
  error: boolean;
  level: ValidationLevel;
  diagnostic: string;
  docs: DocumentReference[];
  ts: string;
};

/** Drydock's Validation Status envelope (`Validation.to_dict()`). */
export type ValidationStatus = {
  kind: 'Status';
  apiVersion: 'v1.0';
  metadata: Record<string, never>;
  message: string;
  reason: string;
  status: 'Success' | 'Failure';
  details: { errorCount: number; messageList: ValidationMessage[] };
};

/** Rule codes used by the ingester (Drydock's numbering). */
export const RULE_SCHEMA = 'DD001';
export const RULE_PROCESSING = 'DD000';

/** Builds a message; `error` follows the level, as Drydock's `add_detail_msg` counts it. */
export function validationMessage(input: {
  name: string;
  message: string;
  level: ValidationLevel;
  diagnostic: string;
  docs?: DocumentReference[];
  ts: string;
}): ValidationMessage {
  return {
    name: input.name,
    message: input.message,
    error: input.level === 'Error',
    level: input.level,
    diagnostic: input.diagnostic,
    docs: input.docs ?? [],
    ts: input.ts,
  };
}

/** Number of messages Drydock would count as errors. */
export function countErrors(messages: readonly ValidationMessage[]): number {
  return messages.filter((m) => m.error || m.level === 'Error').length;
}

/** Wraps messages in the Status envelope; the status fails as soon as one message is an error. */
export function validationStatus(messages: readonly ValidationMessage[]): ValidationStatus {
  const errorCount = countErrors(messages);
  return {
    kind: 'Status',
    apiVersion: 'v1.0',
    metadata: {},
    message:
      errorCount === 0
        ? 'Site design is valid'
        : `Site design is invalid: ${errorCount} error${errorCount === 1 ? '' : 's'}`,
    reason: 'Validation',
    status: errorCount === 0 ? 'Success' : 'Failure',
    details: { errorCount, messageList: [...messages] },
  };
}
