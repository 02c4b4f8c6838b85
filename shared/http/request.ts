import type { APIGatewayProxyEvent } from 'aws-lambda';
import { keystonePrincipalFromContext } from '../auth/principal.ts';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../errors.ts';
import { assertSoundInput, decodeUtf8, isSoundText, parseJsonText } from '../input.ts';
import type { Caller } from './route.ts';

/**
 * The raw body as text, checked against the size limit before anything parses it. A binary
 * (base64) body must decode as UTF-8: bytes that are not would otherwise become U+FFFD.
 */
export function rawBody(event: APIGatewayProxyEvent, maxBytes: number): string | null {
  if (event.body === null || event.body === undefined) return null;
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : undefined;
  const size = bytes ? bytes.length : Buffer.byteLength(event.body, 'utf8');
  if (size > maxBytes) {
    throw new PayloadTooLargeError(
      `Request body of ${size} bytes is larger than the limit of ${maxBytes} bytes.`,
    );
  }
  return bytes ? decodeUtf8(bytes, 'body') : event.body;
}

/** Headers a request may carry once: two values would leave the service guessing which counts. */
const SINGLE_VALUED_HEADERS = ['content-type', 'content-encoding', 'if-match', 'idempotency-key'];

/**
 * Checks the request's headers before anything reads them: a compressed body (any
 * `Content-Encoding` but `identity`) is 415, since nothing here inflates it and a gzip bomb must
 * not be parsed as JSON; a header that must be single-valued but is repeated is 400; a header
 * value with NUL or ill-formed Unicode is 400. Header names are not data: unknown ones, however
 * they are spelt, are ignored.
 */
export function assertSoundHeaders(event: APIGatewayProxyEvent): void {
  const headers = event.headers ?? {};
  const multi = event.multiValueHeaders ?? {};
  const hasBody = event.body !== null && event.body !== undefined && event.body !== '';
  const encodings =
    multi['content-encoding'] ??
    (headers['content-encoding'] === undefined ? undefined : [headers['content-encoding']]);
  if (hasBody && encodings) {
    const codings = encodings
      .flatMap((value) => (value ?? '').split(','))
      .map((coding) => coding.trim().toLowerCase())
      .filter((coding) => coding !== '' && coding !== 'identity');
    if (codings.length > 0) {
      throw new UnsupportedMediaTypeError(
        `Content-Encoding ${codings.join(', ').slice(0, 64)} is not accepted: send the body uncompressed.`,
      );
    }
  }
  for (const name of SINGLE_VALUED_HEADERS) {
    if ((multi[name]?.length ?? 0) > 1) {
      throw new ValidationError(`The ${name} header is given more than once.`, [
        { path: `headers.${name}`, message: 'repeated header' },
      ]);
    }
  }
  for (const name in headers) {
    const value = headers[name];
    // The field's name is only spelt out for a value that fails.
    if (typeof value === 'string' && !isSoundText(value)) {
      assertSoundInput(value, `headers.${name}`);
    }
  }
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
  return parseJsonText(text, 'body');
}

/**
 * Single-valued query parameters. A repeated parameter (`?limit=1&limit=2`) is refused rather
 * than silently taking one of the values; names and values pass the edge check.
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
  const params = Object.fromEntries(
    Object.entries(single).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  assertSoundInput(params, 'query');
  return params;
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
