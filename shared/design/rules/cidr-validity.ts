import { formatNetwork, hasHostBits, parseCidr } from '../ip-address.ts';
import { findings, type Rule } from './rule.ts';

/**
 * DD2006 (`cidr_validity.py`): network CIDRs MAAS accepts, without host bits. A CIDR that is not
 * a network at all is reported here too (Drydock's IP locality check then crashed on it).
 */
export const cidrValidity: Rule = {
  code: 'DD2006',
  name: 'CIDR Validity',
  check({ site }) {
    const f = findings();
    if (site.networks.length === 0) {
      f.warn('No networks found.', [], 'Site design likely incomplete without defined networks');
      return f.list;
    }
    for (const net of site.networks) {
      const parsed = parseCidr(net.cidr);
      if (parsed === null) {
        f.error(
          `The provided CIDR ${net.cidr} is not a valid network`,
          [net.ref],
          'Provide a CIDR acceptable by MAAS, such as 172.16.1.0/24.',
        );
      } else if (hasHostBits(parsed)) {
        f.error(
          `The provided CIDR ${net.cidr} has host bits set`,
          [net.ref],
          `Provide a CIDR acceptable by MAAS: ${formatNetwork(parsed)}`,
        );
      }
    }
    return f.list;
  },
};
