import type { BaremetalNode, SiteDesign } from '../site-model.ts';
import { findings, type Rule } from './rule.ts';

/** The node's FQDN: its name and its primary network's DNS domain, `local` without one. */
export function nodeFqdn(node: BaremetalNode, site: SiteDesign): string {
  const primary = site.networks.find((n) => n.name === node.primaryNetwork);
  return `${node.name}.${primary?.dnsDomain || 'local'}`;
}

const LABEL = /^[a-z0-9-]{1,63}$/i;

/** DD3003 (`hostname_validity.py`): RFC 1035 names (FQDN ≤ 255, labels ≤ 63 of A-Z, 0-9, -). */
export const hostnameValidity: Rule = {
  code: 'DD3003',
  name: 'Hostname Validity',
  check({ site }) {
    const f = findings();
    const fqdns = site.nodes.map((node) => ({ node, fqdn: nodeFqdn(node, site) }));
    for (const { node, fqdn } of fqdns) {
      if (fqdn.length > 255) {
        f.error(
          `FQDN ${fqdn} is invalid, greater than 255 characters.`,
          [node.ref],
          'RFC 1035 requires full DNS names to be < 256 characters.',
        );
      }
    }
    for (const { node, fqdn } of fqdns) {
      for (const label of fqdn.split('.')) {
        if (!LABEL.test(label)) {
          f.error(
            `FQDN ${fqdn} is invalid - label '${label}' is invalid.`,
            [node.ref],
            'RFC 1035 requires each label in a DNS name to be <= 63 characters and contain only A-Z, a-z, 0-9, and hyphens.',
          );
        }
      }
    }
    return f.list;
  },
};
