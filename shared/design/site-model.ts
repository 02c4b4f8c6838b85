import type { DesignDocument } from './ingest-design.ts';
import type { NodeFilterSet } from './node-filter.ts';
import type { DocumentReference } from './validation.ts';

/**
 * The typed site design, as Drydock's ingester builds its objects (`objects/*.py`) from the
 * documents. Field names follow Drydock's objects; values keep Drydock's coercions: dictionaries
 * of strings hold strings (`quiet: true` becomes `'True'`), defaults apply where Drydock's field
 * has one. `null` means "not set" and matters for inheritance (a child's `null` takes the parent's).
 */

/** A physical port or a logical device as a node's hardware names it (`HardwareDeviceSelector`). */
export type DeviceSelector = {
  /** `address` when the name is an alias of the hardware profile, `name` for an OS device name. */
  selectorType: 'address' | 'name';
  address: string;
  deviceType: string | null;
};

export type Region = { name: string; ref: DocumentReference; authorizedKeys: string[] };

export type TorSwitch = { name: string; mgmtIp: string | null; sdnApiUri: string | null };

export type Rack = {
  name: string;
  ref: DocumentReference;
  torSwitches: TorSwitch[];
  location: Record<string, string>;
  localNetworks: string[];
  labels: Record<string, string>;
};

/** Bond options as the document writes them; unset options are `null`. */
export type Bonding = {
  mode: string;
  hash: string | null;
  peerRate: string | null;
  monRate: number | null;
  upDelay: number | null;
  downDelay: number | null;
};

export type NetworkLink = {
  name: string;
  ref: DocumentReference;
  labels: Record<string, string | null>;
  bonding: Bonding;
  /** Drydock's field defaults to 1500. */
  mtu: number;
  linkspeed: string;
  trunkMode: string;
  nativeNetwork: string | null;
  allowedNetworks: string[];
};

export type Route = {
  subnet: string | null;
  gateway: string | null;
  metric: number | null;
  routedomain: string | null;
};

export type Network = {
  name: string;
  ref: DocumentReference;
  labels: Record<string, string | null>;
  cidr: string;
  vlanId: string | null;
  mtu: number | null;
  routedomain: string | null;
  dnsDomain: string;
  dnsServers: string | null;
  ranges: { type: string | null; start: string | null; end: string | null }[];
  /** The document's routes, then those rendered from route domains. */
  routes: Route[];
  dhcpRelaySelfIp: string | null;
  dhcpRelayUpstreamTarget: string | null;
};

export type DeviceAlias = {
  alias: string;
  address: string | null;
  busType: string | null;
  devType: string | null;
};

export type HugepagesConf = { name: string; size: string | null; count: number | null };

export type HardwareProfile = {
  name: string;
  ref: DocumentReference;
  devices: DeviceAlias[];
  cpuSets: Record<string, string>;
  hugepages: HugepagesConf[];
};

export type Partition = {
  name: string;
  size: string | null;
  bootable: boolean | null;
  partUuid: string | null;
  volumeGroup: string | null;
  labels: Record<string, string> | null;
  mountpoint: string | null;
  fstype: string | null;
  mountOptions: string | null;
  fsUuid: string | null;
  fsLabel: string | null;
};

export type StorageDevice = {
  name: string;
  volumeGroup: string | null;
  labels: Record<string, string> | null;
  partitions: Partition[] | null;
  /** Set on compiled nodes: the device the name selects (a `scsi` alias or an OS name). */
  selector?: DeviceSelector;
};

export type LogicalVolume = {
  name: string;
  size: string | null;
  lvUuid: string | null;
  mountpoint: string | null;
  fstype: string | null;
  mountOptions: string | null;
  fsUuid: string | null;
  fsLabel: string | null;
};

export type VolumeGroup = {
  name: string;
  vgUuid: string | null;
  logicalVolumes: LogicalVolume[] | null;
};

