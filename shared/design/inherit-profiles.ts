import type {
  HostInterface,
  HostSpec,
  LogicalVolume,
  Partition,
  StorageDevice,
  VolumeGroup,
} from './site-model.ts';

/**
 * Host-profile inheritance with Drydock's merge rules (`objects/__init__.py` `Utils`,
 * `objects/hostprofile.py` `apply_inheritance` and the `merge_lists` of each part):
 *
 * - a simple field keeps the child's value; `'!'` (or `-1`) unsets it; unset takes the parent's;
 * - a list of strings is the child's items, then the parent's not already there and not
 *   removed by a `'!item'` in the child;
 * - a dictionary is the parent's keys not removed by a `'!key'` in the child, then the child's;
 * - interfaces, storage devices, partitions, volume groups and logical volumes merge by name:
 *   a child entry `'!name'` removes the parent's, a child entry of the same name merges field by
 *   field, other entries of both are kept.
 *
 * Drydock's device, partition, volume-group and volume merges keep only the last unmatched
 * parent entry (an indentation slip) and merge logical volumes into `partitions`; here every
 * unmatched parent entry is kept, as its interface merge does.
 */

/** `apply_field_inheritance`. */
export function inheritField<T>(child: T | null, parent: T | null): T | null {
  if (child !== null && child !== undefined) {
    return (child as unknown) === '!' || (child as unknown) === -1 ? null : child;
  }
  return parent;
}

/** `Utils.merge_lists`, with sets instead of Drydock's nested scans. */
export function mergeStringLists(child: readonly string[], parent: readonly string[]): string[] {
  const removed = new Set(child.filter((x) => x.startsWith('!')));
  const out = child.filter((x) => !x.startsWith('!'));
  const seen = new Set(out);
  for (const x of parent) {
    if (removed.has(`!${x}`) || seen.has(x)) continue;
    seen.add(x);
    out.push(x);
  }
  return out;
}

/** `Utils.merge_dicts`. */
export function mergeDicts<V>(
  child: Readonly<Record<string, V>>,
  parent: Readonly<Record<string, V>>,
): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [k, v] of Object.entries(parent)) {
    if (!Object.hasOwn(child, `!${k}`)) out[k] = v;
  }
  for (const [k, v] of Object.entries(child)) {
    if (!k.startsWith('!')) out[k] = v;
  }
  return out;
}

/** The named-entry merge shared by interfaces and storage parts. */
function mergeNamed<T extends { name: string }>(
  child: readonly T[] | null,
  parent: readonly T[] | null,
  combine: (child: T, parent: T) => T,
): T[] | null {
  if (child === null) return parent === null ? null : [...parent];
  if (parent === null) return child.filter((c) => !c.name.startsWith('!'));
  const byName = new Map<string, T>();
  for (const c of child) byName.set(c.name, c);
  const parentNames = new Set<string>();
  const out: T[] = [];
  for (const p of parent) {
    parentNames.add(p.name);
    if (byName.has(`!${p.name}`)) continue;
    const c = byName.get(p.name);
    out.push(c ? combine(c, p) : p);
  }
  for (const c of child) {
    if (!parentNames.has(c.name) && !c.name.startsWith('!')) out.push(c);
  }
  return out;
}

const mergeInterface = (c: HostInterface, p: HostInterface): HostInterface => ({
  name: c.name,
  networkLink: inheritField(c.networkLink, p.networkLink),
  hardwareSlaves: mergeStringLists(c.hardwareSlaves, p.hardwareSlaves),
  networks: mergeStringLists(c.networks, p.networks),
  // Drydock's merged interface leaves SR-IOV out; keeping the child's or the parent's is the
  // evident intent and changes no validation rule.
  sriov: c.sriov ?? p.sriov,
});

const mergePartition = (c: Partition, p: Partition): Partition => ({
  name: c.name,
  size: inheritField(c.size, p.size),
  bootable: inheritField(c.bootable, p.bootable),
  partUuid: inheritField(c.partUuid, p.partUuid),
  volumeGroup: inheritField(c.volumeGroup, p.volumeGroup),
  labels: c.labels ?? p.labels,
  mountpoint: inheritField(c.mountpoint, p.mountpoint),
  fstype: inheritField(c.fstype, p.fstype),
  mountOptions: inheritField(c.mountOptions, p.mountOptions),
  fsUuid: inheritField(c.fsUuid, p.fsUuid),
  fsLabel: inheritField(c.fsLabel, p.fsLabel),
});

