import type { SignatureV4 } from '@smithy/signature-v4';
import { UsageError } from '#shared/errors.ts';

type Credentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

/** The signer, its hash and the credential chain load only when SigV4 is used. */
async function createSigner(region: string, credentials: Credentials | undefined) {
  const [{ SignatureV4 }, { Sha256 }, { HttpRequest }] = await Promise.all([
    import('@smithy/signature-v4'),
    import('@aws-crypto/sha256-js'),
    import('@smithy/protocol-http'),
  ]);
  const chain =
    credentials ?? (await import('@aws-sdk/credential-providers')).fromNodeProviderChain();
  return {
    HttpRequest,
    signer: new SignatureV4({ service: 'execute-api', region, credentials: chain, sha256: Sha256 }),
  };
}

/** How requests to the service authenticate. */
export type AuthMode = 'none' | 'sigv4' | 'keystone';

export interface ConnectionOptions {
  /** The API's base URL: `http://127.0.0.1:3000`, or a stage's `https://…/prod`. */
  readonly url: string;
  /** Unset: `sigv4` for an AWS host, `keystone` when a token is given, `none` otherwise. */
  readonly auth?: AuthMode | undefined;
  readonly region?: string | undefined;
  /** A Keystone token (X-Auth-Token). */
  readonly token?: string | undefined;
  /** Where SigV4 takes credentials from (default: the standard AWS credential chain). */
  readonly credentials?: Credentials | undefined;
}

export interface Connection {
  readonly url: string;
  readonly auth: AuthMode;
  /** A fetch that authenticates each request as configured. */
  readonly fetch: (request: Request) => Promise<Response>;
}

/** `us-east-1` from `abc123.execute-api.us-east-1.amazonaws.com`. */
export function regionOfHost(host: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(host)?.[1];
}

/** Request headers worth sending on to the service; everything else stays behind. */
const FORWARDED = [
  'accept',
  'content-type',
  'if-match',
  'idempotency-key',
  'x-correlation-id',
  'x-context-marker',
  'last-event-id',
];

/** The authenticated fetch for a configuration, or an explanation of what is missing. */
export function connect(options: ConnectionOptions): Connection {
  const base = new URL(options.url);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new UsageError(`--url must be an http(s) URL (got ${options.url})`);
  }
  const url = base.href.replace(/\/+$/, '');
  const auth: AuthMode =
    options.auth ?? (regionOfHost(base.hostname) ? 'sigv4' : options.token ? 'keystone' : 'none');
  const plain = (request: Request) => fetch(request);
  if (auth === 'none') return { url, auth, fetch: plain };
  if (auth === 'keystone') {
    const token = options.token;
    if (!token)
      throw new UsageError('--auth keystone needs a token: --token, DRYDOCK_TOKEN or OS_TOKEN');
    return {
      url,
      auth,
      fetch: (request) => {
        const headers = copyHeaders(request.headers);
        headers['x-auth-token'] = token;
        return forward(request, headers);
      },
    };
  }
  const region = options.region ?? regionOfHost(base.hostname);
  if (!region) {
    throw new UsageError('--auth sigv4 needs a region: --region or AWS_REGION');
  }
  let signing: ReturnType<typeof createSigner> | undefined;
  return {
    url,
    auth,
    fetch: async (request) => {
      signing ??= createSigner(region, options.credentials);
      const { signer, HttpRequest } = await signing;
      const target = new URL(request.url);
      const body = await bodyOf(request);
      const query: Record<string, string | string[]> = {};
      for (const [key, value] of target.searchParams) {
        const seen = query[key];
        query[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
      }
      const signed = await signer.sign(
        new HttpRequest({
          method: request.method,
          protocol: target.protocol,
          hostname: target.hostname,
          ...(target.port ? { port: Number(target.port) } : {}),
          path: target.pathname,
          query,
          headers: { ...copyHeaders(request.headers), host: target.host },
          ...(body === undefined ? {} : { body }),
        }),
      );
      // fetch sets Host itself (the same value), and refuses to be given one.
      const { host: _host, ...headers } = signed.headers;
      return fetch(target, {
        method: request.method,
        headers,
        body: body ?? null,
        redirect: 'manual',
      });
    },
  };
}

function copyHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED) {
    const value = headers.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}

async function bodyOf(request: Request): Promise<string | undefined> {
  if (request.method === 'GET' || request.method === 'HEAD') return undefined;
  const text = await request.text();
  return text === '' ? undefined : text;
}

async function forward(request: Request, headers: Record<string, string>): Promise<Response> {
  const body = await bodyOf(request);
  return fetch(request.url, {
    method: request.method,
    headers,
    body: body ?? null,
    redirect: 'manual',
  });
}