export type HostInterface = {
  /** The device name; a leading `!` removes the parent's interface of that name. */
  name: string;
  networkLink: string | null;
  hardwareSlaves: string[];
  networks: string[];
  sriov: { vfCount: number; trustedMode: boolean } | null;
  /** Set on compiled nodes: the slaves resolved through the hardware profile's `pci` aliases. */
  selectors?: DeviceSelector[];
};

/** What host profiles and nodes share (Drydock's `HostProfile`). */
export type HostSpec = {
  name: string;
  ref: DocumentReference;
  /** `host_profile`: the profile this one inherits from. */
  parentProfile: string | null;
  hardwareProfile: string | null;
  oobType: string | null;
  oobParameters: Record<string, string>;
  storageDevices: StorageDevice[];
  volumeGroups: VolumeGroup[];
  interfaces: HostInterface[];
  tags: string[];
  ownerData: Record<string, string>;
  rack: string | null;
  image: string | null;
  kernel: string | null;
  kernelParams: Record<string, string>;
  primaryNetwork: string | null;
};

export type IpAssignment = { type: 'static' | 'dhcp'; address: string | null; network: string };

export type BaremetalNode = HostSpec & { addressing: IpAssignment[]; bootMac: string | null };

export type BootActionAsset = {
  type: string | null;
  path: string | null;
  location: string | null;
  /** For `pkg_list` assets given inline: package → version (or null for any). */
  packageList: Record<string, string | null> | null;
  /** Why an inline `pkg_list` is unusable, when it is. */
  packageListProblem: string | null;
  /** Inline data of a `unit` or `file` asset (rendered through `dataPipeline`). */
  data: string | null;
  /** Segments applied to the data: `base64_decode`, `base64_encode`, `utf8_decode`, `utf8_encode`, `template`. */
  dataPipeline: string[];
  /** Segments applied to `location` before it is fetched (`template`). */
  locationPipeline: string[];
  /** File mode: the document's octal string (`'555'`) read as octal, as Drydock reads it. */
  permissions: number | null;
};

export type BootAction = {
  name: string;
  ref: DocumentReference;
  signaling: boolean;
  assets: BootActionAsset[];
  nodeFilter: NodeFilterSet | null;
  /** Set by compilation: the nodes the filter selects (all nodes without a filter). */
  targetNodes: string[];
};

/** Every object of a design (Drydock's `SiteDesign`), in document order. */
export type SiteDesign = {
  region: Region | null;
  racks: Rack[];
  networkLinks: NetworkLink[];
  networks: Network[];
  hardwareProfiles: HardwareProfile[];
  hostProfiles: HostSpec[];
  nodes: BaremetalNode[];
  bootActions: BootAction[];
};

/** A document the model could not be built from, in Drydock's words (a DD000 error). */
export type ModelProblem = { ref: DocumentReference; message: string };

type Data = Record<string, unknown>;

/**
 * Builds the described (not yet compiled) site from validated Drydock documents, as Drydock's
 * Deckhand ingester does. Documents whose required fields are missing (a network without
 * `cidr`, a link without `allowed_networks`, a node without an address) are reported, not built.
 */
