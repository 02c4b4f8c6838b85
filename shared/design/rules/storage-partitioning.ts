import { nodeRule, type Rule } from './rule.ts';

/**
 * DD2002 (`storage_partititioning.py`, Drydock's spelling): each storage device is either a
 * volume group's physical volume or carved into partitions; a partition is either a physical
 * volume or a filesystem; every volume group has a physical volume (a device or a partition).
 */
export const storagePartitioning: Rule = nodeRule('DD2002', 'Storage Partitioning', (node, f) => {
  const docs = [node.ref];
  const assigned = new Set<string>();
  for (const device of node.storageDevices) {
    const partitions = device.partitions ?? [];
    const hasPartitions = partitions.length > 0;
    const hasGroup = Boolean(device.volumeGroup);
    if (hasPartitions === hasGroup) {
      f.error(
        'Either a volume group OR partitions must be defined for each storage device.',
        docs,
        'A storage device must be used for exactly one of a volume group physical volume or carved into partitions.',
      );
    }
    if (device.volumeGroup !== null) assigned.add(device.volumeGroup);
    for (const partition of partitions) {
      if (partition.fstype && partition.volumeGroup) {
        f.error(
          'Both a volume group AND file system cannot be defined in a single partition',
          docs,
          'A partition can be used for only one of a volume group physical volume or formatted as a filesystem.',
        );
      }
      if (partition.volumeGroup !== null) assigned.add(partition.volumeGroup);
    }
  }
  for (const group of node.volumeGroups) {
    if (!assigned.has(group.name)) {
      f.error(
        `Volume group ${group.name} not assigned any physical volumes`,
        docs,
        'Each volume group should be assigned at least one storage device or partition as a physical volume.',
      );
    }
  }
});
