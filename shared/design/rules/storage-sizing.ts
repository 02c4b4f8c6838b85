import { findings, type Rule } from './rule.ts';

/** The whole percentage a size such as `30%` gives, or null for other sizes. */
function percent(size: string | null): number | null {
  const parts = size === null ? [] : size.split('%');
  return parts.length === 2 && /^\s*-?\d+\s*$/.test(parts[0] ?? '') ? Number(parts[0]) : null;
}

/**
 * DD2003 (`storage_sizing.py`): percentage sizes are not negative and sum to at most 99% per
 * device (partitions) and per volume group (logical volumes). Each sum is reported once, per
 * device and per group (Drydock repeated the group check for every device and carried one
 * running sum across groups).
 */
export const storageSizing: Rule = {
  code: 'DD2003',
  name: 'Storage Sizing',
  check({ site }) {
    const f = findings();
    const diagnostic = 'Percentage-based sizes must sum to less than 100%.';
    for (const node of site.nodes) {
      const docs = [node.ref];
      for (const device of node.storageDevices) {
        let sum = 0;
        for (const partition of device.partitions ?? []) {
          const p = percent(partition.size);
          if (p === null) continue;
          if (p < 0) {
            f.error(
              `Storage partition ${partition.name} on device ${device.name} size is < 0`,
              docs,
              'Partition size must be a positive number.',
            );
          }
          sum += p;
        }
        if (sum > 99) {
          f.error(
            `Cumulative partition sizes on device ${device.name} is greater than 99%.`,
            docs,
            diagnostic,
          );
        }
      }
      for (const group of node.volumeGroups) {
        let sum = 0;
        for (const volume of group.logicalVolumes ?? []) {
          const p = percent(volume.size);
          if (p === null) continue;
          if (p < 0) f.error(`Logical Volume ${volume.name} size is < 0`, docs, '');
          sum += p;
        }
        if (sum > 99) {
          f.error(
            `Cumulative logical volume size is greater than 99% in volume group ${group.name}`,
            docs,
            diagnostic,
          );
        }
      }
    }
    return f.list;
  },
};
