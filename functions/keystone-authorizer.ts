import { createRequestAuthorizer } from '#shared/auth/authorizer.ts';
import { keystoneAuthenticatorFor } from '#shared/auth/keystone-authenticator.ts';
import { getConfig } from '#shared/config.ts';
import { createLogger } from '#shared/logger.ts';

const config = getConfig();
// The service's logger (its lines carry the invocation's request ids), from logger.ts rather
// than the composition root's getLogger: deps.ts brings the database drivers into the bundle.
const logger = createLogger(config);
const build = () => {
  if (!config.keystone) throw new Error('KEYSTONE_URL is not set for the Keystone authoriser');
  return keystoneAuthenticatorFor(config.keystone, { logger });
};
// Built at init when configured, so a bad KEYSTONE_POLICY fails the cold start, not a request.
let authenticator = config.keystone ? build() : undefined;

/** API Gateway REQUEST authoriser: the caller's Keystone token in X-Auth-Token. */
export const handler = createRequestAuthorizer(() => (authenticator ??= build()));
