import { describe, expect, it } from 'vitest';
import { RULES } from '#shared/design/validate-site.ts';
import { add, analyze, type Doc, drop, find, loadErrors, messagesOf } from './site-builder.ts';

const node = (name: string) => ({ schema: 'drydock/BaremetalNode/v1', name });
const link = (name: string) => ({ schema: 'drydock/NetworkLink/v1', name });
const net = (name: string) => ({ schema: 'drydock/Network/v1', name });
const action = (name: string) => ({ schema: 'drydock/BootAction/v1', name });
const profile = (docs: Doc[]) => find(docs, 'HostProfile', 'compute');
const partitions = (docs: Doc[]) => profile(docs).storage.physical_devices.bootdisk.partitions;

type Expected = { level: string; message: string; documents: unknown[]; diagnostic?: string };
type Case = { title: string; change: (docs: Doc[]) => void; expected: Expected[] };
const E = (message: string, documents: unknown[], diagnostic?: string): Expected => ({
  level: 'Error',
  message,
  documents,
  ...(diagnostic === undefined ? {} : { diagnostic }),
});
const W = (message: string, documents: unknown[] = []): Expected => ({
  level: 'Warning',
  message,
  documents,
});

/** Per rule (Drydock's code and name), designs that fail it and the exact messages they get. */
const CASES: Record<string, Case[]> = {
  'DD1001 Rational Boot Storage': [
    {
      title: 'a root partition under 20 GB and a boot partition under 1 GB',
      change: (d) => {
        partitions(d)[0].size = '19g';
        partitions(d)[1].size = '900m';
      },
      expected: ['node01', 'node02'].flatMap((n) => [
        E(
          `Rational Boot Storage: Root volume must be > 20GB on BaremetalNode ${n}`,
          [node(n)],
          'Configure a larger root volume',
        ),
        E(
          `Rational Boot Storage: Boot volume must be > 1GB on BaremetalNode ${n}`,
          [node(n)],
          'Configure a larger boot volume.',
        ),
      ]),
    },
    {
      title: 'no root partition, and a size that is not a size',
      change: (d) => {
        partitions(d)[0].name = 'system';
        find(d, 'BaremetalNode', 'node02').storage = {
          physical_devices: { bootdisk: { partitions: [{ name: 'root', size: 'big' }] } },
        };
      },
      expected: [
        E(
          'Rational Boot Storage: Root volume has to be set and must be > 20GB on BaremetalNode node01',
          [node('node01')],
          'All nodes require a defined root volume at least 20GB in size.',
        ),
        E(
          'Rational Boot Storage: Root volume has an invalid size format on BaremetalNode node02.',
          [node('node02')],
          'Use a valid root volume storage specification.',
        ),
        E(
          'Rational Boot Storage: Root volume has to be set and must be > 20GB on BaremetalNode node02',
          [node('node02')],
        ),
      ],
    },
    {
      title: 'a boot partition whose size is not a size',
      change: (d) => {
        partitions(d)[1].size = 'tiny';
      },
      expected: ['node01', 'node02'].map((n) =>
        E(
          `Rational Boot Storage: Boot volume has an invalid size format on BaremetalNode ${n}.`,
          [node(n)],
          'Use a valid boot volume storage specification.',
        ),
      ),
    },
  ],
  'DD2006 CIDR Validity': [
    {
      title: 'a CIDR with host bits set and one that is no network',
      change: (d) => {
        find(d, 'Network', 'storage').cidr = '10.2.0.5/24';
        find(d, 'Network', 'oob').cidr = '10.3.0.0/33';
      },
      expected: [
        E(
          'CIDR Validity: The provided CIDR 10.2.0.5/24 has host bits set',
          [net('storage')],
          'Provide a CIDR acceptable by MAAS: 10.2.0.0/24',
        ),
        E('CIDR Validity: The provided CIDR 10.3.0.0/33 is not a valid network', [net('oob')]),
      ],
    },
  ],
  'DD1008 Hugepages': [
    {
      title: 'a hugepage count without a size',
      change: (d) => {
        profile(d).platform.kernel_params = { hugepages: 'hardwareprofile:hugepages.dpdk.count' };
      },
      expected: ['node01', 'node02'].map((n) =>
        E(
          'Hugepages: Invalid hugepages kernel configuration',
          [node(n)],
          'hugepages and hugepagesz must be specified together',
        ),
      ),
    },
  ],
  'DD2002 IP Locality Check': [
    {
      title:
        'a gateway and an address outside their CIDR, a route without gateway, an unknown network',
      change: (d) => {
        find(d, 'Network', 'mgmt').routes = [
          { subnet: '0.0.0.0/0', gateway: '10.9.0.1', metric: 10 },
          { subnet: '10.8.0.0/16', metric: 20 },
        ];
        const addressing = find(d, 'BaremetalNode', 'node01').addressing;
        addressing[1].address = '10.1.1.11';
        addressing.push({ network: 'tenant', address: '10.7.0.11' });
      },
      expected: [
        E(
          'IP Locality Check: The gateway IP Address 10.9.0.1 is not within the defined CIDR: 10.1.0.0/24 of mgmt.',
          [net('mgmt')],
          'Route gateways must reside on the local network. Check gateway IP and CIDR netmask.',
        ),
        E(
          "IP Locality Check: No gateway found for route {'subnet': '10.8.0.0/16', 'gateway': None, 'metric': 20, 'routedomain': None}.",
          [net('mgmt')],
          'Define a network-local gateway for the route.',
        ),
        E(
          'IP Locality Check: The IP Address 10.1.1.11 is not within the defined CIDR: 10.1.0.0/24 of mgmt.',
          [node('node01')],
          'Define a valid address for this network.',
        ),
        E(
          'IP Locality Check: tenant is not a valid network.',
          [node('node01')],
          'Define network or correct address definition.',
        ),
      ],
    },
  ],
  'DD2003 MTU Rationality': [
    {
      title: 'MTUs out of range and a network larger than its native link',
      change: (d) => {
        find(d, 'NetworkLink', 'oob-link').mtu = 70000;
        find(d, 'Network', 'pxe').mtu = 1000;
        find(d, 'Network', 'oob').mtu = 9000;
      },
      expected: [
        E(
          'MTU Rationality: MTU must be between 1280 and 65536, value is 70000',
          [link('oob-link')],
          'Define a valid MTU. Standard is 1500, Jumbo is 9100.',
        ),
        E('MTU Rationality: MTU must be between 1280 and 65536, value is 1000', [net('pxe')]),
      ],
    },
    {
      title: 'a network MTU above its link MTU',
      change: (d) => {
        find(d, 'Network', 'pxe').mtu = 9000;
      },
      expected: [
        E(
          'MTU Rationality: MTU must be <= the parent Network Link; for Network pxe',
          [net('pxe')],
          'Define a MTU less than or equal to that of the carrying network link.',
        ),
      ],
    },
  ],
  'DD2004 Network Trunking Rationality': [
    {
      title:
        'several networks untrunked, no native network, a tagged native network, an unknown one',
      change: (d) => {
        find(d, 'NetworkLink', 'data-link').trunking = {
          mode: 'disabled',
          default_network: 'mgmt',
        };
        find(d, 'NetworkLink', 'oob-link').trunking = { mode: 'disabled' };
        find(d, 'NetworkLink', 'pxe-link').trunking = {
          mode: 'disabled',
          default_network: 'nowhere',
        };
      },
      expected: [
        E('Network Trunking Rationality: Network link native network nowhere is not defined.', [
          link('pxe-link'),
        ]),
        E(
          'Network Trunking Rationality: If there is more than 1 allowed network, trunking mode must be enabled',
          [link('data-link')],
          'Reduce the allowed network list to 1 or enable trunking on the link.',
        ),
        E(
          'Network Trunking Rationality: Network link native network has a defined VLAN tag.',
          [net('mgmt'), link('data-link')],
          'Tagged network not allowed on non-trunked network links.',
        ),
        E(
          'Network Trunking Rationality: Trunking mode is disabled, a trunking default_network must be defined',
          [link('oob-link')],
          'Non-trunked links must have a native network defined.',
        ),
      ],
    },
  ],
  'DD2005 Duplicated IP Check': [
    {
      title: 'two nodes with the same address',
      change: (d) => {
        find(d, 'BaremetalNode', 'node02').addressing[1].address = '10.1.0.11';
      },
      expected: [
        E(
          'Duplicated IP Check: Duplicate IP Address Found: 10.1.0.11',
          [node('node02'), node('node01')],
          'Select unique IP addresses for each node.',
        ),
      ],
    },
  ],
  'DD3001 Platform Selection': [
    {
      title: 'an image and a kernel the provisioner does not offer',
      change: (d) => {
        find(d, 'BaremetalNode', 'node01').platform = { image: 'focal' };
        find(d, 'BaremetalNode', 'node02').platform = { kernel: 'hwe-99' };
      },
      expected: [
        E(
          'Platform Selection: Platform Validation: invalid image focal',
          [node('node01')],
          'Select a valid image from: jammy',
        ),
        E(
          'Platform Selection: Platform Validation: invalid kernel hwe-99',
          [node('node02')],
          'Select a valid kernel from: ga-22.04,hwe-22.04',
        ),
      ],
    },
  ],
  'DD1006 Network Bond Rationality': [
    {
      title: 'options on a disabled bond, short LACP delays, LACP options on other modes',
      change: (d) => {
        find(d, 'NetworkLink', 'pxe-link').bonding = { mode: 'disabled', mon_rate: 100 };
        find(d, 'NetworkLink', 'data-link').bonding = { mode: '802.3ad', mon_rate: 300 };
        find(d, 'NetworkLink', 'oob-link').bonding = {
          mode: 'active-backup',
          hash: 'layer2',
          peer_rate: 'slow',
        };
      },
      expected: [
        E(
          'Network Bond Rationality: If bonding mode is disabled no other bond option can be specified',
          [link('pxe-link')],
          'Enable a bonding mode or remove the bond options.',
        ),
        E(
          'Network Bond Rationality: Up delay 200 is less than mon rate 300',
          [link('data-link')],
          'Link up delay must be equal or greater than the mon_rate',
        ),
        E(
          'Network Bond Rationality: Down delay 200 is less than mon rate 300',
          [link('data-link')],
          'Link down delay must be equal or greater than the mon_rate',
        ),
        E(
          'Network Bond Rationality: Hash cannot be defined if bond mode is active-backup',
          [link('oob-link')],
          'Hash mode is only applicable to LACP (802.3ad)',
        ),
        E(
          'Network Bond Rationality: Peer rate cannot be defined if bond mode is active-backup',
          [link('oob-link')],
          'Peer rate is only applicable to LACP (802.3ad)',
        ),
      ],
    },
  ],
  'DD2002 Storage Partitioning': [
    {
      title: 'a device with both, one with neither, a partition with both, an orphan volume group',
      change: (d) => {
        find(d, 'BaremetalNode', 'node01').storage = {
          physical_devices: {
            sdb: { volume_group: 'data', partitions: [{ name: 'x', size: '10g' }] },
            sdc: {},
            sdd: {
              partitions: [
                { name: 'y', size: '10g', volume_group: 'data', filesystem: { mountpoint: '/y' } },
              ],
            },
          },
          volume_groups: { orphan: { logical_volumes: [] } },
        };
      },
      expected: [
        E(
          'Storage Partitioning: Either a volume group OR partitions must be defined for each storage device.',
          [node('node01')],
          'A storage device must be used for exactly one of a volume group physical volume or carved into partitions.',
        ),
        E(
          'Storage Partitioning: Either a volume group OR partitions must be defined for each storage device.',
          [node('node01')],
        ),
        E(
          'Storage Partitioning: Both a volume group AND file system cannot be defined in a single partition',
          [node('node01')],
          'A partition can be used for only one of a volume group physical volume or formatted as a filesystem.',
        ),
        E(
          'Storage Partitioning: Volume group orphan not assigned any physical volumes',
          [node('node01')],
          'Each volume group should be assigned at least one storage device or partition as a physical volume.',
        ),
      ],
    },
  ],
  'DD2003 Storage Sizing': [
    {
      title: 'negative and over-committed percentages',
      change: (d) => {
        find(d, 'BaremetalNode', 'node02').storage = {
          physical_devices: {
            sdx: {
              partitions: [
                { name: 'a', size: '60%' },
                { name: 'b', size: '50%' },
                { name: 'c', size: '-5%' },
              ],
            },
          },
          volume_groups: {
            data: {
              logical_volumes: [
                { name: 'v1', size: '70%' },
                { name: 'v2', size: '40%' },
                { name: 'v3', size: '-1%' },
              ],
            },
          },
        };
      },
      expected: [
        E(
          'Storage Sizing: Storage partition c on device sdx size is < 0',
          [node('node02')],
          'Partition size must be a positive number.',
        ),
        E(
          'Storage Sizing: Cumulative partition sizes on device sdx is greater than 99%.',
          [node('node02')],
          'Percentage-based sizes must sum to less than 100%.',
        ),
        E('Storage Sizing: Logical Volume v3 size is < 0', [node('node02')], ''),
        E(
          'Storage Sizing: Cumulative logical volume size is greater than 99% in volume group data',
          [node('node02')],
        ),
      ],
    },
  ],
  'DD2004 Storage Mountpoint': [
    {
      title: 'a logical volume mounted where a partition is',
      change: (d) => {
        profile(d).storage.volume_groups.data.logical_volumes[0].filesystem.mountpoint = '/boot';
      },
      expected: ['node01', 'node02'].map((n) =>
        E(
          'Storage Mountpoint: Mountpoint "/boot" already exists',
          [node(n)],
          'Please use unique mountpoints.',
        ),
      ),
    },
  ],
  'DD1007 Allowed Network Check': [
    {
      title:
        'a network on two links, an interface network its link does not allow, an unknown link',
      change: (d) => {
        find(d, 'NetworkLink', 'pxe-link').allowed_networks = ['pxe', 'storage'];
        find(d, 'NetworkLink', 'pxe-link').trunking = { mode: '802.1q', default_network: 'pxe' };
        find(d, 'BaremetalNode', 'node01').interfaces = {
          pxe: { networks: ['oob'] },
          extra: { device_link: 'missing-link', networks: ['pxe'] },
        };
      },
      expected: [
        E(
          'Allowed Network Check: Allowed network storage duplicated on NetworkLink pxe-link and NetworkLink data-link',
          [link('pxe-link'), link('data-link')],
          'Each network is only allowed to cross a single network link.',
        ),
        E(
          'Allowed Network Check: Interface pxe attached to network oob not allowed on interface link',
          [node('node01')],
          'Interfaces can only be attached to networks allowed on the network link connected to the interface.',
        ),
        E(
          'Allowed Network Check: Interface extra connected to undefined network link missing-link.',
          [node('node01')],
          'Define the network link attached to this interface.',
        ),
      ],
    },
  ],
  'DD3003 Hostname Validity': [
    {
      title: 'an underscore, a label over 63 characters and an FQDN over 255',
      change: (d) => {
        find(d, 'BaremetalNode', 'node01').primary_network = 'pxe';
        find(d, 'Network', 'storage').dns = {
          domain: `${'a'.repeat(64)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(10)}`,
        };
        find(d, 'BaremetalNode', 'node02').primary_network = 'storage';
        d.push(...renamedNode(d, 'node_03'));
      },
      expected: [
        E(
          `Hostname Validity: FQDN node02.${'a'.repeat(64)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(10)} is invalid, greater than 255 characters.`,
          [node('node02')],
          'RFC 1035 requires full DNS names to be < 256 characters.',
        ),
        E(
          `Hostname Validity: FQDN node02.${'a'.repeat(64)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(10)} is invalid - label '${'a'.repeat(64)}' is invalid.`,
          [node('node02')],
          'RFC 1035 requires each label in a DNS name to be <= 63 characters and contain only A-Z, a-z, 0-9, and hyphens.',
        ),
        E("Hostname Validity: FQDN node_03.local is invalid - label 'node_03' is invalid.", [
          node('node_03'),
        ]),
      ],
    },
  ],
  'DD4001 Valid IPMI Configuration': [
    {
      title: 'missing credentials and no address on the OOB network',
      change: (d) => {
        find(d, 'BaremetalNode', 'node01').oob = { '!credential': null, '!account': null };
        find(d, 'BaremetalNode', 'node02').oob = { network: 'nowhere' };
      },
      expected: [
        E(
          'Valid IPMI Configuration: OOB parameter account for IPMI node node01 missing.',
          [node('node01')],
          'Define OOB parameter account',
        ),
        E(
          'Valid IPMI Configuration: OOB parameter credential for IPMI node node01 missing.',
          [node('node01')],
          'Define OOB parameter credential',
        ),
        E(
          'Valid IPMI Configuration: OOB address missing for IPMI node node02.',
          [node('node02')],
          'Provide address to node OOB interface.',
        ),
      ],
    },
  ],
  'DD4002 Valid Libvirt Configuration': [
    {
      title: 'a libvirt URI that is not qemu+ssh, and one missing with no boot MAC',
      change: (d) => {
        find(d, 'BaremetalNode', 'node01').oob = {
          type: 'libvirt',
          libvirt_uri: 'qemu+tcp://hv1/system',
        };
        const n2 = find(d, 'BaremetalNode', 'node02');
        n2.oob = { type: 'libvirt' };
        n2.metadata = { rack: 'rack-a' };
      },
      expected: [
        E(
          'Valid Libvirt Configuration: OOB parameter libvirt_uri has invalid scheme.',
          [node('node01')],
          "Only scheme 'qemu+ssh' is supported.",
        ),
        E(
          'Valid Libvirt Configuration: OOB parameter libvirt_uri missing for node node02.',
          [node('node02')],
          'Provide libvirt URI to node hypervisor.',
        ),
        E(
          'Valid Libvirt Configuration: libvirt-based node requires defined boot MAC address.',
          [node('node02')],
          "Specify the node's PXE MAC address in metadata.boot_mac",
        ),
      ],
    },
  ],
  'DD4001 Bootaction Definition': [
    {
      title: 'a node no boot action targets (a warning: the design still passes)',
      change: (d) => {
        find(d, 'BootAction', 'motd').node_filter = {
          filter_set_type: 'union',
          filter_set: [{ filter_type: 'union', node_names: ['node01'] }],
        };
      },
      expected: [
        W('Bootaction Definition: Node node02 is not in scope for any bootactions.', [
          node('node02'),
        ]),
        { level: 'Info', message: 'Bootaction Definition: Validation successful.', documents: [] },
      ],
    },
  ],
  'DD4002 Bootaction pkg_list Validation': [
    {
      title: 'a version that is not Debian, no package data, a list that is not a mapping',
      change: (d) => {
        find(d, 'BootAction', 'motd').assets = [
          { type: 'pkg_list', data: { curl: '7.81.0' } },
          { type: 'pkg_list', data: {} },
          { type: 'pkg_list', data: 'curl jq' },
        ];
      },
      expected: [
        E(
          'Bootaction pkg_list Validation: Version specifier 7.81.0 is not a valid format.',
          [action('motd')],
          'pkg_list version specifications must be in a valid format.',
        ),
        E(
          "Bootaction pkg_list Validation: Bootaction has asset of type 'pkg_list' but no valid package data",
          [action('motd')],
          'pkg_list bootaction assets must specify a list of packages.',
        ),
        E('Bootaction pkg_list Validation: Requires a top-level mapping/object.', [action('motd')]),
      ],
    },
  ],
};

