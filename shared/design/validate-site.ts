import { bootStorageRational } from './rules/boot-storage-rational.ts';
import { bootactionDefined, bootactionPackageListValid } from './rules/bootaction-validity.ts';
import { cidrValidity } from './rules/cidr-validity.ts';
import { hostnameValidity } from './rules/hostname-validity.ts';
import { hugepagesValidity } from './rules/hugepages-validity.ts';
import { ipLocalityCheck } from './rules/ip-locality-check.ts';
import { mtuRational } from './rules/mtu-rational.ts';
import { networkTrunkingRational } from './rules/network-trunking-rational.ts';
import { noDuplicateIpsCheck } from './rules/no-duplicate-ips-check.ts';
import { oobValidIpmi } from './rules/oob-valid-ipmi.ts';
import { oobValidLibvirt } from './rules/oob-valid-libvirt.ts';
import { platformSelection } from './rules/platform-selection.ts';
import { rationalNetworkBond } from './rules/rational-network-bond.ts';
import type { Rule, RuleContext } from './rules/rule.ts';
import { storageMountpoints } from './rules/storage-mountpoints.ts';
import { storagePartitioning } from './rules/storage-partitioning.ts';
import { storageSizing } from './rules/storage-sizing.ts';
import { uniqueNetworkCheck } from './rules/unique-network-check.ts';
import { type ValidationMessage, validationMessage } from './validation.ts';

/** Drydock's 18 rules, in the order its `Validator` runs them (`validator.py` `rule_set`). */
export const RULES: readonly Rule[] = [
  bootStorageRational,
  cidrValidity,
  hugepagesValidity,
  ipLocalityCheck,
  mtuRational,
  networkTrunkingRational,
  noDuplicateIpsCheck,
  platformSelection,
  rationalNetworkBond,
  storagePartitioning,
  storageSizing,
  storageMountpoints,
  uniqueNetworkCheck,
  hostnameValidity,
  oobValidIpmi,
  oobValidLibvirt,
  bootactionDefined,
  bootactionPackageListValid,
];

/** Messages one rule may list; the rest are counted in one last message, so answers stay bounded. */
export const MAX_MESSAGES_PER_RULE = 1_000;

/**
 * Runs every rule over the compiled site (Drydock's `Validator.validate_design` with each rule's
 * `execute`): each message is prefixed with the rule's name, and a rule with no error adds
 * "Validation successful." as an Info.
 */
export function validateSite(context: RuleContext, ts: string): ValidationMessage[] {
  const messages: ValidationMessage[] = [];
  for (const rule of RULES) {
    const found = rule.check(context);
    const listed = found.slice(0, MAX_MESSAGES_PER_RULE);
    for (const f of listed) {
      messages.push(
        validationMessage({
          name: rule.code,
          level: f.level,
          message: `${rule.name}: ${f.message}`,
          diagnostic: f.diagnostic,
          documents: f.documents,
          ts,
        }),
      );
    }
    const omitted = found.slice(MAX_MESSAGES_PER_RULE);
    if (omitted.length > 0) {
      const errors = omitted.filter((f) => f.level === 'Error').length;
      messages.push(
        validationMessage({
          name: rule.code,
          level: errors > 0 ? 'Error' : 'Warning',
          message: `${rule.name}: ${omitted.length} further findings not listed (${errors} errors)`,
          diagnostic: `Only the first ${MAX_MESSAGES_PER_RULE} findings of a rule are listed; fix these and validate again.`,
          ts,
        }),
      );
    }
    const passed = !found.some((f) => f.level === 'Error');
    if (passed && (rule.confirms?.(context) ?? true)) {
      messages.push(
        validationMessage({
          name: rule.code,
          level: 'Info',
          message: `${rule.name}: Validation successful.`,
          diagnostic: '',
          ts,
        }),
      );
    }
  }
  return messages;
}
