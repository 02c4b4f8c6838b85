import * as z from '#shared/zod.ts';
import { type DesignDriver, withoutUserinfo } from './design-ref.ts';
import { fetchHttp, type HttpFetchContext } from './http-fetch.ts';

/** `DESIGN_HTTP_CREDENTIALS_SECRET_ARN`: Basic credentials per `host` or `host:port`. */
export const HostCredentialsSchema = z.lazySchema(() =>
  z.record(z.string(), z.object({ username: z.string(), password: z.string() })),
);

/**
 * `http://` and `https://`: Basic auth from the reference's own userinfo (used for this fetch
 * only), else from the per-host credentials secret.
 */
export function createHttpDriver(options: {
  readonly http: HttpFetchContext;
  readonly hostCredentials: (() => Promise<z.Parsed<typeof HostCredentialsSchema>>) | undefined;
}): DesignDriver {
  const { http, hostCredentials } = options;
  return async (ref, limits) => {
    const headers: Record<string, string> = { accept: 'application/x-yaml, text/yaml, */*' };
    if (ref.hasCredentials) {
      // Credentials in the reference itself are used for this fetch only; they never reach a
      // log line, an error, the cache key or the database.
      headers.authorization = basic(safeDecode(ref.url.username), safeDecode(ref.url.password));
    } else if (hostCredentials) {
      const table = await hostCredentials();
      const entry = table[ref.url.host.toLowerCase()] ?? table[ref.url.hostname.toLowerCase()];
      if (entry) headers.authorization = basic(entry.username, entry.password);
    }
    const res = await fetchHttp(http, {
      url: withoutUserinfo(ref.url),
      shown: ref.redacted,
      headers,
      ...limits,
    });
    return res.bytes;
  };
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
