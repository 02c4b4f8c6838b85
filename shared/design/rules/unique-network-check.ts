import type { NetworkLink } from '../site-model.ts';
import { findings, type Rule } from './rule.ts';

/**
 * DD1007 (`unique_network_check.py`): a network is allowed on one link only, and a node's
 * interface carries only networks its link allows. Pairs are found through an index of links by
 * network (Drydock compared every pair of links); each pair of links sharing a network is
 * reported, in Drydock's order, naming both links' documents (Drydock named none).
 */
export const uniqueNetworkCheck: Rule = {
  code: 'DD1007',
  name: 'Allowed Network Check',
  check({ site }) {
    const f = findings();
    const links = new Map<string, NetworkLink>();
    for (const link of site.networkLinks) links.set(link.name, link);
    const order = [...links.values()];
    const carriers = new Map<string, number[]>();
    for (const [i, link] of order.entries()) {
      for (const net of new Set(link.allowedNetworks)) {
        const list = carriers.get(net) ?? [];
        list.push(i);
        carriers.set(net, list);
      }
    }
    const shared: { first: number; second: number; rank: number; net: string }[] = [];
    for (const [net, indexes] of carriers) {
      for (let a = 0; a < indexes.length; a++) {
        for (let b = a + 1; b < indexes.length; b++) {
          const first = indexes[a] as number;
          const rank = order[first]?.allowedNetworks.indexOf(net) ?? 0;
          shared.push({ first, second: indexes[b] as number, rank, net });
        }
      }
    }
    shared.sort((x, y) => x.first - y.first || x.second - y.second || x.rank - y.rank);
    for (const { first, second, net } of shared) {
      const one = order[first] as NetworkLink;
      const two = order[second] as NetworkLink;
      f.error(
        `Allowed network ${net} duplicated on NetworkLink ${one.name} and NetworkLink ${two.name}`,
        [one.ref, two.ref],
        'Each network is only allowed to cross a single network link.',
      );
    }
    for (const node of site.nodes) {
      for (const iface of node.interfaces) {
        const link = iface.networkLink === null ? undefined : links.get(iface.networkLink);
        for (const net of iface.networks) {
          if (link === undefined) {
            f.error(
              `Interface ${iface.name} connected to undefined network link ${iface.networkLink ?? 'None'}.`,
              [node.ref],
              'Define the network link attached to this interface.',
            );
          } else if (!link.allowedNetworks.includes(net)) {
            f.error(
              `Interface ${iface.name} attached to network ${net} not allowed on interface link`,
              [node.ref],
              'Interfaces can only be attached to networks allowed on the network link connected to the interface.',
            );
          }
        }
      }
    }
    return f.list;
  },
};
