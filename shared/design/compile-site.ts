import { applyHardwareProfile } from './device-aliases.ts';
import { createProfileResolver, type InheritanceProblem } from './inherit-profiles.ts';
import { NodeFilterProblem, selectNodes } from './node-filter.ts';
import { renderRouteDomains } from './route-domains.ts';
import type { BaremetalNode, ModelProblem, SiteDesign } from './site-model.ts';

/**
 * The effective site, as Drydock's `Orchestrator.get_effective_site` computes it from the
 * described one, in its order:
 *
 * 1. host-profile inheritance into every profile and node (`compute_model_inheritance`);
 * 2. each node's hardware profile: device aliases and kernel-parameter references
 *    (`BaremetalNode.apply_hardware_profile`, `resolve_kernel_params`);
 * 3. boot-action targets: each boot action's node filter evaluated (`compute_bootaction_targets`);
 * 4. route domains rendered into routes (`render_route_domains`).
 *
 * Drydock stopped at the first failure ("Error loading effective site: ..."); this collects every
 * problem, each naming the document at fault, and the caller fails validation as Drydock did.
 */
export function compileSite(described: SiteDesign): { site: SiteDesign; problems: ModelProblem[] } {
  const problems: ModelProblem[] = [];
  const resolver = createProfileResolver(described.hostProfiles);
  const hardware = new Map<string, SiteDesign['hardwareProfiles'][number]>();
  for (const h of described.hardwareProfiles) if (!hardware.has(h.name)) hardware.set(h.name, h);

  // A broken profile chain is reported once, on the document naming the missing or looping parent.
  const reported = new Set<string>();
  const report = (problem: InheritanceProblem) => {
    const key = `${problem.spec.ref.name}\u0000${problem.message}`;
    if (reported.has(key)) return;
    reported.add(key);
    problems.push({ ref: problem.spec.ref, message: problem.message });
  };
  const hostProfiles = described.hostProfiles.flatMap((p) => {
    const compiled = resolver.compile(p);
    if ('message' in compiled) {
      report(compiled);
      return [];
    }
    return [compiled];
  });

  const nodes: BaremetalNode[] = [];
  for (const node of described.nodes) {
    const inherited = resolver.compile(node);
    if ('message' in inherited) {
      report(inherited);
      continue;
    }
    if (inherited.hardwareProfile === null) {
      problems.push({ ref: node.ref, message: 'Hardware profile not set' });
      continue;
    }
    const profile = hardware.get(inherited.hardwareProfile);
    if (!profile) {
      problems.push({
        ref: node.ref,
        message: `HardwareProfile ${inherited.hardwareProfile} not found in design state`,
      });
      continue;
    }
    nodes.push(applyHardwareProfile(inherited, profile));
  }

  const withNodes: SiteDesign = { ...described, hostProfiles, nodes };
  const bootActions = described.bootActions.map((ba) => {
    try {
      return { ...ba, targetNodes: selectNodes(withNodes, ba.nodeFilter) };
    } catch (error) {
      if (!(error instanceof NodeFilterProblem)) throw error;
      problems.push({ ref: ba.ref, message: `Error processing node filter: ${error.message}` });
      return ba;
    }
  });

  const rendered = renderRouteDomains(described.networks);
  let networks = described.networks;
  if ('problem' in rendered) {
    problems.push({ ref: { schema: 'drydock/Network/v1', name: '' }, message: rendered.problem });
  } else {
    networks = rendered;
  }
  return { site: { ...withNodes, bootActions, networks }, problems };
}
