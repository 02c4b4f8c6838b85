/**
 * `npm start` with `KEYSTONE_URL`: the local server asks for Keystone tokens exactly as the
 * deployed Keystone API does. The same authenticator the Lambda authoriser runs decides; a
 * refusal gets the answer API Gateway's gateway responses give (401 with `WWW-Authenticate`, 503
 * when Keystone cannot answer), and an accepted token replaces the local IAM identity with the
 * authoriser's context, so the functions see what they see behind API Gateway.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { KeystoneAuthenticator } from '#shared/auth/authenticate.ts';
import { authorizerContextOf } from '#shared/auth/principal.ts';
import { errorToResponse } from '#shared/http/errors.ts';
import type { RouteMatch } from '#shared/http/router.ts';

/** Looks at a request before its function runs: an answer refuses it, undefined lets it pass. */
export type RequestGate = (
  event: APIGatewayProxyEvent,
  match: RouteMatch,
) => Promise<APIGatewayProxyResult | undefined>;

/** What the gate logs with (the service's logger). */
type GateLogger = Parameters<typeof errorToResponse>[2];

/**
 * A gate that lets public routes (no policy rule) through untouched and asks every other request,
 * known route or not, for a valid token, as API Gateway runs the authoriser on every method of
 * the Keystone API but the public probes.
 */
export function createKeystoneGate(
  authenticator: KeystoneAuthenticator,
  options: { keystoneUrl: string; logger: GateLogger },
): RequestGate {
  const challenge = `Keystone uri="${options.keystoneUrl}"`;
  return async (event, match) => {
    if (match.kind === 'found' && match.route.policy === undefined) return undefined;
    try {
      const principal = await authenticator.authenticate(event);
      const context = authorizerContextOf(principal);
      // API Gateway's shape for a Lambda authoriser: its context plus the principal id, and no
      // IAM identity (the request was not signed).
      event.requestContext.authorizer = { ...context, principalId: principal.userId };
      Object.assign(event.requestContext.identity, {
        accountId: null,
        caller: null,
        user: null,
        userArn: null,
        accessKey: null,
      });
      return undefined;
    } catch (error) {
      const requestId = event.requestContext.requestId;
      const mapped = errorToResponse(error, requestId, options.logger);
      return {
        statusCode: mapped.status,
        headers: {
          'Content-Type': 'application/json',
          'X-Request-Id': requestId,
          ...(mapped.status === 401 ? { 'WWW-Authenticate': challenge } : {}),
        },
        body: JSON.stringify(mapped.body),
      };
    }
  };
}
