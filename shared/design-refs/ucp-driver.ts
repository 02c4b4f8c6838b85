import type { DesignDriver } from './design-ref.ts';
import { DesignRefError } from './errors.ts';
import { fetchHttp, type HttpFetchContext } from './http-fetch.ts';
import type { KeystoneTokens } from './keystone.ts';

/**
 * `deckhand+http(s)://` and `promenade+http(s)://` (UCP services): the prefix is stripped and
 * the request carries a Keystone token (`X-Auth-Token`); after a 401 it authenticates again once.
 */
export function createUcpDriver(options: {
  readonly http: HttpFetchContext;
  readonly keystone: KeystoneTokens | undefined;
}): DesignDriver {
  const { http, keystone } = options;
  return async (ref, limits) => {
    if (!keystone) {
      throw new DesignRefError(
        'refused',
        `${ref.scheme}:// references need Keystone credentials: set DESIGN_KEYSTONE_SECRET_ARN (under npm start, DESIGN_KEYSTONE_SECRET_FILE or the OS_* variables also serve)`,
      );
    }
    if (ref.hasCredentials) {
      throw new DesignRefError(
        'refused',
        `${ref.redacted}: ${ref.scheme}:// references authenticate with Keystone; remove the embedded credentials`,
      );
    }
    const get = async () =>
      fetchHttp(http, {
        url: ref.url,
        shown: ref.redacted,
        headers: {
          accept: 'application/x-yaml, text/yaml, */*',
          'x-auth-token': await keystone.token(limits.deadline, limits.signal),
        },
        ...limits,
      });
    try {
      return (await get()).bytes;
    } catch (error) {
      // A token revoked before its expiry: authenticate again, once.
      if (error instanceof DesignRefError && error.upstreamStatus === 401) {
        keystone.invalidate();
        return (await get()).bytes;
      }
      throw error;
    }
  };
}
