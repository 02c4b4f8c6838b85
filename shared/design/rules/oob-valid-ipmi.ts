import { nodeRule, type Rule } from './rule.ts';

const REQUIRED = ['account', 'credential', 'network'] as const;

/**
 * DD4001 (`oob_valid_ipmi.py`): an IPMI node has an OOB account, credential and network, and an
 * address on that network. (Drydock's message for a missing parameter raised a formatting error
 * instead of being reported; it is reported here.)
 */
export const oobValidIpmi: Rule = nodeRule('DD4001', 'Valid IPMI Configuration', (node, f) => {
  if (node.oobType !== 'ipmi') return;
  for (const parameter of REQUIRED) {
    if (!node.oobParameters[parameter]) {
      f.error(
        `OOB parameter ${parameter} for IPMI node ${node.name} missing.`,
        [node.ref],
        `Define OOB parameter ${parameter}`,
      );
    }
  }
  const network = node.oobParameters.network;
  const address = network
    ? node.addressing.findLast((a) => a.network === network)?.address
    : undefined;
  if (!address) {
    f.error(
      `OOB address missing for IPMI node ${node.name}.`,
      [node.ref],
      'Provide address to node OOB interface.',
    );
  }
});
