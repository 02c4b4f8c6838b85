import { findings, type Rule } from './rule.ts';

const MIN_MTU = 1280;
const MAX_MTU = 65536;

/**
 * DD2003 (`mtu_rational.py`): MTUs between 1280 and 65536, and a network's MTU no larger than
 * that of the link carrying it as its native (default) network.
 */
export const mtuRational: Rule = {
  code: 'DD2003',
  name: 'MTU Rationality',
  check({ site }) {
    const f = findings();
    const outOfRange = (mtu: number) =>
      `MTU must be between ${MIN_MTU} and ${MAX_MTU}, value is ${mtu}`;
    const diagnostic = 'Define a valid MTU. Standard is 1500, Jumbo is 9100.';
    const parentMtu = new Map<string | null, number>();
    for (const link of site.networkLinks) {
      if (link.mtu && (link.mtu < MIN_MTU || link.mtu > MAX_MTU)) {
        f.error(outOfRange(link.mtu), [link.ref], diagnostic);
      }
      parentMtu.set(link.nativeNetwork, link.mtu);
    }
    for (const net of site.networks) {
      const mtu = net.mtu;
      if (!mtu) continue;
      if (mtu < MIN_MTU || mtu > MAX_MTU) f.error(outOfRange(mtu), [net.ref], diagnostic);
      const parent = parentMtu.get(net.name);
      if (parent && mtu > parent) {
        f.error(
          `MTU must be <= the parent Network Link; for Network ${net.name}`,
          [net.ref],
          'Define a MTU less than or equal to that of the carrying network link.',
        );
      }
    }
    return f.list;
  },
};
