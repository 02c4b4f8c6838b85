import { isIPv4, isIPv6 } from 'node:net';

/** An IP address as a number, with its family. */
export type IpAddress = { version: 4 | 6; value: bigint };

/** A network written as `address/prefix` (a bare address is a single-host network). */
export type IpNetwork = { version: 4 | 6; address: bigint; prefix: number; network: bigint };

const BITS = { 4: 32, 6: 128 } as const;

/** Parses an IPv4 or IPv6 address (Python's `ipaddress.ip_address`); null if it is not one. */
export function parseIp(text: string): IpAddress | null {
  if (isIPv4(text)) {
    const value = text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
    return { version: 4, value };
  }
  if (isIPv6(text)) return { version: 6, value: parseIpv6(text) };
  return null;
}

function parseIpv6(text: string): bigint {
  let groups = text;
  const lastColon = groups.lastIndexOf(':');
  if (groups.includes('.', lastColon)) {
    // An embedded IPv4 tail (::ffff:10.0.0.1) is two groups.
    const [a = 0, b = 0, c = 0, d = 0] = groups
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    const hex = (n: number) => n.toString(16);
    groups = `${groups.slice(0, lastColon + 1)}${hex((a << 8) | b)}:${hex((c << 8) | d)}`;
  }
  const [head = '', rest] = groups.split('::');
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const zeros = rest === undefined ? [] : Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right].reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Parses a CIDR (Python's `ipaddress.ip_network(..., strict=False)`); null if it is not one. */
export function parseCidr(text: string): IpNetwork | null {
  const slash = text.indexOf('/');
  const ip = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (!ip) return null;
  const bits = BITS[ip.version];
  let prefix: number = bits;
  if (slash !== -1) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) return null;
    prefix = Number(p);
  }
  const hostBits = BigInt(bits - prefix);
  const network = (ip.value >> hostBits) << hostBits;
  return { version: ip.version, address: ip.value, prefix, network };
}

/** Whether the CIDR sets bits past its prefix (`ipaddress` refuses it in strict mode). */
export const hasHostBits = (net: IpNetwork): boolean => net.address !== net.network;

/** The CIDR with its host bits cleared, as text (`10.0.0.0/24` for `10.0.0.5/24`). */
export function formatNetwork(net: IpNetwork): string {
  return `${formatIp({ version: net.version, value: net.network })}/${net.prefix}`;
}

function formatIp(ip: IpAddress): string {
  if (ip.version === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 255n)).join('.');
  }
  const groups = Array.from({ length: 8 }, (_, i) =>
    ((ip.value >> BigInt(112 - i * 16)) & 0xffffn).toString(16),
  );
  // The longest run of zero groups becomes '::', as Python prints it.
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length && j - i > 1) best = { start: i, length: j - i };
    i = j;
  }
  if (best.start === -1) return groups.join(':');
  const left = groups.slice(0, best.start).join(':');
  const right = groups.slice(best.start + best.length).join(':');
  return `${left}::${right}`;
}

/** Whether the address lies in the network (same family, same prefix bits). */
export function networkContains(net: IpNetwork, ip: IpAddress): boolean {
  if (net.version !== ip.version) return false;
  const hostBits = BigInt(BITS[net.version] - net.prefix);
  return ip.value >> hostBits === net.network >> hostBits;
}