/** A copy of node01 under another name, with its own addresses. */
function renamedNode(docs: Doc[], name: string): Doc[] {
  const data = structuredClone(find(docs, 'BaremetalNode', 'node01'));
  data.addressing = [{ network: 'mgmt', address: '10.1.0.99' }];
  return [{ schema: 'drydock/BaremetalNode/v1', metadata: { name }, data }];
}

describe("Drydock's 18 validation rules", () => {
  it('covers every rule, and the base site passes each with "Validation successful."', () => {
    expect(Object.keys(CASES)).toEqual(RULES.map((r) => `${r.code} ${r.name}`));
    const { status } = analyze();
    expect(status).toMatchObject({ status: 'Success', details: { errorCount: 0 } });
    for (const rule of RULES) {
      expect(messagesOf(status.details.messageList, rule.code, rule.name)).toEqual([
        {
          level: 'Info',
          message: `${rule.name}: Validation successful.`,
          documents: [],
          diagnostic: '',
        },
      ]);
    }
  });

  for (const rule of RULES) {
    for (const c of CASES[`${rule.code} ${rule.name}`] ?? []) {
      it(`${rule.code} ${rule.name}: ${c.title}`, () => {
        const { status } = analyze(c.change);
        const found = messagesOf(status.details.messageList, rule.code, rule.name);
        expect(found).toEqual(c.expected.map((e) => expect.objectContaining(e)));
        expect(found).toHaveLength(c.expected.length);
        const failing = c.expected.some((e) => e.level === 'Error');
        expect(status.status).toBe(failing ? 'Failure' : 'Success');
        expect(status.message).toBe(
          failing ? 'Site design failed validation.' : 'Site design passed validation',
        );
        // Messages carry Drydock's shape.
        for (const m of status.details.messageList) {
          expect(Object.keys(m).sort()).toEqual(
            ['diagnostic', 'documents', 'error', 'kind', 'level', 'message', 'name', 'ts'].sort(),
          );
          expect(m.kind).toBe('ValidationMessage');
          expect(m.error).toBe(m.level === 'Error');
        }
      });
    }
  }
});