const mergeStorageDevice = (c: StorageDevice, p: StorageDevice): StorageDevice => ({
  name: c.name,
  volumeGroup: inheritField(c.volumeGroup, p.volumeGroup),
  labels: c.labels && p.labels ? mergeDicts(c.labels, p.labels) : (c.labels ?? p.labels),
  partitions: mergeNamed(c.partitions, p.partitions, mergePartition),
});

const mergeLogicalVolume = (c: LogicalVolume, p: LogicalVolume): LogicalVolume => ({
  name: c.name,
  size: inheritField(c.size, p.size),
  lvUuid: inheritField(c.lvUuid, p.lvUuid),
  mountpoint: inheritField(c.mountpoint, p.mountpoint),
  fstype: inheritField(c.fstype, p.fstype),
  mountOptions: inheritField(c.mountOptions, p.mountOptions),
  fsUuid: inheritField(c.fsUuid, p.fsUuid),
  fsLabel: inheritField(c.fsLabel, p.fsLabel),
});

const mergeVolumeGroup = (c: VolumeGroup, p: VolumeGroup): VolumeGroup => ({
  name: c.name,
  vgUuid: inheritField(c.vgUuid, p.vgUuid),
  logicalVolumes: mergeNamed(c.logicalVolumes, p.logicalVolumes, mergeLogicalVolume),
});

/** One step of `HostProfile.apply_inheritance`: the child over its (already compiled) parent. */
export function applyParent<T extends HostSpec>(child: T, parent: HostSpec): T {
  return {
    ...child,
    hardwareProfile: inheritField(child.hardwareProfile, parent.hardwareProfile),
    oobType: inheritField(child.oobType, parent.oobType),
    rack: inheritField(child.rack, parent.rack),
    image: inheritField(child.image, parent.image),
    kernel: inheritField(child.kernel, parent.kernel),
    primaryNetwork: inheritField(child.primaryNetwork, parent.primaryNetwork),
    oobParameters: mergeDicts(child.oobParameters, parent.oobParameters),
    tags: mergeStringLists(child.tags, parent.tags),
    ownerData: mergeDicts(child.ownerData, parent.ownerData),
    kernelParams: mergeDicts(child.kernelParams, parent.kernelParams),
    storageDevices:
      mergeNamed(child.storageDevices, parent.storageDevices, mergeStorageDevice) ?? [],
    volumeGroups: mergeNamed(child.volumeGroups, parent.volumeGroups, mergeVolumeGroup) ?? [],
    interfaces: mergeNamed(child.interfaces, parent.interfaces, mergeInterface) ?? [],
  };
}

/** Why a profile chain cannot be compiled. */
export type InheritanceProblem = { spec: HostSpec; message: string };

/**
 * Compiles host profiles and nodes through their `host_profile` chains, each profile once
 * (memoised), so a site of N nodes over P profiles costs O(N + P) merges. A missing parent or a
 * cycle is a problem of the document that names it (Drydock raised and stopped compiling).
 */
export function createProfileResolver(profiles: readonly HostSpec[]): {
  compile<T extends HostSpec>(spec: T): T | InheritanceProblem;
} {
  const byName = new Map<string, HostSpec>();
  for (const p of profiles) if (!byName.has(p.name)) byName.set(p.name, p);
  const compiled = new Map<string, HostSpec | InheritanceProblem>();
  const inProgress = new Set<string>();

  const compileProfile = (name: string, from: HostSpec): HostSpec | InheritanceProblem => {
    const done = compiled.get(name);
    if (done) return done;
    const profile = byName.get(name);
    if (!profile) {
      return { spec: from, message: `HostProfile ${name} not found in design state` };
    }
    if (inProgress.has(name)) {
      return {
        spec: from,
        message: `HostProfile ${name} is part of a circular host_profile chain`,
      };
    }
    inProgress.add(name);
    const result = withParent(profile);
    inProgress.delete(name);
    compiled.set(name, result);
    return result;
  };

  function withParent<T extends HostSpec>(spec: T): T | InheritanceProblem {
    if (spec.parentProfile === null) return spec;
    const parent = compileProfile(spec.parentProfile, spec);
    if ('message' in parent) return parent;
    return applyParent(spec, parent);
  }

  return { compile: withParent };
}
