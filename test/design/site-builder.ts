import { dump } from 'js-yaml';
import { type AnalysisSettings, analyzeDesign } from '#shared/design/analyze-design.ts';
import type { ValidationMessage } from '#shared/design/validation.ts';

/** One Deckhand document of a test design; `data` is mutated freely by a case. */
export type Doc = { schema: string; metadata: { name: string }; data: Record<string, unknown> };

// biome-ignore lint/suspicious/noExplicitAny: cases reach into nested document data
type Data = Record<string, any>;

const doc = (kind: string, name: string, data: Data): Doc => ({
  schema: `drydock/${kind}/v1`,
  metadata: { name },
  data,
});

/**
 * A small site that passes every rule: two nodes on one host profile over one hardware profile,
 * three links (PXE, a trunked LACP bond, OOB), four networks, a rack and a boot action.
 */
export function baseSite(): Doc[] {
  const node = (name: string, n: number) =>
    doc('BaremetalNode', name, {
      host_profile: 'compute',
      addressing: [
        { network: 'pxe', address: 'dhcp' },
        { network: 'mgmt', address: `10.1.0.${n}` },
        { network: 'storage', address: `10.2.0.${n}` },
        { network: 'oob', address: `10.3.0.${n}` },
      ],
      metadata: { rack: 'rack-a', boot_mac: `52:54:00:00:00:${n}` },
    });
  return [
    doc('Region', 'lab', { authorized_keys: ['ssh-ed25519 AAAA test@lab'] }),
    doc('Rack', 'rack-a', { local_networks: ['pxe'], labels: { row: 'north' } }),
    doc('NetworkLink', 'pxe-link', {
      bonding: { mode: 'disabled' },
      mtu: 1500,
      trunking: { mode: 'disabled', default_network: 'pxe' },
      allowed_networks: ['pxe'],
    }),
    doc('NetworkLink', 'data-link', {
      bonding: {
        mode: '802.3ad',
        hash: 'layer3+4',
        peer_rate: 'fast',
        mon_rate: 100,
        up_delay: 200,
        down_delay: 200,
      },
      mtu: 9000,
      trunking: { mode: '802.1q', default_network: 'mgmt' },
      allowed_networks: ['mgmt', 'storage'],
    }),
    doc('NetworkLink', 'oob-link', {
      bonding: { mode: 'disabled' },
      trunking: { mode: 'disabled', default_network: 'oob' },
      allowed_networks: ['oob'],
    }),
    doc('Network', 'pxe', { cidr: '10.0.0.0/24', mtu: 1500 }),
    doc('Network', 'mgmt', {
      cidr: '10.1.0.0/24',
      vlan: '101',
      mtu: 1500,
      dns: { domain: 'mgmt.lab.test', servers: '10.1.0.2' },
      routes: [{ subnet: '0.0.0.0/0', gateway: '10.1.0.1', metric: 10 }],
    }),
    doc('Network', 'storage', { cidr: '10.2.0.0/24', vlan: '102', mtu: 9000 }),
    doc('Network', 'oob', { cidr: '10.3.0.0/24' }),
    doc('HardwareProfile', 'hw-gen1', {
      vendor: 'Acme',
      device_aliases: {
        nic0: { address: '0000:3b:00.0', dev_type: '25GbE', bus_type: 'pci' },
        nic1: { address: '0000:3b:00.1', dev_type: '25GbE', bus_type: 'pci' },
        bootdisk: { address: '2:0.0.0', dev_type: 'SSD', bus_type: 'scsi' },
      },
      cpu_sets: { pinned: '4-15' },
      hugepages: { dpdk: { size: '1G', count: 16 } },
    }),
    doc('HostProfile', 'compute', {
      hardware_profile: 'hw-gen1',
      primary_network: 'mgmt',
      oob: { type: 'ipmi', network: 'oob', account: 'admin', credential: 'not-a-password' },
      storage: {
        physical_devices: {
          bootdisk: {
            partitions: [
              { name: 'root', size: '30g', filesystem: { mountpoint: '/' } },
              { name: 'boot', size: '1g', filesystem: { mountpoint: '/boot' } },
            ],
          },
          sdb: { volume_group: 'data' },
        },
        volume_groups: {
          data: {
            logical_volumes: [{ name: 'var', size: '50%', filesystem: { mountpoint: '/var' } }],
          },
        },
      },
      platform: { image: 'jammy', kernel: 'ga-22.04', kernel_params: { console: 'ttyS0' } },
      interfaces: {
        pxe: { device_link: 'pxe-link', slaves: ['nic0'], networks: ['pxe'] },
        bond0: {
          device_link: 'data-link',
          slaves: ['nic0', 'nic1'],
          networks: ['mgmt', 'storage'],
        },
      },
      metadata: { tags: ['compute'], owner_data: { team: 'lab' } },
    }),
    node('node01', 11),
    node('node02', 12),
    doc('BootAction', 'motd', {
      assets: [
        { path: '/etc/motd', type: 'file', data: 'hello', data_pipeline: ['utf8_decode'] },
        { type: 'pkg_list', data: { jq: null, curl: '7.81.0-1ubuntu1' } },
      ],
    }),
  ];
}

