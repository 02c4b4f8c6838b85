/**
 * Builds the Keystone authenticator from the configuration: the policy document, the service's
 * credentials (Secrets Manager through the shared cached reader, shared/aws/secrets.ts, or a local file), the
 * Keystone client and the cache. The Lambda authoriser and the local server both start here.
 */
import { readFile } from 'node:fs/promises';
import {
  createCachedSecret,
  createSecretsManagerReader,
  type SecretReader,
} from '../aws/secrets.ts';
import type { KeystoneConfig } from '../config.ts';
import { IdentityUnavailableError } from '../errors.ts';
import {
  type AuthLogger,
  createKeystoneAuthenticator,
  type KeystoneAuthenticator,
} from './authenticate.ts';
import { createKeystoneClient, KeystoneServiceSecretSchema } from './keystone-client.ts';
import { createPolicyEngine, parsePolicyDocument } from './policy.ts';

/** Rotated service credentials are picked up within this time, without a cold start. */
const SECRET_TTL_MS = 5 * 60_000;

/** What {@link keystoneAuthenticatorFor} may be given instead of the defaults. */
export interface KeystoneAuthenticatorDeps {
  readonly logger: AuthLogger;
  /** @default Secrets Manager (or the file named by `KEYSTONE_SECRET_FILE`) */
  readonly readSecret?: SecretReader;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/**
 * The authenticator for a Keystone configuration. The policy document is parsed here, so a bad
 * `KEYSTONE_POLICY` fails the caller's start (a Lambda's init phase, `npm start`), not a request.
 */
export function keystoneAuthenticatorFor(
  config: KeystoneConfig,
  deps: KeystoneAuthenticatorDeps,
): KeystoneAuthenticator {
  const now = deps.now ?? Date.now;
  const policy = createPolicyEngine(parsePolicyDocument(config.policy));
  const file = config.secretFile;
  const read: SecretReader =
    deps.readSecret ?? (file ? () => readFile(file, 'utf8') : createSecretsManagerReader());
  const secret = createCachedSecret({
    arn: config.secretArn ?? file ?? '',
    setting: config.secretArn ? 'KEYSTONE_SECRET_ARN' : 'KEYSTONE_SECRET_FILE',
    schema: KeystoneServiceSecretSchema(),
    read,
    now,
    ttlMs: SECRET_TTL_MS,
  });
  const client = createKeystoneClient({
    url: config.url,
    // The reader's errors name the setting and the JSON paths at fault, never the content.
    credentials: () =>
      secret().catch((error: unknown) => {
        throw new IdentityUnavailableError((error as Error).message, { cause: error });
      }),
    timeoutMs: config.timeoutMs,
    now,
  });
  return createKeystoneAuthenticator({
    client,
    policy,
    cacheTtlMs: config.cacheTtlSeconds * 1000,
    now,
    logger: deps.logger,
  });
}
