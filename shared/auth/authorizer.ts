import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { UnauthorizedError } from '../errors.ts';
import { addInvocationLogKeys, runInvocation } from '../invocation.ts';
import type { KeystoneAuthenticator } from './authenticate.ts';
import { authorizerContextOf } from './principal.ts';

/** The Lambda handler type of an API Gateway REST API REQUEST authoriser. */
export type RequestAuthorizerHandler = (
  event: APIGatewayRequestAuthorizerEvent,
  context?: Context,
) => Promise<APIGatewayAuthorizerResult>;

/**
 * `arn:…:execute-api:region:account:api/stage/*`: the answer depends on the token alone (the
 * route's rule is checked by the function, which alone sees the body that names the action), so
 * it allows the whole stage and stays right if API Gateway's result cache is ever turned on.
 */
function stageResource(methodArn: string): string {
  const [api, stage] = methodArn.split('/');
  return `${api}/${stage}/*`;
}

/**
 * The API Gateway REQUEST authoriser for Keystone tokens. A valid token gets an Allow policy and
 * the principal as `context` (the functions read it from `requestContext.authorizer`); a missing,
 * malformed, unknown, revoked or expired one is API Gateway's "Unauthorized" (401, Drydock's body
 * through the stack's gateway response); Keystone unable to answer is any other error, which API
 * Gateway reports as AUTHORIZER_FAILURE, answered 503 by the stack.
 *
 * It runs as one invocation (`invocation.ts`), its request id among the invocation's log keys:
 * the lines of a logger built by `createLogger` (logger.ts) carry it, as the HTTP kit's do.
 */
export function createRequestAuthorizer(
  authenticator: () => KeystoneAuthenticator,
): RequestAuthorizerHandler {
  return (event, context) => runInvocation(context, () => authorize(authenticator, event));
}

async function authorize(
  authenticator: () => KeystoneAuthenticator,
  event: APIGatewayRequestAuthorizerEvent,
): Promise<APIGatewayAuthorizerResult> {
  const requestId = event.requestContext?.requestId;
  if (requestId) addInvocationLogKeys({ requestId });
  try {
    const principal = await authenticator().authenticate(event);
    return {
      principalId: principal.userId,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Action: 'execute-api:Invoke',
            Effect: 'Allow',
            Resource: stageResource(event.methodArn),
          },
        ],
      },
      context: authorizerContextOf(principal),
    };
  } catch (error) {
    // The exact message API Gateway maps to its 401 UNAUTHORIZED response.
    if (error instanceof UnauthorizedError) throw new Error('Unauthorized');
    throw new Error('The identity service is unavailable', { cause: error });
  }
}