describe('rules with no provisioner or no design to check', () => {
  it('DD3001 reports an Info that images and kernels were not checked, never a silent pass', () => {
    const { status } = analyze(() => {}, { platform: { images: null, kernels: null } });
    expect(messagesOf(status.details.messageList, 'DD3001', 'Platform Selection')).toEqual([
      {
        level: 'Info',
        message:
          'Platform Selection: Platform Validation: no allowed images are configured, image and kernel selections not validated.',
        documents: [],
        diagnostic:
          'Set DESIGN_PLATFORM_IMAGES and DESIGN_PLATFORM_KERNELS to the images and kernels the node provisioner (MAAS) offers.',
      },
    ]);
    const kernelsOnly = analyze(() => {}, { platform: { images: ['jammy'], kernels: null } });
    expect(
      messagesOf(kernelsOnly.status.details.messageList, 'DD3001', 'Platform Selection'),
    ).toEqual([
      expect.objectContaining({
        level: 'Info',
        message:
          'Platform Selection: Platform Validation: no allowed kernels are configured, kernel selections not validated.',
      }),
    ]);
  });

  it('warns about a design without networks or nodes, as Drydock does', () => {
    const { status } = analyze((d) => {
      for (const n of ['pxe', 'mgmt', 'storage', 'oob']) drop(d, 'Network', n);
      drop(d, 'BaremetalNode', 'node01');
      drop(d, 'BaremetalNode', 'node02');
      for (const l of ['pxe-link', 'data-link', 'oob-link'])
        find(d, 'NetworkLink', l).trunking = { mode: '802.1q' };
    });
    const warnings = status.details.messageList.filter((m) => m.level === 'Warning');
    expect(warnings.map((m) => [m.name, m.message])).toEqual([
      ['DD2006', 'CIDR Validity: No networks found.'],
      ['DD2002', 'IP Locality Check: No networks found.'],
      ['DD2002', 'IP Locality Check: No baremetal_nodes found.'],
      ['DD2005', 'Duplicated IP Check: No BaremetalNodes Found.'],
    ]);
    expect(status.status).toBe('Success');
  });
});

describe('documents the site cannot be built from', () => {
  it('reports a network without a CIDR, a link without allowed networks and a node without an address, and runs no rule', () => {
    const errors = loadErrors((d) => {
      delete find(d, 'Network', 'oob').cidr;
      delete find(d, 'NetworkLink', 'oob-link').allowed_networks;
      find(d, 'BaremetalNode', 'node02').addressing = [];
      add(d, 'Rack', 'rack-b', {});
    });
    expect(errors).toEqual([
      [
        "Unexpected error processing document: Field 'allowed_networks' cannot be None",
        [link('oob-link')],
      ],
      ["Unexpected error processing document: Field 'cidr' cannot be None", [net('oob')]],
      [
        'Error processing document: BaremetalNode needs at least 1 assigned address',
        [node('node02')],
      ],
    ]);
  });
});
