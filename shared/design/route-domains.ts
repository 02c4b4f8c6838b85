import type { Network, Route } from './site-model.ts';

/** Routes rendering may add: a design of 2,000 networks in one domain would add four million. */
export const MAX_RENDERED_ROUTES = 100_000;

/**
 * Renders route domains into static routes (Drydock's `Orchestrator.render_route_domains`): the
 * networks sharing a `routedomain` can reach each other's CIDRs. A network with a route whose
 * `routedomain` names a domain (the first such route, with a gateway and a metric) gets one route
 * to every CIDR of that domain other than its own, through that gateway with that metric.
 * Returns new networks (the input is not changed), or a problem when the routes would exceed
 * `MAX_RENDERED_ROUTES`.
 */
export function renderRouteDomains(networks: readonly Network[]): Network[] | { problem: string } {
  const cidrsByDomain = new Map<string, string[]>();
  for (const n of networks) {
    if (n.routedomain === null) continue;
    const cidrs = cidrsByDomain.get(n.routedomain) ?? [];
    cidrs.push(n.cidr);
    cidrsByDomain.set(n.routedomain, cidrs);
  }
  if (cidrsByDomain.size === 0) return [...networks];
  let total = 0;
  for (const n of networks) {
    for (const [domain, cidrs] of cidrsByDomain) {
      if (n.routes.some((r) => r.routedomain === domain)) total += cidrs.length;
    }
  }
  if (total > MAX_RENDERED_ROUTES) {
    return {
      problem: `route domains would render ${total} routes, more than ${MAX_RENDERED_ROUTES}`,
    };
  }
  return networks.map((n) => {
    const added: Route[] = [];
    for (const [domain, cidrs] of cidrsByDomain) {
      const via = n.routes.find((r) => r.routedomain === domain);
      if (!via || via.gateway === null || via.metric === null) continue;
      for (const cidr of cidrs) {
        if (cidr !== n.cidr) {
          added.push({ subnet: cidr, gateway: via.gateway, metric: via.metric, routedomain: null });
        }
      }
    }
    return added.length === 0 ? n : { ...n, routes: [...n.routes, ...added] };
  });
}
