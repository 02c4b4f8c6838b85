import type { BootAction, BootActionAsset, SiteDesign } from '../design/site-model.ts';

/**
 * The `node` half of Drydock's template context (`BootActionAsset._get_node_context`), built from
 * the effective site where the design is compiled. `platform` is this service's addition: the
 * node's image, kernel and kernel parameters, which Drydock's templates could not reach.
 */
export interface NodeTemplateContext {
  hostname: string;
  /** DNS domain of the node's primary network, else `local` (`BaremetalNode.get_domain`). */
  domain: string;
  tags: string[];
  /** The node's `owner_data` (Drydock's labels). */
  labels: Record<string, string>;
  /** Per network with a static address: `{ip, cidr, dns_suffix}`; the primary one again as `default`. */
  network: Record<string, { ip: string; cidr: string; dns_suffix: string }>;
  /** Per interface: `{sriov}`, plus `vf_count` and `trustedmode` when SR-IOV is on. */
  interfaces: Record<string, { sriov: boolean; vf_count?: number; trustedmode?: boolean }>;
  platform: { image: string | null; kernel: string | null; kernel_params: Record<string, string> };
}

/** A boot action that targets the node, with what rendering needs of it. */
export interface TargetedBootAction {
  name: string;
  signaling: boolean;
  assets: BootActionAsset[];
}

/** The node's template context, or null when the design has no such node. */
export function nodeTemplateContext(
  site: SiteDesign,
  nodeName: string,
): NodeTemplateContext | null {
  const node = site.nodes.find((n) => n.name === nodeName);
  if (!node) return null;
  const networks = new Map(site.networks.map((n) => [n.name, n]));
  const network: NodeTemplateContext['network'] = {};
  for (const a of node.addressing) {
    if (a.address === null) continue;
    const net = networks.get(a.network);
    if (!net) continue;
    const entry = { ip: a.address, cidr: net.cidr, dns_suffix: net.dnsDomain };
    network[a.network] = entry;
    if (a.network === node.primaryNetwork) network.default = entry;
  }
  const interfaces: NodeTemplateContext['interfaces'] = {};
  for (const i of node.interfaces) {
    interfaces[i.name] = i.sriov
      ? { sriov: true, vf_count: i.sriov.vfCount, trustedmode: i.sriov.trustedMode }
      : { sriov: false };
  }
  const primary = node.primaryNetwork === null ? undefined : networks.get(node.primaryNetwork);
  return {
    hostname: node.name,
    domain: primary?.dnsDomain || 'local',
    tags: [...node.tags],
    labels: { ...node.ownerData },
    network,
    interfaces,
    platform: { image: node.image, kernel: node.kernel, kernel_params: { ...node.kernelParams } },
  };
}

/** The design's boot actions whose node filter selects the node, in design order. */
export function targetedBootActions(site: SiteDesign, nodeName: string): TargetedBootAction[] {
  return site.bootActions
    .filter((ba: BootAction) => ba.targetNodes.includes(nodeName))
    .map((ba) => ({ name: ba.name, signaling: ba.signaling, assets: ba.assets }));
}
