import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { z } from 'zod';
import { keystonePrincipalFromContext } from '../auth/principal.ts';
import { PayloadTooLargeError, ValidationError } from '../errors.ts';
import type { Caller } from './route.ts';

/** Turns zod issues into the taxonomy's `{path, message}` list. */
export function zodIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

/**
 * Validates `input` against `schema`; a failure is a `ValidationError` (400) that names where the
 * problem is (`body.action`, `query.limit`), never a 500.
 */
export function validate<T>(schema: z.ZodType<T>, input: unknown, where: string): T {
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

/** The raw body as text, checked against the size limit before anything parses it. */
export function rawBody(event: APIGatewayProxyEvent, maxBytes: number): string | null {
  if (event.body === null || event.body === undefined) return null;
  const text = event.isBase64Encoded
    ? Buffer.from(event.body, 'base64').toString('utf8')
    : event.body;
  const size = Buffer.byteLength(text, 'utf8');
  if (size > maxBytes) {
    throw new PayloadTooLargeError(
      `Request body of ${size} bytes is larger than the limit of ${maxBytes} bytes.`,
    );
  }
  return text;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;

/**
 * Parses a JSON body. Drydock answered 500 for a wrong content type, an empty body or malformed
 * JSON (defect 40); these are the caller's mistakes, so they are 400s here.
 */
export function parseJsonBody(
  text: string | null,
  contentType: string | undefined,
  required: boolean,
): unknown {
  if (text === null || text.trim() === '') {
    if (required) throw new ValidationError('A JSON request body is required.');
    return undefined;
  }
  if (!contentType || !JSON_TYPE.test(contentType.trim())) {
    throw new ValidationError(
      `Content-Type must be application/json (got ${contentType ? JSON.stringify(contentType.slice(0, 100)) : 'none'}).`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`Malformed JSON body: ${(error as Error).message}`);
  }
}

/**
 * Single-valued query parameters. A repeated parameter (`?limit=1&limit=2`) is refused rather
 * than silently taking one of the values.
 */
export function queryParams(event: APIGatewayProxyEvent): Record<string, string> {
  const multi = event.multiValueQueryStringParameters ?? {};
  for (const [name, values] of Object.entries(multi)) {
    if (values && values.length > 1) {
      throw new ValidationError(`Query parameter ${name} is given more than once.`, [
        { path: `query.${name}`, message: 'repeated parameter' },
      ]);
    }
  }
  const single = event.queryStringParameters ?? {};
  return Object.fromEntries(
    Object.entries(single).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/** The caller as API Gateway's authorisation saw it: IAM's identity or the Keystone authoriser's. */
export function callerOf(event: APIGatewayProxyEvent): Caller {
  const identity = event.requestContext?.identity;
  return {
    userArn: identity?.userArn ?? null,
    caller: identity?.caller ?? null,
    accountId: identity?.accountId ?? null,
    sourceIp: identity?.sourceIp ?? null,
    keystone: keystonePrincipalFromContext(event.requestContext?.authorizer),
  };
}

/**
 * `created_by` for a caller: the Keystone user name (Drydock's `context.user`), else the IAM
 * principal ARN, else the caller id, else null (anonymous).
 */
export function principalOf(caller: Caller): string | null {
  return caller.keystone?.user ?? caller.userArn ?? caller.caller ?? null;
}
