import { ValidationError } from '#shared/errors.ts';
import { LIMITS } from '../limits.ts';

/** Every scheme a design reference may use, each backed by a driver. */
export const DESIGN_REF_SCHEMES = [
  'file',
  'http',
  'https',
  'deckhand+http',
  'deckhand+https',
  'promenade+http',
  'promenade+https',
  's3',
] as const;
export type DesignRefScheme = (typeof DESIGN_REF_SCHEMES)[number];

/** Longest reference accepted; far above real ones, low enough to keep logs and keys sane. */
export const MAX_DESIGN_REF_LENGTH = LIMITS.designRef;

/** A parsed design reference; `url` still carries any userinfo, `redacted` never does. */
export type DesignRef = {
  scheme: DesignRefScheme;
  /** The reference as a URL (for `<svc>+http(s)` the scheme is already stripped to http(s)). */
  url: URL;
  /**
   * The reference with userinfo and query values removed (`redactUrl`): what logs, errors and
   * responses show.
   */
  redacted: string;
  /** Whether the reference embeds a username or password. */
  hasCredentials: boolean;
};

const isScheme = (value: string): value is DesignRefScheme =>
  (DESIGN_REF_SCHEMES as readonly string[]).includes(value);

/**
 * Parses and checks a design reference without touching the network or the disk.
 * Throws `ValidationError` (400) for a malformed URI, an unknown scheme, a relative `file://`
 * path, a missing host, or an `s3://` reference without a bucket and key.
 * @example parseDesignRef('deckhand+https://deckhand.example/api/v1.0/revisions/3/rendered-documents')
 */
export function parseDesignRef(ref: string): DesignRef {
  if (typeof ref !== 'string' || ref.length === 0) {
    throw invalid('design reference is empty');
  }
  if (ref.length > MAX_DESIGN_REF_LENGTH) {
    throw invalid(`design reference is longer than ${MAX_DESIGN_REF_LENGTH} characters`);
  }
  // Spaces and control characters are never part of a URI; rejecting them avoids the WHATWG
  // parser silently stripping or re-encoding what the caller meant.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  if (/[\u0000-\u0020\u007f]/.test(ref)) {
    throw invalid('design reference contains whitespace or control characters');
  }
  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(ref);
  if (!schemeMatch?.[1]) {
    throw invalid('design reference is not an absolute URI (expected <scheme>://...)');
  }
  const scheme = schemeMatch[1].toLowerCase();
  if (!isScheme(scheme)) {
    // The scheme itself is safe to echo: it cannot hold credentials.
    throw invalid(
      `unsupported design reference scheme '${scheme.slice(0, 32)}': expected one of ${DESIGN_REF_SCHEMES.join(', ')}`,
    );
  }
  const plus = scheme.indexOf('+');
  const transport = plus === -1 ? scheme : scheme.slice(plus + 1);
  let url: URL;
  try {
    url = new URL(transport + ref.slice(scheme.length));
  } catch {
    throw invalid(`design reference is not a valid ${scheme} URI`);
  }
  const hasCredentials = url.username !== '' || url.password !== '';
  const redacted = redactUrl(url, scheme.slice(0, plus + 1));
  const fail = (reason: string): ValidationError =>
    invalid(`design reference ${redacted} is invalid: ${reason}`);

  switch (scheme) {
    case 'file':
      if (url.host !== '' && url.host !== 'localhost') {
        // Drydock read `file://a/b` as host `a`, path `/b` and opened the wrong file.
        throw fail(`file references need an absolute path (file:///path), not host '${url.host}'`);
      }
      if (hasCredentials) throw fail('file references cannot carry credentials');
      // An encoded NUL (%00) or control character cannot be part of a file name; the operating
      // system would refuse the path with an error that looks like an outage.
      if (/%(?:[01][0-9a-f]|7f)/i.test(url.pathname)) {
        throw fail('the path holds an encoded control character (such as %00)');
      }
      if (url.pathname === '/' || url.pathname.endsWith('/')) {
        throw fail('the path names a folder, not a file');
      }
      if (url.search !== '') throw fail('file references take no query string');
      break;
    case 's3': {
      if (hasCredentials) throw fail('s3 references cannot carry credentials');
      if (url.hostname === '') throw fail('expected s3://<bucket>/<key>');
      if (url.port !== '') throw fail('an s3 bucket name has no port');
      if (url.pathname.length <= 1) throw fail('expected s3://<bucket>/<key>: the key is missing');
      if (url.search !== '') throw fail('s3 references take no query string');
      break;
    }
    default:
      if (url.hostname === '') throw fail('the host is missing');
  }
  return { scheme, url, redacted, hasCredentials };
}

