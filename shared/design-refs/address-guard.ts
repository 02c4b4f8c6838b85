import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { buildConnector } from 'undici';
import { DesignRefError } from './errors.ts';

// Ranges no design source should live in unless an operator says so: loopback (the Lambda
// runtime API listens on 127.0.0.1:9001), private networks, link-local (EC2/ECS metadata at
// 169.254.169.254 and 169.254.170.2), carrier-grade NAT, documentation, benchmarking,
// multicast, reserved, and their IPv6 counterparts. Source: aws.md §5.
const BLOCKED_V4: readonly [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const BLOCKED_V6: readonly [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  // Site-local (deprecated, still routed inside some networks).
  ['fec0::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['fd00:ec2::254', 128],
  // Discard-only (RFC 6666).
  ['100::', 64],
  // Transition forms that carry an IPv4 address a relay or translator will reach: IPv4-
  // translated (SIIT, ::ffff:0:a.b.c.d, next to the IPv4-mapped ::ffff:a.b.c.d that is judged
  // by its IPv4 address), NAT64 well-known and local-use prefixes, 6to4 (2002:aabb:ccdd::) and
  // Teredo (2001:0::/32, client address inverted in the last 32 bits). They are refused whole:
  // no design source has a reason to be reached through one, and the refusal names the IPv4
  // address the form carries.
  ['::ffff:0:0:0', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['2002::', 16],
  ['2001::', 32],
];

const blockList = new BlockList();
for (const [net, prefix] of BLOCKED_V4) blockList.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of BLOCKED_V6) blockList.addSubnet(net, prefix, 'ipv6');

/**
 * Whether an IP address is in a range the SSRF guard refuses. IPv4-mapped (`::ffff:a.b.c.d`,
 * also in hex form) and IPv4-compatible IPv6 addresses are judged by their embedded IPv4 address.
 */
export function isBlockedAddress(address: string): boolean {
  return blockedReason(address) !== undefined;
}

/** Why an address is refused (naming the IPv4 address a transition form carries), or undefined. */
export function blockedReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 4)
    return blockList.check(address, 'ipv4') ? 'a private or reserved IPv4 address' : undefined;
  if (family !== 6) return 'not an IP address';
  const embedded = embeddedIpv4(address);
  if (embedded !== undefined) {
    return blockList.check(embedded, 'ipv4') ? `IPv6 form of ${embedded}` : undefined;
  }
  if (!blockList.check(address, 'ipv6')) return undefined;
  const carried = transitionIpv4(address);
  return carried
    ? `an IPv6 transition address carrying ${carried}`
    : 'a private or reserved IPv6 address';
}

/** The IPv4 address a 6to4, Teredo, NAT64 or IPv4-translated address carries, if any. */
function transitionIpv4(address: string): string | undefined {
  const w = expandIpv6(address);
  if (w === undefined) return undefined;
  const quad = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const [w0 = 0, w1 = 0, w2 = 0, , , , w6 = 0, w7 = 0] = w;
  if (w0 === 0x2002) return quad(w1, w2);
  // Teredo stores the client's address with every bit inverted.
  if (w0 === 0x2001 && w1 === 0) return quad(~w6 & 0xffff, ~w7 & 0xffff);
  if (w0 === 0x64 && w1 === 0xff9b) return quad(w6, w7);
  if (w.slice(0, 4).every((x) => x === 0) && w[4] === 0xffff && w[5] === 0) return quad(w6, w7);
  return undefined;
}

/** The IPv4 address inside `::ffff:x` (mapped) or `::x` (deprecated compatible), if any. */
function embeddedIpv4(address: string): string | undefined {
  const words = expandIpv6(address);
  if (words === undefined) return undefined;
  const zeroPrefix = words.slice(0, 5).every((w) => w === 0);
  const mapped = zeroPrefix && words[5] === 0xffff;
  const compatible = zeroPrefix && words[5] === 0 && (words[6] ?? 0) !== 0;
  if (!mapped && !compatible) return undefined;
  const hi = words[6] ?? 0;
  const lo = words[7] ?? 0;
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

function expandIpv6(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  // A trailing dotted quad takes the room of two 16-bit words.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const octets = dotted[1].split('.').map(Number);
    const [a = 0, b = 0, c = 0, d = 0] = octets;
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const words = [...head, ...Array<string>(missing).fill('0'), ...tail].map((w) =>
    Number.parseInt(w, 16),
  );
  return words.some((w) => Number.isNaN(w)) ? undefined : words;
}

/**
 * Hosts exempt from the guard, each on one port: an entry `host:port` (`[v6]:port`) names its
 * port, a bare `host` means the default port of the reference's scheme only (80 for http, 443
 * for https). Allowing `127.0.0.1` must not open `127.0.0.1:9001`, the Lambda runtime API.
 */
export type AllowHosts = {
  /** Whether `host` (as written in the URL, brackets allowed) on `port` is exempt. */
  permits(host: string, port: string, protocol: string): boolean;
};

/** The port a URL uses when it names none. */
export function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}