/** The `data` of the named document (throws if absent, so a case cannot silently miss). */
export function find(docs: readonly Doc[], kind: string, name: string): Data {
  const found = docs.find((d) => d.schema === `drydock/${kind}/v1` && d.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the test design`);
  return found.data;
}

/** Removes the named document. */
export function drop(docs: Doc[], kind: string, name: string): void {
  docs.splice(
    docs.findIndex((d) => d.schema === `drydock/${kind}/v1` && d.metadata.name === name),
    1,
  );
}

/** Adds a document of a kind. */
export function add(docs: Doc[], kind: string, name: string, data: Data): void {
  docs.push(doc(kind, name, data));
}

/** The design as a YAML stream, as an operator would write it. */
export function toYaml(docs: readonly Doc[]): string {
  return docs.map((d) => `---\n${dump(d)}`).join('');
}

export const TS = '2026-11-30T12:00:00.000Z';

/** Drydock's Status of a design that passed validation; the HTTP answers add `code: 200`. */
export const PASSED_STATUS = {
  kind: 'Status',
  apiVersion: 'v1.0',
  metadata: {},
  status: 'Success',
  message: 'Site design passed validation',
  reason: null,
  details: { errorCount: 0 },
} as const;

/** Drydock's Status of a design that failed validation; the HTTP answers add `code: 400`. */
export const FAILED_STATUS = {
  kind: 'Status',
  apiVersion: 'v1.0',
  metadata: {},
  status: 'Failure',
  message: 'Site design failed validation.',
  reason: 'See detail messages.',
} as const;

/** Platform lists matching the base site. */
export const PLATFORM = { images: ['jammy'], kernels: ['ga-22.04', 'hwe-22.04'] };

/** Analyses a design built from the base site after `change`. */
export function analyze(
  change: (docs: Doc[]) => void = () => {},
  settings: Partial<AnalysisSettings> = {},
) {
  const docs = baseSite();
  change(docs);
  return analyzeDesign(toYaml(docs), { ts: TS, platform: PLATFORM, ...settings });
}

/**
 * The errors of a design the site cannot be built from, each as `[message, documents]`. Throws
 * when the site was built, when the answer is not Drydock's failed validation, or when a message
 * is other than a DD000 error (a rule ran).
 */
export function loadErrors(change: (docs: Doc[]) => void): [string, unknown][] {
  const { site, status } = analyze(change);
  const messages = status.details.messageList;
  const other = messages.find((m) => m.name !== 'DD000' || m.level !== 'Error');
  if (site !== null) throw new Error('the site was built');
  if (status.message !== 'Site design failed validation.') throw new Error(status.message);
  if (other) throw new Error(`not a load error: ${JSON.stringify(other)}`);
  return messages.map((m) => [m.message, m.documents]);
}

/** The messages one rule produced (rules share codes, so the name tells them apart). */
export function messagesOf(messages: readonly ValidationMessage[], code: string, name: string) {
  return messages
    .filter((m) => m.name === code && m.message.startsWith(`${name}: `))
    .map((m) => ({
      level: m.level,
      message: m.message,
      documents: m.documents,
      diagnostic: m.diagnostic,
    }));
}

/**
 * A site of `nodes` nodes built on the base site: /16 networks, ten racks, two host profiles
 * (one inheriting from the other), every node with four addresses and its own rack and tags.
 */
export function generatedSite(nodes: number): Doc[] {
  const docs = baseSite().filter((d) => d.schema !== 'drydock/BaremetalNode/v1');
  for (const name of ['mgmt', 'storage', 'oob', 'pxe']) {
    const data = find(docs, 'Network', name);
    data.cidr = data.cidr.replace(/\.0\/24$/, '').replace(/\.\d+$/, '.0.0/16');
  }
  for (let r = 1; r < 10; r++) add(docs, 'Rack', `rack-${r}`, { labels: { row: `row-${r % 3}` } });
  add(docs, 'HostProfile', 'compute-fast', {
    host_profile: 'compute',
    platform: { kernel: 'hwe-22.04', kernel_params: { isolcpus: 'hardwareprofile:cpuset.pinned' } },
    metadata: { tags: ['fast'] },
  });
  for (let i = 0; i < nodes; i++) {
    const host = `${(i + 1) >> 8}.${(i + 1) & 255}`;
    add(docs, 'BaremetalNode', `node${String(i).padStart(4, '0')}`, {
      host_profile: i % 2 === 0 ? 'compute' : 'compute-fast',
      addressing: [
        { network: 'pxe', address: 'dhcp' },
        { network: 'mgmt', address: `10.1.${host}` },
        { network: 'storage', address: `10.2.${host}` },
        { network: 'oob', address: `10.3.${host}` },
      ],
      metadata: {
        rack: i % 10 === 0 ? 'rack-a' : `rack-${i % 10}`,
        boot_mac: `52:54:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
        tags: [`group-${i % 7}`],
        owner_data: { slot: String(i) },
      },
      interfaces: { bond0: { networks: ['mgmt', 'storage'] } },
    });
  }
  return docs;
}