export function buildSiteDesign(documents: readonly DesignDocument[]): {
  site: SiteDesign;
  problems: ModelProblem[];
} {
  const site: SiteDesign = {
    region: null,
    racks: [],
    networkLinks: [],
    networks: [],
    hardwareProfiles: [],
    hostProfiles: [],
    nodes: [],
    bootActions: [],
  };
  const problems: ModelProblem[] = [];
  for (const doc of documents) {
    if (!doc.drydock || doc.name === null) continue;
    const ref: DocumentReference = { schema: doc.schema, name: doc.name };
    const data = isRecord(doc.data) ? doc.data : {};
    const problem = (message: string) => problems.push({ ref, message });
    switch (doc.kind) {
      case 'Region':
        site.region = { name: doc.name, ref, authorizedKeys: strings(data.authorized_keys) };
        break;
      case 'Rack':
        site.racks.push(buildRack(doc.name, ref, data));
        break;
      case 'NetworkLink': {
        if (!Array.isArray(data.allowed_networks)) {
          problem("Unexpected error processing document: Field 'allowed_networks' cannot be None");
          break;
        }
        site.networkLinks.push(buildNetworkLink(doc.name, ref, data));
        break;
      }
      case 'Network': {
        if (typeof data.cidr !== 'string') {
          problem("Unexpected error processing document: Field 'cidr' cannot be None");
          break;
        }
        site.networks.push(buildNetwork(doc.name, ref, data, data.cidr));
        break;
      }
      case 'HardwareProfile':
        site.hardwareProfiles.push(buildHardwareProfile(doc.name, ref, data));
        break;
      case 'HostProfile':
        site.hostProfiles.push(buildHostSpec(doc.name, ref, data));
        break;
      case 'BaremetalNode': {
        const addressing = buildAddressing(data.addressing);
        if (addressing.length === 0) {
          problem('Error processing document: BaremetalNode needs at least 1 assigned address');
          break;
        }
        const metadata = record(data.metadata);
        site.nodes.push({
          ...buildHostSpec(doc.name, ref, data),
          addressing,
          bootMac: str(metadata.boot_mac),
        });
        break;
      }
      case 'BootAction': {
        if (!Array.isArray(data.assets)) {
          problem('Error processing document: BootAction needs a list of assets');
          break;
        }
        site.bootActions.push({
          name: doc.name,
          ref,
          // Drydock's field defaults to true: without `signaling: false` the node reports back.
          signaling: data.signaling !== false,
          assets: data.assets.map((a) => buildAsset(record(a))),
          nodeFilter: isRecord(data.node_filter) ? (data.node_filter as NodeFilterSet) : null,
          targetNodes: [],
        });
        break;
      }
    }
  }
  return { site, problems };
}

function buildRack(name: string, ref: DocumentReference, data: Data): Rack {
  const tors = record(data.tor_switches);
  return {
    name,
    ref,
    torSwitches: Object.entries(tors).map(([switchName, v]) => ({
      name: switchName,
      mgmtIp: str(record(v).mgmt_ip),
      sdnApiUri: str(record(v).sdn_api_uri),
    })),
    location: stringMap(data.location),
    localNetworks: strings(data.local_networks),
    labels: stringMap(data.labels),
  };
}

// Drydock sets the bond timers only for the modes that use them, with its defaults.
const TIMED_BOND_MODES = new Set(['802.3ad', 'balance-rr', 'active-backup']);

function buildNetworkLink(name: string, ref: DocumentReference, data: Data): NetworkLink {
  const bonding = record(data.bonding);
  const trunking = record(data.trunking);
  const mode = str(bonding.mode) ?? 'disabled';
  const timed = TIMED_BOND_MODES.has(mode);
  const lacp = mode === '802.3ad';
  return {
    name,
    ref,
    labels: nullableStringMap(data.labels),
    bonding: {
      mode,
      hash: str(bonding.hash) ?? (lacp ? 'layer3+4' : null),
      peerRate: str(bonding.peer_rate) ?? (lacp ? 'fast' : null),
      monRate: num(bonding.mon_rate) ?? (timed ? 100 : null),
      upDelay: num(bonding.up_delay) ?? (timed ? 200 : null),
      downDelay: num(bonding.down_delay) ?? (timed ? 200 : null),
    },
    mtu: num(data.mtu) ?? 1500,
    linkspeed: str(data.linkspeed) ?? 'auto',
    trunkMode: str(trunking.mode) ?? 'disabled',
    nativeNetwork: str(trunking.default_network),
    allowedNetworks: strings(data.allowed_networks),
  };
}