/** Normalises a configured or URL host name for allow-list comparison. */
export function normalizeHost(host: string): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare.toLowerCase().replace(/\.$/, '');
}

/**
 * One `DESIGN_ALLOW_HOSTS` entry: `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6
 * address. Throws on a malformed entry or a port outside 1–65535.
 */
export function parseAllowEntry(entry: string): { host: string; port: string | undefined } {
  const text = entry.trim();
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(text);
  const named = /^([^:[\]\s]+)(?::(\d+))?$/.exec(text);
  let host: string | undefined;
  let port: string | undefined;
  if (bracketed) [, host, port] = bracketed;
  else if (named) [, host, port] = named;
  else if (isIP(text) === 6) host = text;
  if (!host || (port !== undefined && (Number(port) < 1 || Number(port) > 65_535))) {
    throw new Error(
      `DESIGN_ALLOW_HOSTS entry ${JSON.stringify(text.slice(0, 100))} is not host, host:port or [ipv6]:port`,
    );
  }
  return { host: normalizeHost(host), port: port === undefined ? undefined : String(Number(port)) };
}

/** Builds the allow-list from configured entries (empty ones are skipped). */
export function createAllowHosts(entries: readonly string[]): AllowHosts {
  const allowed = new Map<string, Set<string | undefined>>();
  for (const entry of entries) {
    if (entry.trim() === '') continue;
    const { host, port } = parseAllowEntry(entry);
    const ports = allowed.get(host) ?? new Set();
    ports.add(port);
    allowed.set(host, ports);
  }
  return {
    permits(host, port, protocol) {
      const ports = allowed.get(normalizeHost(host));
      if (!ports) return false;
      const effective = port === '' ? defaultPort(protocol) : String(Number(port));
      return ports.has(effective) || (ports.has(undefined) && effective === defaultPort(protocol));
    },
  };
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** Signature of the `lookup` option of `net.connect`/`tls.connect`. */
export type ConnectLookup = (
  hostname: string,
  options: LookupOptions,
  callback: LookupCallback,
) => void;

/**
 * A `lookup` for sockets to hosts the allow-list does not exempt: it resolves every address of
 * the name, refuses the connection if any of them is blocked, and hands back exactly the
 * checked addresses, so no second resolution (DNS rebinding) can slip another address in.
 * `resolve` is injectable so tests can play DNS.
 */
export function createGuardedLookup(resolve: typeof dnsLookup = dnsLookup): ConnectLookup {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) {
        callback(err, []);
        return;
      }
      const list = addresses as LookupAddress[];
      const blocked = list
        .map((a) => ({ address: a.address, reason: blockedReason(a.address) }))
        .find((a) => a.reason !== undefined);
      if (blocked || list.length === 0) {
        callback(
          refusedAddress(
            hostname,
            blocked?.address ?? 'no address',
            blocked?.reason ?? 'no address',
          ),
          [],
        );
        return;
      }
      if (options.all) {
        callback(null, list);
      } else {
        const first = list[0] as LookupAddress;
        callback(null, first.address, first.family);
      }
    });
  };
}

/** The connector options undici hands a `connect` function. */
type ConnectOptions = Parameters<buildConnector.connector>[0];

/**
 * undici's `connect` for the design fetcher, the one place the SSRF guard runs: every socket,
 * the first request's and each redirect hop's alike (undici's redirect interceptor dispatches
 * them through the same agent), is judged here with its host and port known. An allow-listed
 * host and port resolves normally; an IP literal is judged as written (Node never calls
 * `lookup` for one); every other name goes through the guarded lookup, which judges the
 * addresses the socket will actually use.
 */
export function createGuardedConnector(
  allowHosts: AllowHosts,
  options: { timeout: number; resolve?: typeof dnsLookup },
): buildConnector.connector {
  const resolve = options.resolve ?? dnsLookup;
  const exempt = buildConnector({ timeout: options.timeout, lookup: resolve });
  const guarded = buildConnector({
    timeout: options.timeout,
    lookup: createGuardedLookup(resolve),
  });
  return (opts: ConnectOptions, callback) => {
    if (allowHosts.permits(opts.hostname, String(opts.port ?? ''), opts.protocol)) {
      return exempt(opts, callback);
    }
    const host = normalizeHost(opts.hostname);
    const reason = isIP(host) !== 0 ? blockedReason(host) : undefined;
    if (reason !== undefined) {
      callback(refusedAddress(host, host, reason), null);
      return;
    }
    return guarded(opts, callback);
  };
}

function refusedAddress(host: string, address: string, reason: string): DesignRefError {
  return Object.assign(
    new DesignRefError(
      'refused',
      `refused to connect to ${host} (${address}, ${reason}): loopback, private, link-local and ` +
        'other internal addresses are blocked; add the host (and its port, if not the default) ' +
        'to DESIGN_ALLOW_HOSTS if it is a trusted design source',
    ),
    { code: 'EDESIGNREFUSED' },
  );
}
