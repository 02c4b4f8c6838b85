import { findings, type Rule } from './rule.ts';

/**
 * DD2004 (`network_trunking_rational.py`): a link that carries several networks trunks them; a
 * link that does not trunk names its native network, which carries no VLAN tag.
 */
export const networkTrunkingRational: Rule = {
  code: 'DD2004',
  name: 'Network Trunking Rationality',
  check({ site }) {
    const f = findings();
    const networks = new Map(site.networks.map((n) => [n.name, n]));
    for (const link of site.networkLinks) {
      const untrunked = link.trunkMode === 'disabled';
      if (link.allowedNetworks.length > 1 && untrunked) {
        f.error(
          'If there is more than 1 allowed network, trunking mode must be enabled',
          [link.ref],
          'Reduce the allowed network list to 1 or enable trunking on the link.',
        );
      }
      if (!untrunked) continue;
      if (link.nativeNetwork === null) {
        f.error(
          'Trunking mode is disabled, a trunking default_network must be defined',
          [link.ref],
          'Non-trunked links must have a native network defined.',
        );
        continue;
      }
      const native = networks.get(link.nativeNetwork);
      if (!native) {
        // Drydock's lookup raised here and the whole validation stopped.
        f.error(
          `Network link native network ${link.nativeNetwork} is not defined.`,
          [link.ref],
          'Define the network or correct trunking.default_network.',
        );
      } else if (native.vlanId) {
        f.error(
          'Network link native network has a defined VLAN tag.',
          [native.ref, link.ref],
          'Tagged network not allowed on non-trunked network links.',
        );
      }
    }
    return f.list;
  },
};
