import { Logger } from '@aws-lambda-powertools/logger';
import { createRequestAuthorizer } from '#shared/auth/authorizer.ts';
import { keystoneAuthenticatorFor } from '#shared/auth/keystone-authenticator.ts';
import { getConfig } from '#shared/config.ts';

const config = getConfig();
// Its own logger rather than the composition root's: that one brings the database drivers.
const logger = new Logger({ serviceName: config.log.serviceName, logLevel: config.log.level });
const build = () => {
  if (!config.keystone) throw new Error('KEYSTONE_URL is not set for the Keystone authoriser');
  return keystoneAuthenticatorFor(config.keystone, { logger });
};
// Built at init when configured, so a bad KEYSTONE_POLICY fails the cold start, not a request.
let authenticator = config.keystone ? build() : undefined;

/** API Gateway REQUEST authoriser: the caller's Keystone token in X-Auth-Token. */
export const handler = createRequestAuthorizer(() => (authenticator ??= build()), logger);
