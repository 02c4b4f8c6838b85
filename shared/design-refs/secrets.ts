import { createCachedSecret, type SecretReader, SecretUnavailableError } from '../aws/secrets.ts';
import { DesignRefError } from './errors.ts';

export type { SecretReader };

/**
 * A design setting's JSON secret (`createCachedSecret`), whose failures are the design
 * reference's: `unavailable` (502, retryable), naming the setting and never the content.
 */
export function createDesignSecret<T>(
  options: Parameters<typeof createCachedSecret<T>>[0],
): () => Promise<T> {
  const read = createCachedSecret(options);
  return () =>
    read().catch((error: unknown) => {
      if (!(error instanceof SecretUnavailableError)) throw error;
      throw new DesignRefError(
        'unavailable',
        error.message,
        error.cause === undefined ? {} : { cause: error.cause },
      );
    });
}
