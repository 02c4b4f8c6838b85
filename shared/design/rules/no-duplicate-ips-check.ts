import type { BaremetalNode } from '../site-model.ts';
import { findings, type Rule } from './rule.ts';

/** DD2005 (`no_duplicate_ips_check.py`): no static address is given to two nodes (or twice). */
export const noDuplicateIpsCheck: Rule = {
  code: 'DD2005',
  name: 'Duplicated IP Check',
  check({ site }) {
    const f = findings();
    if (site.nodes.length === 0) {
      f.warn(
        'No BaremetalNodes Found.',
        [],
        'Site design unlikely complete with no defined baremetal nodes.',
      );
      return f.list;
    }
    const owners = new Map<string, BaremetalNode>();
    for (const node of site.nodes) {
      for (const { address } of node.addressing) {
        if (address === null) continue;
        const first = owners.get(address);
        if (first) {
          f.error(
            `Duplicate IP Address Found: ${address}`,
            [node.ref, first.ref],
            'Select unique IP addresses for each node.',
          );
        } else {
          owners.set(address, node);
        }
      }
    }
    return f.list;
  },
};
