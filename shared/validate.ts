// Validation with zod into the one error taxonomy, for every transport (HTTP, SQS, the schedule).
import type * as z from '#shared/zod.ts';
import { ValidationError } from './errors.ts';

/** Turns zod issues into the taxonomy's `{path, message}` list. */
export function zodIssues(error: z.core.$ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

/**
 * Validates `input` against `schema`; a failure is a `ValidationError` (400) that names where the
 * problem is (`body.action`, `query.limit`), never a 500.
 */
export function validate<T>(schema: z.ZodMiniType<T>, input: unknown, where: string): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = zodIssues(parsed.error).map((issue) => ({
    path: issue.path === '' ? where : `${where}.${issue.path}`,
    message: issue.message,
  }));
  const first = issues[0];
  throw new ValidationError(
    first ? `Invalid ${where}: ${first.path}: ${first.message}` : `Invalid ${where}`,
    issues,
  );
}
