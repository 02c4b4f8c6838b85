import { findings, type Rule } from './rule.ts';

/**
 * DD1006 (`rational_network_bond.py`): a disabled bond sets no bond options; an 802.3ad bond's
 * up and down delays are at least its monitoring rate; active-backup and balance-rr bonds set
 * no hash and no peer rate (options only LACP uses). The options are checked as the document
 * writes them: Drydock's ingester dropped them for these modes, so its checks never fired.
 */
export const rationalNetworkBond: Rule = {
  code: 'DD1006',
  name: 'Network Bond Rationality',
  check({ site }) {
    const f = findings();
    for (const link of site.networkLinks) {
      const b = link.bonding;
      if (b.mode === 'disabled') {
        const options = [b.peerRate, b.hash, b.monRate, b.upDelay, b.downDelay];
        if (options.some((o) => o !== null && o !== 0 && o !== '')) {
          f.error(
            'If bonding mode is disabled no other bond option can be specified',
            [link.ref],
            'Enable a bonding mode or remove the bond options.',
          );
        }
      } else if (b.mode === '802.3ad') {
        const mon = b.monRate ?? 0;
        if ((b.upDelay ?? 0) < mon) {
          f.error(
            `Up delay ${b.upDelay} is less than mon rate ${mon}`,
            [link.ref],
            'Link up delay must be equal or greater than the mon_rate',
          );
        }
        if ((b.downDelay ?? 0) < mon) {
          f.error(
            `Down delay ${b.downDelay} is less than mon rate ${mon}`,
            [link.ref],
            'Link down delay must be equal or greater than the mon_rate',
          );
        }
      } else if (b.mode === 'active-backup' || b.mode === 'balance-rr') {
        if (b.hash) {
          f.error(
            `Hash cannot be defined if bond mode is ${b.mode}`,
            [link.ref],
            'Hash mode is only applicable to LACP (802.3ad)',
          );
        }
        if (b.peerRate) {
          f.error(
            `Peer rate cannot be defined if bond mode is ${b.mode}`,
            [link.ref],
            'Peer rate is only applicable to LACP (802.3ad)',
          );
        }
      }
    }
    return f.list;
  },
};