/**
 * The check task creation runs before storing a reference: syntax and scheme as
 * `parseDesignRef`, plus a refusal of embedded credentials, which would otherwise sit in the
 * database and come back in every task listing (Drydock's defect 34).
 */
export function assertStorableDesignRef(ref: string): DesignRef {
  const parsed = parseDesignRef(ref);
  if (parsed.hasCredentials) {
    throw new ValidationError(
      `design reference ${parsed.redacted} embeds credentials, which would be stored with the ` +
        'task: remove them and configure them per host instead (DESIGN_HTTP_CREDENTIALS_SECRET_ARN ' +
        'for http(s), DESIGN_KEYSTONE_SECRET_ARN for deckhand/promenade)',
      [{ path: 'design_ref', message: 'credentials are not allowed in a stored design reference' }],
    );
  }
  return parsed;
}

/**
 * The reference with any userinfo removed, for logs and messages. Never throws: input that does
 * not parse yields a placeholder rather than an echo that might contain a secret.
 */
export function redactDesignRef(ref: string): string {
  try {
    return parseDesignRef(ref).redacted;
  } catch {
    return '<invalid design reference>';
  }
}

/** What a redacted query value reads as. */
export const REDACTED = 'redacted';

/**
 * The one redaction of a URL for display, used wherever a design reference or a fetched URL is
 * shown (errors, logs, responses, redirect hops): userinfo and the fragment are removed, and
 * every query value is replaced by `redacted`, keeping the names (`?token=redacted`), because
 * presigned URLs and `?token=` references carry their credential there. `prefix` restores a
 * `deckhand+` style scheme prefix. Cache keys must not use it: two references differing only
 * in a query value are different designs.
 * @example redactUrl(new URL('https://u:p@h/x?token=t#f')) // 'https://h/x?token=redacted'
 */
export function redactUrl(url: URL, prefix = ''): string {
  const copy = withoutUserinfo(url);
  copy.search = '';
  const query = url.search
    .slice(1)
    .split('&')
    .filter((pair) => pair !== '')
    // A bare `?abc` is all value; of `name=value` the name stays.
    .map((pair) =>
      pair.includes('=') ? `${pair.slice(0, pair.indexOf('='))}=${REDACTED}` : REDACTED,
    );
  return `${prefix}${copy.href}${query.length > 0 ? `?${query.join('&')}` : ''}`;
}

/**
 * A copy of `url` without userinfo and fragment: what may be requested. Credentials travel in
 * headers instead (never in a URL a server might log or redirect with), and the fragment is
 * never sent anywhere and may be used to smuggle tokens. `redactUrl` starts from it.
 */
export function withoutUserinfo(url: URL): URL {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  copy.hash = '';
  return copy;
}

function invalid(message: string): ValidationError {
  return new ValidationError(message, [{ path: 'design_ref', message }]);
}

/** Fetches a parsed reference's bytes within the resolution's deadline (one per scheme). */
export type DesignDriver = (
  ref: DesignRef,
  limits: { deadline: number; signal: AbortSignal },
) => Promise<Buffer>;
