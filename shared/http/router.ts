import type { AnyRoute, HttpMethod } from './route.ts';

export type RouteMatch =
  | { kind: 'found'; route: AnyRoute; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: HttpMethod[] }
  | { kind: 'not-found' };

interface CompiledRoute {
  route: AnyRoute;
  pattern: RegExp;
  names: string[];
  literal: boolean;
}

function compile(route: AnyRoute): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const param = /^\{([a-z_]+)\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(param[1] as string);
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}/?$`), names, literal: names.length === 0 };
}

/**
 * Matches a request path against a route table. Literal routes win over templated ones
 * (`/tasks/claim` before `/tasks/{task_id}`), whatever the table's order. A path that exists
 * with another method is a 405 with `Allow`; anything else is a 404.
 */
export function createRouter(
  routes: readonly AnyRoute[],
): (method: string, path: string) => RouteMatch {
  const compiled = routes.map(compile).sort((a, b) => Number(b.literal) - Number(a.literal));
  return (method, path) => {
    const allow: HttpMethod[] = [];
    let literalHit = false;
    for (const candidate of compiled) {
      // A literal path that exists (with another method) shadows the templated ones.
      if (literalHit && !candidate.literal) break;
      const m = candidate.pattern.exec(path);
      if (!m) continue;
      if (candidate.route.method !== method.toUpperCase()) {
        if (candidate.literal) literalHit = true;
        if (!allow.includes(candidate.route.method)) allow.push(candidate.route.method);
        continue;
      }
      const params: Record<string, string> = {};
      let decodable = true;
      candidate.names.forEach((name, i) => {
        try {
          params[name] = decodeURIComponent(m[i + 1] as string);
        } catch {
          decodable = false;
        }
      });
      if (!decodable) return { kind: 'not-found' };
      return { kind: 'found', route: candidate.route, params };
    }
    return allow.length > 0 ? { kind: 'method-not-allowed', allow } : { kind: 'not-found' };
  };
}
