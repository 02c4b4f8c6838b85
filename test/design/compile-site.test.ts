import { describe, expect, it } from 'vitest';
import { type NodeFilterSet, selectNodes } from '#shared/design/node-filter.ts';
import type { SiteDesign } from '#shared/design/site-model.ts';
import { add, analyze, type Doc, find, loadErrors } from './site-builder.ts';

const compiled = (change: (docs: Doc[]) => void) => {
  const { site, status } = analyze(change);
  if (site === null) throw new Error(JSON.stringify(status.details.messageList, null, 1));
  return site;
};
const nodeOf = (site: SiteDesign, name: string) => {
  const node = site.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no node ${name}`);
  return node;
};

describe('host-profile inheritance (Drydock merge rules)', () => {
  const chain = (docs: Doc[]) => {
    const base = find(docs, 'HostProfile', 'compute');
    base.metadata = { tags: ['compute', 'gpu'], owner_data: { team: 'lab', tier: 'gold' } };
    base.platform.kernel_params = { console: 'ttyS0', quiet: true };
    add(docs, 'HostProfile', 'compute-fast', {
      host_profile: 'compute',
      platform: { kernel: 'hwe-22.04', kernel_params: { iommu: 'pt' } },
      metadata: { tags: ['fast'] },
    });
    const node = find(docs, 'BaremetalNode', 'node01');
    node.host_profile = 'compute-fast';
    node.platform = { image: '!', kernel_params: { '!quiet': null, console: 'ttyS1' } };
    node.metadata = {
      ...node.metadata,
      tags: ['!gpu', 'edge'],
      owner_data: { '!tier': '', site: 'west' },
    };
    node.interfaces = {
      '!pxe': {},
      bond0: { networks: ['!storage'] },
      eth9: { device_link: 'pxe-link', networks: ['pxe'] },
    };
    node.storage = {
      physical_devices: {
        bootdisk: { partitions: [{ name: 'root', size: '40g' }, { name: '!boot' }] },
        '!sdb': {},
      },
      volume_groups: { data: { logical_volumes: [{ name: 'var', size: '60%' }] } },
    };
  };

  it('merges lists, dictionaries and fields through a chain of profiles, with ! removals', () => {
    const node = nodeOf(compiled(chain), 'node01');
    // Fields: '!' unsets, unset inherits from the nearest profile that sets it.
    expect([node.image, node.kernel, node.hardwareProfile, node.primaryNetwork]).toEqual([
      null,
      'hwe-22.04',
      'hw-gen1',
      'mgmt',
    ]);
    // Lists: the child's entries first, then the parent's not removed by '!entry'.
    expect(node.tags).toEqual(['edge', 'fast', 'compute']);
    // Dictionaries: the parent's keys not removed by '!key', then the child's (values as strings).
    expect(node.ownerData).toEqual({ team: 'lab', site: 'west' });
    expect(node.kernelParams).toEqual({ console: 'ttyS1', iommu: 'pt' });
    expect(node.oobParameters).toEqual({
      network: 'oob',
      account: 'admin',
      credential: 'not-a-password',
    });
    // Interfaces by name: '!name' removes, same name merges, new ones are added.
    expect(
      node.interfaces.map((i) => [i.name, i.networkLink, i.networks, i.hardwareSlaves]),
    ).toEqual([
      ['bond0', 'data-link', ['mgmt'], ['nic0', 'nic1']],
      ['eth9', 'pxe-link', ['pxe'], []],
    ]);
    // Storage by name, down to partitions and logical volumes.
    expect(node.storageDevices.map((d) => d.name)).toEqual(['bootdisk']);
    expect(node.storageDevices[0]?.partitions?.map((p) => [p.name, p.size, p.mountpoint])).toEqual([
      ['root', '40g', '/'],
    ]);
    expect(
      node.volumeGroups[0]?.logicalVolumes?.map((v) => [v.name, v.size, v.mountpoint]),
    ).toEqual([['var', '60%', '/var']]);
    // Profiles are compiled too, and the other node keeps the plain profile.
    expect(nodeOf(compiled(chain), 'node02').tags).toEqual(['compute', 'gpu']);
  });

  it('reports a missing parent and a circular chain, naming the document, and runs no rule', () => {
    const errors = loadErrors((docs) => {
      find(docs, 'BaremetalNode', 'node01').host_profile = 'ghost';
      add(docs, 'HostProfile', 'loop-a', { host_profile: 'loop-b' });
      add(docs, 'HostProfile', 'loop-b', { host_profile: 'loop-a' });
    });
    expect(errors).toEqual([
      [
        'Error loading effective site: HostProfile loop-b is part of a circular host_profile chain',
        [{ schema: 'drydock/HostProfile/v1', name: 'loop-a' }],
      ],
      [
        'Error loading effective site: HostProfile ghost not found in design state',
        [{ schema: 'drydock/BaremetalNode/v1', name: 'node01' }],
      ],
    ]);
  });

  it('requires a hardware profile, set and defined', () => {
    const { status } = analyze((docs) => {
      find(docs, 'HostProfile', 'compute').hardware_profile = undefined;
      find(docs, 'BaremetalNode', 'node02').hardware_profile = 'hw-gen9';
    });
    expect(status.details.messageList.map((m) => m.message)).toEqual([
      'Error loading effective site: Hardware profile not set',
      'Error loading effective site: HardwareProfile hw-gen9 not found in design state',
    ]);
  });
});

describe('hardware profile per node: device aliases and kernel parameters', () => {
  it('resolves pci aliases of interface slaves and scsi aliases of disks, else keeps the OS name', () => {
    const node = nodeOf(
      compiled((docs) => {
        find(docs, 'HostProfile', 'compute').interfaces.bond0.slaves = ['nic1', 'eno5'];
      }),
      'node01',
    );
    expect(node.interfaces.find((i) => i.name === 'bond0')?.selectors).toEqual([
      { selectorType: 'address', address: '0000:3b:00.1', deviceType: '25GbE' },
      { selectorType: 'name', address: 'eno5', deviceType: null },
    ]);
    expect(node.storageDevices.map((d) => d.selector)).toEqual([
      { selectorType: 'address', address: '2:0.0.0', deviceType: 'SSD' },
      { selectorType: 'name', address: 'sdb', deviceType: null },
    ]);
  });

  it('fills hardwareprofile: references in kernel parameters, keeping ones that name nothing', () => {
    const node = nodeOf(
      compiled((docs) => {
        find(docs, 'HostProfile', 'compute').platform.kernel_params = {
          isolcpus: 'hardwareprofile:cpuset.pinned',
          hugepagesz: 'hardwareprofile:hugepages.dpdk.size',
          hugepages: 'hardwareprofile:hugepages.dpdk.count',
          rcu_nocbs: 'hardwareprofile:cpuset.absent',
          quiet: true,
        };
      }),
      'node02',
    );
    expect(node.kernelParams).toEqual({
      isolcpus: '4-15',
      hugepagesz: '1G',
      hugepages: '16',
      rcu_nocbs: 'hardwareprofile:cpuset.absent',
      quiet: 'True',
    });
  });
});

describe('route domains rendered into routes', () => {
  it('gives each network with a route in the domain a route to every other CIDR of it', () => {
    const site = compiled((docs) => {
      const rd = (name: string, cidr: string, gateway?: string, metric = 10) =>
        add(docs, 'Network', name, {
          cidr,
          routedomain: 'storage-rd',
          routes: gateway
            ? [{ subnet: '0.0.0.0/0', gateway, metric, routedomain: 'storage-rd' }]
            : [],
        });
      rd('st-a', '10.50.0.0/24', '10.50.0.1');
      rd('st-b', '10.51.0.0/24', '10.51.0.1', 20);
      rd('st-c', '10.52.0.0/24');
      find(docs, 'NetworkLink', 'data-link').allowed_networks.push('st-a', 'st-b', 'st-c');
    });
    const routes = (name: string) =>
      site.networks
        .find((n) => n.name === name)
        ?.routes.map((r) => [r.subnet, r.gateway, r.metric]);
    expect(routes('st-a')).toEqual([
      ['0.0.0.0/0', '10.50.0.1', 10],
      ['10.51.0.0/24', '10.50.0.1', 10],
      ['10.52.0.0/24', '10.50.0.1', 10],
    ]);
    expect(routes('st-b')).toEqual([
      ['0.0.0.0/0', '10.51.0.1', 20],
      ['10.50.0.0/24', '10.51.0.1', 20],
      ['10.52.0.0/24', '10.51.0.1', 20],
    ]);
    expect(routes('st-c')).toEqual([]);
    expect(routes('mgmt')).toEqual([['0.0.0.0/0', '10.1.0.1', 10]]);
  });
});

describe('node filters (process_node_filter)', () => {
  const site = compiled((docs) => {
    const n1 = find(docs, 'BaremetalNode', 'node01');
    n1.metadata = { ...n1.metadata, tags: ['gpu'], owner_data: { tier: 'gold' } };
    const n2 = find(docs, 'BaremetalNode', 'node02');
    n2.metadata = { ...n2.metadata, rack: 'rack-b', owner_data: { tier: 'silver' } };
    add(docs, 'Rack', 'rack-b', { labels: { row: 'south' } });
  });
  const set = (type: string, ...filters: NodeFilterSet['filter_set'] & object) => ({
    filter_set_type: type,
    filter_set: filters,
  });
  const cases: [string, NodeFilterSet | null, string[]][] = [
    ['no filter: every node', null, ['node01', 'node02']],
    [
      'node_names',
      set('union', { filter_type: 'union', node_names: ['node02', 'nodeX'] }),
      ['node02'],
    ],
    [
      'node_tags (any, inherited ones included)',
      set('union', { filter_type: 'union', node_tags: ['gpu'] }),
      ['node01'],
    ],
    [
      'node_labels (owner_data)',
      set('union', { filter_type: 'union', node_labels: { tier: 'silver' } }),
      ['node02'],
    ],
    ['rack_names', set('union', { filter_type: 'union', rack_names: ['rack-a'] }), ['node01']],
    [
      'rack_labels',
      set('union', { filter_type: 'union', rack_labels: { row: 'south' } }),
      ['node02'],
    ],
    [
      'a union filter joins its criteria',
      set('union', { filter_type: 'union', node_tags: ['gpu'], rack_names: ['rack-b'] }),
      ['node01', 'node02'],
    ],
    [
      'an intersection filter meets them',
      set('union', {
        filter_type: 'intersection',
        node_labels: { team: 'lab' },
        rack_names: ['rack-b'],
      }),
      ['node02'],
    ],
    [
      'an intersection set meets its filters',
      set(
        'intersection',
        { filter_type: 'union', node_names: ['node01', 'node02'] },
        { filter_type: 'union', node_tags: ['compute'], rack_labels: { row: 'north' } },
        { filter_type: 'intersection', node_labels: { tier: 'gold' } },
      ),
      ['node01'],
    ],
    ['a union filter with no criteria selects none', set('union', { filter_type: 'union' }), []],
    [
      'an intersection filter with no criteria selects all',
      set('union', { filter_type: 'intersection' }),
      ['node01', 'node02'],
    ],
    ['an empty union set selects none', set('union'), []],
  ];
  for (const [title, filter, expected] of cases) {
    it(title, () => {
      expect(selectNodes(site, filter)).toEqual(expected);
    });
  }

  it('refuses an unknown filter type, as Drydock raised', () => {
    expect(() => selectNodes(site, set('everything', { filter_type: 'union' }))).toThrow(
      'Unknown filter set type everything',
    );
    expect(() => selectNodes(site, set('union', { filter_type: 'some' }))).toThrow(
      'Unknown filter type some',
    );
  });
});

describe('boot-action targeting', () => {
  it('compiles each boot action to the node names its filter selects', () => {
    const site = compiled((docs) => {
      add(docs, 'BootAction', 'rack-a-only', {
        assets: [{ path: '/etc/x', type: 'file', data: 'x' }],
        node_filter: {
          filter_set_type: 'union',
          filter_set: [{ filter_type: 'union', node_names: ['node02'] }],
        },
      });
    });
    expect(site.bootActions.map((b) => [b.name, b.targetNodes])).toEqual([
      ['motd', ['node01', 'node02']],
      ['rack-a-only', ['node02']],
    ]);
  });

  it('reports a boot action whose filter has no set type, as Drydock failed to load the site', () => {
    const { status, site } = analyze((docs) => {
      add(docs, 'BootAction', 'untyped', {
        assets: [],
        node_filter: { filter_set: [{ filter_type: 'union', node_names: ['node01'] }] },
      });
    });
    expect(site).toBeNull();
    expect(status.details.messageList.map((m) => [m.message, m.documents])).toEqual([
      [
        'Error loading effective site: Error processing node filter: Unknown filter set type None',
        [{ schema: 'drydock/BootAction/v1', name: 'untyped' }],
      ],
    ]);
  });
});
