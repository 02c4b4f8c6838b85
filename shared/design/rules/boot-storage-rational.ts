import type { DocumentReference } from '../validation.ts';
import { type Findings, nodeRule, type Rule } from './rule.ts';

const GB = 1000 ** 3;
const UNITS: Readonly<Record<string, number>> = {
  m: 1000 ** 2,
  M: 1000 ** 2,
  mb: 1000 ** 2,
  MB: 1000 ** 2,
  g: GB,
  G: GB,
  gb: GB,
  GB,
  t: 1000 ** 4,
  T: 1000 ** 4,
  tb: 1000 ** 4,
  TB: 1000 ** 4,
};

/**
 * Bytes in a size such as `20g` or `500MB` (Drydock's `SimpleBytes.calculate_bytes`: decimal
 * units, matched at the start of the string); null when it is not such a size.
 */
export function calculateBytes(size: string | null): number | null {
  const match = size === null ? null : /^(\d+)([mMbBgGtT]{1,2})/.exec(size);
  const unit = match?.[2] === undefined ? undefined : UNITS[match[2]];
  return match && unit !== undefined ? Number(match[1]) * unit : null;
}

/** The two partitions DD1001 sizes, with Drydock's words for each. */
const VOLUMES = {
  root: { label: 'Root', min: 20 * GB, tooSmall: '> 20GB', fix: 'Configure a larger root volume' },
  boot: { label: 'Boot', min: GB, tooSmall: '> 1GB', fix: 'Configure a larger boot volume.' },
} as const;

/**
 * Reports a root or boot partition whose size is not a size, or is under the volume's minimum;
 * answers whether it was a size at all.
 */
function checkSize(
  f: Findings,
  volume: keyof typeof VOLUMES,
  size: string | null,
  node: { name: string; ref: DocumentReference },
): boolean {
  const { label, min, tooSmall, fix } = VOLUMES[volume];
  const docs = [node.ref];
  const bytes = calculateBytes(size);
  if (bytes === null) {
    f.error(
      `${label} volume has an invalid size format on BaremetalNode ${node.name}.`,
      docs,
      `Use a valid ${volume} volume storage specification.`,
    );
    return false;
  }
  if (bytes < min)
    f.error(`${label} volume must be ${tooSmall} on BaremetalNode ${node.name}`, docs, fix);
  return true;
}

/** DD1001 (`boot_storage_rational.py`): a root partition of at least 20 GB, a boot one of 1 GB. */
export const bootStorageRational: Rule = nodeRule('DD1001', 'Rational Boot Storage', (node, f) => {
  let rootSet = false;
  for (const device of node.storageDevices) {
    for (const partition of device.partitions ?? []) {
      if (partition.name === 'root' && checkSize(f, 'root', partition.size, node)) {
        rootSet = true;
      }
      // As in Drydock, the boot partition is checked once a valid root has been seen.
      if (rootSet && partition.name === 'boot') checkSize(f, 'boot', partition.size, node);
    }
  }
  if (!rootSet) {
    f.error(
      `Root volume has to be set and must be > 20GB on BaremetalNode ${node.name}`,
      [node.ref],
      'All nodes require a defined root volume at least 20GB in size.',
    );
  }
});