function buildNetwork(name: string, ref: DocumentReference, data: Data, cidr: string): Network {
  const dns = record(data.dns);
  const relay = record(data.dhcp_relay);
  return {
    name,
    ref,
    labels: nullableStringMap(data.labels),
    cidr,
    vlanId: scalarString(data.vlan),
    mtu: num(data.mtu),
    routedomain: str(data.routedomain),
    dnsDomain: str(dns.domain) ?? 'local',
    dnsServers: str(dns.servers),
    ranges: list(data.ranges).map((r) => ({
      type: str(record(r).type),
      start: str(record(r).start),
      end: str(record(r).end),
    })),
    routes: list(data.routes).map((r) => ({
      subnet: str(record(r).subnet),
      gateway: str(record(r).gateway),
      metric: num(record(r).metric),
      routedomain: str(record(r).routedomain),
    })),
    dhcpRelaySelfIp: str(relay.self_ip),
    dhcpRelayUpstreamTarget: str(relay.upstream_target),
  };
}

function buildHardwareProfile(name: string, ref: DocumentReference, data: Data): HardwareProfile {
  return {
    name,
    ref,
    devices: Object.entries(record(data.device_aliases)).map(([alias, v]) => ({
      alias,
      address: str(record(v).address),
      busType: str(record(v).bus_type),
      devType: str(record(v).dev_type),
    })),
    cpuSets: stringMap(data.cpu_sets),
    hugepages: Object.entries(record(data.hugepages)).map(([confName, v]) => ({
      name: confName,
      size: scalarString(record(v).size),
      count: num(record(v).count),
    })),
  };
}

function buildHostSpec(name: string, ref: DocumentReference, data: Data): HostSpec {
  const oob = record(data.oob);
  const { type: oobType, ...oobParameters } = oob;
  const platform = record(data.platform);
  const metadata = record(data.metadata);
  const storage = record(data.storage);
  return {
    name,
    ref,
    parentProfile: str(data.host_profile),
    hardwareProfile: str(data.hardware_profile),
    oobType: str(oobType),
    oobParameters: stringMap(oobParameters),
    storageDevices: Object.entries(record(storage.physical_devices)).map(([devName, v]) =>
      buildStorageDevice(devName, record(v)),
    ),
    volumeGroups: Object.entries(record(storage.volume_groups)).map(([vgName, v]) => ({
      name: vgName,
      vgUuid: str(record(v).vg_uuid),
      logicalVolumes: list(record(v).logical_volumes).map((lv) => buildLogicalVolume(record(lv))),
    })),
    interfaces: Object.entries(record(data.interfaces)).map(([ifName, v]) =>
      buildInterface(ifName, v),
    ),
    tags: strings(metadata.tags),
    ownerData: stringMap(metadata.owner_data),
    rack: str(metadata.rack),
    image: str(platform.image),
    kernel: str(platform.kernel),
    kernelParams: stringMap(platform.kernel_params),
    primaryNetwork: str(data.primary_network),
  };
}

function buildStorageDevice(name: string, v: Data): StorageDevice {
  // Both are read even when both are written, so the partitioning rule can say that a device
  // must be one or the other (Drydock's ingester kept only the volume group, hiding the mistake).
  return {
    name,
    volumeGroup: str(v.volume_group),
    labels: isRecord(v.labels) ? stringMap(v.labels) : null,
    partitions: Array.isArray(v.partitions)
      ? v.partitions.map((p) => buildPartition(record(p)))
      : null,
  };
}

function buildPartition(p: Data): Partition {
  const fs = isRecord(p.filesystem) ? p.filesystem : null;
  return {
    name: str(p.name) ?? '',
    size: scalarString(p.size),
    bootable: typeof p.bootable === 'boolean' ? p.bootable : null,
    partUuid: str(p.part_uuid),
    volumeGroup: str(p.volume_group),
    labels: isRecord(p.labels) ? stringMap(p.labels) : null,
    mountpoint: fs ? str(fs.mountpoint) : null,
    fstype: fs ? (str(fs.fstype) ?? 'ext4') : null,
    mountOptions: fs ? (str(fs.mount_options) ?? 'defaults') : null,
    fsUuid: fs ? str(fs.fs_uuid) : null,
    fsLabel: fs ? str(fs.fs_label) : null,
  };
}

