import { pyStr, type SiteDesign } from './site-model.ts';

/** One filter of a set (Drydock's `NodeFilter`); absent criteria do not constrain. */
export type NodeFilter = {
  filter_type?: string | null;
  node_names?: readonly string[] | null;
  node_tags?: readonly string[] | null;
  node_labels?: Readonly<Record<string, unknown>> | null;
  rack_names?: readonly string[] | null;
  rack_labels?: Readonly<Record<string, unknown>> | null;
};

/** A node filter document (`doc/source/task.rst`), as tasks and boot actions carry it. */
export type NodeFilterSet = {
  filter_set_type?: string | null;
  filter_set?: readonly NodeFilter[] | null;
};

/** A filter that cannot be evaluated (Drydock raised `OrchestratorError`). */
export class NodeFilterProblem extends Error {
  override readonly name = 'NodeFilterProblem';
}

/**
 * The names of the nodes a filter selects, in design order (Drydock's `process_node_filter`):
 * no filter selects every node; each filter of the set selects by `node_names`, `node_tags`
 * (any of them), `node_labels` and `rack_labels` (any `key: value` pair in the node's
 * `owner_data` or its rack's labels) and `rack_names`, combining its criteria by its
 * `filter_type`; the set combines its filters by `filter_set_type`.
 *
 * Where Drydock crashed or ignored input this answers: `rack_labels` select by the racks'
 * labels (Drydock logged "not yet implemented" and dropped them); an intersection of no
 * criteria, or of no filters, constrains nothing (all nodes), a union of none selects none.
 * An unknown `filter_type` or `filter_set_type` throws `NodeFilterProblem`.
 */
export function selectNodes(site: SiteDesign, filter: NodeFilterSet | null | undefined): string[] {
  const all = site.nodes.map((n) => n.name);
  if (filter === null || filter === undefined) return all;
  const racks = new Map(site.racks.map((r) => [r.name, r.labels]));
  const sets = (filter.filter_set ?? []).map((f) => evaluate(site, racks, f));
  const joined = join(filter.filter_set_type, sets, 'filter set type');
  return joined === undefined ? all : all.filter((name) => joined.has(name));
}

/** The nodes one filter selects; undefined means "no constraint" (an empty intersection). */
function evaluate(
  site: SiteDesign,
  rackLabels: ReadonlyMap<string, Readonly<Record<string, string>>>,
  f: NodeFilter,
): Set<string> | undefined {
  const criteria: Set<string>[] = [];
  const pick = (test: (node: SiteDesign['nodes'][number]) => boolean) =>
    criteria.push(new Set(site.nodes.filter(test).map((n) => n.name)));
  if (f.node_names && f.node_names.length > 0) {
    const names = new Set(f.node_names);
    pick((n) => names.has(n.name));
  }
  if (f.node_tags && f.node_tags.length > 0) {
    const tags = f.node_tags;
    pick((n) => tags.some((t) => n.tags.includes(t)));
  }
  if (f.rack_names && f.rack_names.length > 0) {
    const names = new Set(f.rack_names);
    pick((n) => n.rack !== null && names.has(n.rack));
  }
  if (f.node_labels && Object.keys(f.node_labels).length > 0) {
    const labels = Object.entries(f.node_labels);
    pick((n) =>
      labels.some(([k, v]) => Object.hasOwn(n.ownerData, k) && n.ownerData[k] === pyStr(v)),
    );
  }
  if (f.rack_labels && Object.keys(f.rack_labels).length > 0) {
    const labels = Object.entries(f.rack_labels);
    pick((n) => {
      const rack = n.rack === null ? undefined : rackLabels.get(n.rack);
      return (
        rack !== undefined &&
        labels.some(([k, v]) => Object.hasOwn(rack, k) && rack[k] === pyStr(v))
      );
    });
  }
  return join(f.filter_type, criteria, 'filter type') ?? undefined;
}

function join(
  type: string | null | undefined,
  sets: readonly (Set<string> | undefined)[],
  what: string,
): Set<string> | undefined {
  if (type === 'union') {
    const out = new Set<string>();
    for (const s of sets) {
      // A member with no constraint selects everything; the union is then unconstrained.
      if (s === undefined) return undefined;
      for (const name of s) out.add(name);
    }
    return out;
  }
  if (type === 'intersection') {
    let out: Set<string> | undefined;
    for (const s of sets) {
      if (s === undefined) continue;
      out = out === undefined ? new Set(s) : new Set([...out].filter((name) => s.has(name)));
    }
    return out;
  }
  throw new NodeFilterProblem(`Unknown ${what} ${type ?? 'None'}`);
}
