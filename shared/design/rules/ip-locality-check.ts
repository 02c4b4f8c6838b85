import { type IpNetwork, networkContains, parseCidr, parseIp } from '../ip-address.ts';
import type { Route } from '../site-model.ts';
import { findings, type Rule } from './rule.ts';

/** A route as Python prints the dict Drydock keeps (`{'subnet': '0.0.0.0/0', 'gateway': None, ...}`). */
function pythonRoute(route: Route): string {
  const show = (v: string | number | null) =>
    v === null ? 'None' : typeof v === 'number' ? String(v) : `'${v}'`;
  return `{'subnet': ${show(route.subnet)}, 'gateway': ${show(route.gateway)}, 'metric': ${show(route.metric)}, 'routedomain': ${show(route.routedomain)}}`;
}

/**
 * DD2002 (`ip_locality_check.py`): route gateways and nodes' static addresses lie in their
 * network's CIDR. Networks whose CIDR is not valid are left to DD2006.
 */
export const ipLocalityCheck: Rule = {
  code: 'DD2002',
  name: 'IP Locality Check',
  check({ site }) {
    const f = findings();
    const cidrs = new Map<string, { text: string; net: IpNetwork | null }>();
    if (site.networks.length === 0) {
      f.warn('No networks found.', [], 'Site design likely incomplete without defined networks');
    } else {
      for (const net of site.networks) {
        const parsed = parseCidr(net.cidr);
        cidrs.set(net.name, { text: net.cidr, net: parsed });
        if (parsed === null) continue;
        for (const route of net.routes) {
          if (!route.gateway) {
            f.error(
              `No gateway found for route ${pythonRoute(route)}.`,
              [net.ref],
              'Define a network-local gateway for the route.',
            );
            continue;
          }
          const gateway = parseIp(route.gateway);
          if (gateway === null || !networkContains(parsed, gateway)) {
            f.error(
              `The gateway IP Address ${route.gateway} is not within the defined CIDR: ${net.cidr} of ${net.name}.`,
              [net.ref],
              'Route gateways must reside on the local network. Check gateway IP and CIDR netmask.',
            );
          }
        }
      }
    }
    if (site.nodes.length === 0) {
      f.warn(
        'No baremetal_nodes found.',
        [],
        'site design likely incomplete without defined networks.',
      );
      return f.list;
    }
    for (const node of site.nodes) {
      for (const assignment of node.addressing) {
        if (assignment.type === 'dhcp') continue;
        const cidr = cidrs.get(assignment.network);
        if (!cidr) {
          f.error(
            `${assignment.network} is not a valid network.`,
            [node.ref],
            'Define network or correct address definition.',
          );
          continue;
        }
        if (cidr.net === null) continue;
        const address = assignment.address === null ? null : parseIp(assignment.address);
        if (address === null || !networkContains(cidr.net, address)) {
          f.error(
            `The IP Address ${assignment.address} is not within the defined CIDR: ${cidr.text} of ${assignment.network}.`,
            [node.ref],
            'Define a valid address for this network.',
          );
        }
      }
    }
    return f.list;
  },
};