function buildLogicalVolume(lv: Data): LogicalVolume {
  const fs = isRecord(lv.filesystem) ? lv.filesystem : null;
  return {
    name: str(lv.name) ?? '',
    size: scalarString(lv.size),
    lvUuid: str(lv.lv_uuid),
    mountpoint: fs ? str(fs.mountpoint) : null,
    fstype: fs ? (str(fs.fstype) ?? 'ext4') : null,
    mountOptions: fs ? (str(fs.mount_options) ?? 'defaults') : null,
    fsUuid: fs ? str(fs.fs_uuid) : null,
    fsLabel: fs ? str(fs.fs_label) : null,
  };
}

function buildInterface(name: string, value: unknown): HostInterface {
  // An interface written as null removes the inherited one (Drydock's documented intent; its
  // ingester dropped the marker before it was added).
  if (value === null || value === undefined) {
    return { name: `!${name}`, networkLink: null, hardwareSlaves: [], networks: [], sriov: null };
  }
  const v = record(value);
  const sriov = isRecord(v.sriov)
    ? { vfCount: num(v.sriov.vf_count) ?? 0, trustedMode: v.sriov.trustedmode === true }
    : null;
  return {
    name,
    networkLink: str(v.device_link),
    hardwareSlaves: strings(v.slaves),
    networks: strings(v.networks),
    sriov,
  };
}

function buildAddressing(value: unknown): IpAssignment[] {
  const out: IpAssignment[] = [];
  for (const item of list(value)) {
    const a = record(item);
    const address = scalarString(a.address) ?? '';
    const network = str(a.network) ?? '';
    if (address === 'dhcp') out.push({ type: 'dhcp', address: null, network });
    else if (address !== '') out.push({ type: 'static', address, network });
  }
  return out;
}

function buildAsset(a: Data): BootActionAsset {
  const type = str(a.type);
  let packageList: Record<string, string | null> | null = null;
  let packageListProblem: string | null = null;
  if (type === 'pkg_list') {
    if (isRecord(a.data)) {
      const entries = Object.entries(a.data);
      if (entries.every(([, v]) => v === null || v === '' || typeof v === 'string')) {
        packageList = Object.fromEntries(
          entries.map(([k, v]) => [k, typeof v === 'string' && v !== '' ? v : null]),
        );
      } else {
        packageListProblem = 'Keys and values must be strings.';
      }
    } else if (!str(a.location)) {
      packageListProblem = 'Requires a top-level mapping/object.';
    }
  }
  return {
    type,
    path: str(a.path),
    location: str(a.location),
    packageList,
    packageListProblem,
    data: typeof a.data === 'string' ? a.data : null,
    dataPipeline: list(a.data_pipeline).map(pyStr),
    locationPipeline: list(a.location_pipeline).map(pyStr),
    permissions: modeOf(a.permissions),
  };
}

/** Drydock's `BootActionAsset.__init__`: a string mode is octal (`int(mode, base=8)`), a number is taken as it is. */
function modeOf(value: unknown): number | null {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^[0-7]+$/.test(value.trim())) {
    return Number.parseInt(value.trim(), 8);
  }
  return null;
}

/** Python's `str()` of a scalar, as Drydock's string fields coerce values (`True`, `300`). */
export function pyStr(value: unknown): string {
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null || value === undefined) return 'None';
  return String(value);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function record(value: unknown): Data {
  return isRecord(value) ? value : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** A string, or a number written without quotes (`vlan: 100`), as a string. */
function scalarString(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function strings(value: unknown): string[] {
  return list(value).filter((v): v is string => typeof v === 'string');
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record(value))) out[k] = pyStr(v);
  return out;
}

function nullableStringMap(value: unknown): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(record(value))) out[k] = v === null ? null : pyStr(v);
  return out;
}
