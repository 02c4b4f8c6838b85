import type { BaremetalNode, DeviceSelector, HardwareProfile } from './site-model.ts';

/**
 * A node's hardware as its hardware profile names it (Drydock's `BaremetalNode
 * .apply_hardware_profile` and `resolve_kernel_params`): interface slaves that are `pci` aliases
 * become address selectors, other slave names stay OS device names; storage devices are looked up
 * among the `scsi` aliases the same way; kernel parameters of the form
 * `hardwareprofile:cpuset.<set>` and `hardwareprofile:hugepages.<conf>.size|count` take the
 * profile's values (an unresolvable reference is kept as written, as Drydock keeps it).
 */
export function applyHardwareProfile(node: BaremetalNode, profile: HardwareProfile): BaremetalNode {
  const select = (busType: string, name: string): DeviceSelector => {
    const device = profile.devices.find((d) => d.alias === name && d.busType === busType);
    return device
      ? { selectorType: 'address', address: device.address ?? '', deviceType: device.devType }
      : { selectorType: 'name', address: name, deviceType: null };
  };
  const kernelParams: Record<string, string> = {};
  for (const [key, value] of Object.entries(node.kernelParams)) {
    kernelParams[key] = resolveKernelParam(value, profile) ?? value;
  }
  return {
    ...node,
    interfaces: node.interfaces.map((i) => ({
      ...i,
      selectors: i.hardwareSlaves.map((slave) => select('pci', slave)),
    })),
    storageDevices: node.storageDevices.map((d) => ({ ...d, selector: select('scsi', d.name) })),
    kernelParams,
  };
}

/** The value a `hardwareprofile:` reference names, or undefined when it names nothing. */
export function resolveKernelParam(value: string, profile: HardwareProfile): string | undefined {
  if (!value.startsWith('hardwareprofile:')) return value;
  const ref = value.slice('hardwareprofile:'.length);
  if (ref === '') return value;
  const dot = ref.indexOf('.');
  const kind = dot === -1 ? ref : ref.slice(0, dot);
  const rest = dot === -1 ? '' : ref.slice(dot + 1);
  if (kind === 'cpuset') {
    return Object.hasOwn(profile.cpuSets, rest) ? profile.cpuSets[rest] : undefined;
  }
  if (kind === 'hugepages') {
    const split = rest.indexOf('.');
    const conf = profile.hugepages.find((h) => h.name === rest.slice(0, split));
    const field = rest.slice(split + 1);
    if (split === -1 || !conf) return undefined;
    if (field === 'size') return conf.size ?? undefined;
    if (field === 'count') return conf.count === null ? undefined : String(conf.count);
  }
  return undefined;
}
