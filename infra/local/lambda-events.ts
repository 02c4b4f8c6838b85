/**
 * What AWS hands a Lambda, built without AWS: the API Gateway REST API proxy event (IAM or
 * Lambda-authoriser authorised), the Lambda context and the EventBridge scheduled event. The
 * local server builds them from HTTP requests and its schedule, the function tests from a short
 * description; one shape for both, so a test exercises what `npm start` serves.
 */
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

/** Where the functions run: the account, region and API a deployed stack would have. */
export interface Deployment {
  readonly accountId: string;
  readonly region: string;
  readonly apiId: string;
  readonly stage: string;
  readonly resourceId: string;
}

/** The IAM principal API Gateway reports for a signed request (`requestContext.identity`). */
export interface IamCaller {
  readonly userArn: string | null;
  readonly caller: string;
  readonly accessKey: string | null;
}

/** One HTTP request as API Gateway receives it. */
export interface GatewayRequest {
  readonly method: string;
  /** The path as requested (no query string). */
  readonly path: string;
  /** The route template that matched (`/api/v1.0/tasks/{task_id}`); the path when none did. */
  readonly resource?: string;
  readonly pathParameters?: Record<string, string> | null;
  /** In order, as sent; names are case-insensitive (the last value of a name wins the single map). */
  readonly headers: readonly (readonly [string, string])[];
  /** Decoded query parameters, in order; none: no query string. */
  readonly query?: readonly (readonly [string, string])[];
  /** The body as text (sent as is) or bytes (text when UTF-8, else base64, as API Gateway does). */
  readonly body: string | Buffer | null;
  /** For a text body: it is already base64 (a binary body described by a test). */
  readonly isBase64Encoded?: boolean;
  /** The signed caller; null for a request a Lambda authoriser let in (`authorizer`). */
  readonly iam: IamCaller | null;
  /** A Lambda authoriser's context (the Keystone authoriser's). */
  readonly authorizer?: Record<string, string> | null;
  readonly sourceIp: string;
  readonly protocol?: string;
  /** API Gateway's request id; a new UUID by default. */
  readonly requestId?: string;
}

/**
 * Single- and multi-value maps as API Gateway builds them (the last value wins in the single
 * map). The maps have no prototype: a header or parameter named `constructor` or `__proto__`
 * is a name like any other, not a property every object already has.
 */
function valueMaps(pairs: readonly (readonly [string, string])[], foldCase: boolean) {
  const single: Record<string, string> = Object.create(null);
  const multi: Record<string, string[]> = Object.create(null);
  // Header names are case-insensitive: values of `If-Match` and `if-match` are one header,
  // spelt as it first came.
  const spelling = foldCase ? new Map<string, string>() : undefined;
  for (const [raw, value] of pairs) {
    let name = raw;
    if (spelling) {
      const folded = raw.toLowerCase();
      name = spelling.get(folded) ?? raw;
      spelling.set(folded, name);
    }
    single[name] = value;
    const values = multi[name];
    if (values) values.push(value);
    else multi[name] = [value];
  }
  return { single, multi, spelling };
}

/** The body as API Gateway passes it: text when it is UTF-8, else base64 (binary). */
function eventBody(
  body: string | Buffer | null,
  base64: boolean,
): { body: string | null; isBase64Encoded: boolean } {
  if (body === null || body.length === 0) return { body: null, isBase64Encoded: false };
  if (typeof body === 'string') return { body, isBase64Encoded: base64 };
  return isUtf8(body)
    ? { body: body.toString('utf8'), isBase64Encoded: false }
    : { body: body.toString('base64'), isBase64Encoded: true };
}

/** The API Gateway REST API proxy event for a request, as the Lambda behind it receives it. */
export function apiGatewayEvent(
  request: GatewayRequest,
  deployment: Deployment,
): APIGatewayProxyEvent {
  const method = request.method.toUpperCase();
  const resource = request.resource ?? request.path;
  const headers = valueMaps(request.headers, true);
  const query = request.query?.length ? valueMaps(request.query, false) : undefined;
  const iam = request.iam;
  const userAgent = headers.single[headers.spelling?.get('user-agent') ?? 'user-agent'] ?? null;
  return {
    resource,
    path: request.path,
    httpMethod: method,
    headers: headers.single,
    multiValueHeaders: headers.multi,
    queryStringParameters: query?.single ?? null,
    multiValueQueryStringParameters: query?.multi ?? null,
    pathParameters: request.pathParameters ?? null,
    stageVariables: null,
    ...eventBody(request.body, request.isBase64Encoded ?? false),
    requestContext: {
      accountId: deployment.accountId,
      apiId: deployment.apiId,
      authorizer: request.authorizer ?? null,
      httpMethod: method,
      path: `/${deployment.stage}${request.path}`,
      protocol: request.protocol ?? 'HTTP/1.1',
      requestId: request.requestId ?? randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: deployment.resourceId,
      resourcePath: resource,
      stage: deployment.stage,
      identity: {
        accessKey: iam?.accessKey ?? null,
        accountId: iam ? deployment.accountId : null,
        apiKey: null,
        apiKeyId: null,
        caller: iam?.caller ?? null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.sourceIp,
        user: iam?.caller ?? null,
        userAgent,
        userArn: iam?.userArn ?? null,
      },
    },
  };
}

/** The Lambda context of one invocation, `timeoutMs` from now. */
export function lambdaContext(
  functionName: string,
  deployment: Deployment,
  options: { readonly timeoutMs?: number; readonly logStreamName?: string } = {},
): Context {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${deployment.region}:${deployment.accountId}:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: options.logStreamName ?? deployment.stage,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** The EventBridge "Scheduled Event" a rule (the lease schedule's, every minute) delivers. */
export function scheduledEvent(deployment: Deployment, ruleName: string): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: deployment.accountId,
    time: new Date().toISOString(),
    region: deployment.region,
    resources: [`arn:aws:events:${deployment.region}:${deployment.accountId}:rule/${ruleName}`],
    detail: {},
  };
}
