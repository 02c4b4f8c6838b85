/** Severity of a Drydock validation message. */
export type ValidationLevel = 'Error' | 'Warning' | 'Info';

/** A reference to the document a message is about (Drydock's `DocumentReference.to_dict()`). */
export type DocumentReference = { schema: string; name: string };

/**
 * One validation finding in Drydock's `ValidationMessage.to_dict()` shape. `name` is the rule
 * code (`DD001` schema, `DD000` unreadable document, `DD1001`… the orchestrator's rules).
 */
export type ValidationMessage = {
  kind: 'ValidationMessage';
  name: string;
  message: string;
  error: boolean;
  level: ValidationLevel;
  diagnostic: string;
  documents: DocumentReference[];
  ts: string;
};

/** Drydock's Validation Status envelope (`Validation.to_dict()`). */
export type ValidationStatus = {
  kind: 'Status';
  apiVersion: 'v1.0';
  metadata: Record<string, never>;
  message: string;
  reason: string | null;
  status: 'Success' | 'Failure';
  details: { errorCount: number; messageList: ValidationMessage[] };
};

/** Rule codes used by the ingester (Drydock's numbering). */
export const RULE_SCHEMA = 'DD001';
export const RULE_PROCESSING = 'DD000';

/** Builds a message; `error` follows the level, as Drydock's `report_error` sets it. */
export function validationMessage(input: {
  name: string;
  message: string;
  level: ValidationLevel;
  diagnostic: string;
  documents?: DocumentReference[];
  ts: string;
}): ValidationMessage {
  return {
    kind: 'ValidationMessage',
    name: input.name,
    message: input.message,
    error: input.level === 'Error',
    level: input.level,
    diagnostic: input.diagnostic,
    documents: input.documents ?? [],
    ts: input.ts,
  };
}

/** Number of messages Drydock would count as errors. */
export function countErrors(messages: readonly ValidationMessage[]): number {
  return messages.filter((m) => m.error || m.level === 'Error').length;
}

/**
 * Wraps messages in the Status envelope with Drydock's overall messages (`Validator
 * .validate_design`): "Site design passed validation" or "Site design failed validation." with
 * the reason "See detail messages.".
 */
export function validationStatus(messages: readonly ValidationMessage[]): ValidationStatus {
  const errorCount = countErrors(messages);
  const ok = errorCount === 0;
  return {
    kind: 'Status',
    apiVersion: 'v1.0',
    metadata: {},
    message: ok ? 'Site design passed validation' : 'Site design failed validation.',
    reason: ok ? null : 'See detail messages.',
    status: ok ? 'Success' : 'Failure',
    details: { errorCount, messageList: [...messages] },
  };
}
