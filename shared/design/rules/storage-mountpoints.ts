import { nodeRule, type Rule } from './rule.ts';

/**
 * DD2004 (`storage_mountpoints.py`): no mount point is used twice on a node, among the
 * partitions of its devices and the logical volumes of the groups its devices belong to. As in
 * Drydock, the first repeat is reported and the node's check stops there; other nodes go on
 * (Drydock stopped the whole rule at the first repeat in the site).
 */
export const storageMountpoints: Rule = nodeRule('DD2004', 'Storage Mountpoint', (node, f) => {
  const seen = new Set<string>();
  const groups = new Map(node.volumeGroups.map((g) => [g.name, g]));
  const repeated = (mountpoint: string | null): boolean => {
    if (mountpoint === null) return false;
    if (seen.has(mountpoint)) {
      f.error(
        `Mountpoint "${mountpoint}" already exists`,
        [node.ref],
        'Please use unique mountpoints.',
      );
      return true;
    }
    seen.add(mountpoint);
    return false;
  };
  check: for (const device of node.storageDevices) {
    for (const partition of device.partitions ?? []) {
      if (repeated(partition.mountpoint)) break check;
    }
    const group = device.volumeGroup === null ? undefined : groups.get(device.volumeGroup);
    for (const volume of group?.logicalVolumes ?? []) {
      if (repeated(volume.mountpoint)) break check;
    }
  }
});
