import { findings, type Rule } from './rule.ts';

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

/** DD1001 (`boot_storage_rational.py`): a root partition of at least 20 GB, a boot one of 1 GB. */
export const bootStorageRational: Rule = {
  code: 'DD1001',
  name: 'Rational Boot Storage',
  check({ site }) {
    const f = findings();
    for (const node of site.nodes) {
      const docs = [node.ref];
      let rootSet = false;
      for (const device of node.storageDevices) {
        for (const partition of device.partitions ?? []) {
          if (partition.name === 'root') {
            const bytes = calculateBytes(partition.size);
            if (bytes === null) {
              f.error(
                `Root volume has an invalid size format on BaremetalNode ${node.name}.`,
                docs,
                'Use a valid root volume storage specification.',
              );
            } else {
              rootSet = true;
              if (bytes < 20 * GB) {
                f.error(
                  `Root volume must be > 20GB on BaremetalNode ${node.name}`,
                  docs,
                  'Configure a larger root volume',
                );
              }
            }
          }
          // As in Drydock, the boot partition is checked once a valid root has been seen.
          if (rootSet && partition.name === 'boot') {
            const bytes = calculateBytes(partition.size);
            if (bytes === null) {
              f.error(
                `Boot volume has an invalid size format on BaremetalNode ${node.name}.`,
                docs,
                'Use a valid boot volume storage specification.',
              );
            } else if (bytes < GB) {
              f.error(
                `Boot volume must be > 1GB on BaremetalNode ${node.name}`,
                docs,
                'Configure a larger boot volume.',
              );
            }
          }
        }
      }
      if (!rootSet) {
        f.error(
          `Root volume has to be set and must be > 20GB on BaremetalNode ${node.name}`,
          docs,
          'All nodes require a defined root volume at least 20GB in size.',
        );
      }
    }
    return f.list;
  },
};
