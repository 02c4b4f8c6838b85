import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
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
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['64:ff9b::', 96],
  ['fd00:ec2::254', 128],
];

const blockList = new BlockList();
for (const [net, prefix] of BLOCKED_V4) blockList.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of BLOCKED_V6) blockList.addSubnet(net, prefix, 'ipv6');

/**
 * Whether an IP address is in a range the SSRF guard refuses. IPv4-mapped (`::ffff:a.b.c.d`,
 * also in hex form) and IPv4-compatible IPv6 addresses are judged by their embedded IPv4 address.
 */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blockList.check(address, 'ipv4');
  if (family !== 6) return true; // not an IP at all: refuse rather than guess
  const embedded = embeddedIpv4(address);
  if (embedded !== undefined) return blockList.check(embedded, 'ipv4');
  return blockList.check(address, 'ipv6');
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

/** Host names and IPs exempt from the guard, compared case-insensitively, brackets removed. */
export type AllowHosts = ReadonlySet<string>;

/** Normalises a configured or URL host name for allow-list comparison. */
export function normalizeHost(host: string): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare.toLowerCase().replace(/\.$/, '');
}

/** Builds the allow-list from configured entries. */
export function createAllowHosts(entries: readonly string[]): AllowHosts {
  return new Set(entries.map((e) => normalizeHost(e.trim())).filter((e) => e !== ''));
}

/**
 * Checks a URL's host before any connection is attempted. Literal IPs are judged here because
 * Node never calls `lookup` for them; host names are judged later, inside the guarded lookup,
 * on the addresses the socket will actually use.
 */
export function assertHostPermitted(url: URL, allowHosts: AllowHosts, shown: string): void {
  const host = normalizeHost(url.hostname);
  if (allowHosts.has(host)) return;
  if (isIP(host) !== 0 && isBlockedAddress(host)) {
    throw refusedAddress(shown, host);
  }
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
 * A `lookup` for undici's `connect` options that resolves every address of the name, refuses
 * the connection if any of them is blocked, and hands back exactly the checked addresses, so
 * no second resolution (DNS rebinding) can slip another address in. Allow-listed names skip
 * the check. `resolve` is injectable so tests can play DNS.
 */
export function createGuardedLookup(
  allowHosts: AllowHosts,
  resolve: typeof dnsLookup = dnsLookup,
): ConnectLookup {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) {
        callback(err, []);
        return;
      }
      const list = addresses as LookupAddress[];
      if (!allowHosts.has(normalizeHost(hostname))) {
        const blocked = list.find((a) => isBlockedAddress(a.address));
        if (blocked || list.length === 0) {
          callback(refusedAddress(hostname, blocked?.address ?? 'no address'), []);
          return;
        }
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

function refusedAddress(host: string, address: string): DesignRefError {
  return Object.assign(
    new DesignRefError(
      'refused',
      `refused to connect to ${host} (${address}): loopback, private, link-local and other ` +
        'internal addresses are blocked; add the host to DESIGN_ALLOW_HOSTS if it is a trusted design source',
    ),
    { code: 'EDESIGNREFUSED' },
  );
}
