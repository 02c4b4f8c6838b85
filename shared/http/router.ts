import { decodeUrlComponent } from '../input.ts';
import type { AnyRoute, HttpMethod } from './route.ts';

/** A method the HTTP kit answers on every path, besides the routes' own. */
export type KitMethod = 'HEAD' | 'OPTIONS';

export type RouteMatch<R extends Pick<AnyRoute<never>, 'method' | 'path'> = AnyRoute> =
  | { kind: 'found'; route: R; params: Record<string, string> }
  | { kind: 'options'; allow: (HttpMethod | KitMethod)[] }
  | { kind: 'method-not-allowed'; allow: (HttpMethod | KitMethod)[] }
  | { kind: 'not-found' };

interface CompiledRoute<R> {
  route: R;
  pattern: RegExp;
  names: string[];
  literal: boolean;
}

function compile<R extends Pick<AnyRoute<never>, 'method' | 'path'>>(route: R): CompiledRoute<R> {
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

/** The methods a path answers: its routes', HEAD wherever GET is, and OPTIONS everywhere. */
function allowed(methods: readonly HttpMethod[]): (HttpMethod | KitMethod)[] {
  const allow: (HttpMethod | KitMethod)[] = [...methods];
  if (methods.includes('GET')) allow.splice(allow.indexOf('GET') + 1, 0, 'HEAD');
  allow.push('OPTIONS');
  return allow;
}

/**
 * Matches a request path against a route table. Literal routes win over templated ones
 * (`/tasks/claim` before `/tasks/{task_id}`), whatever the table's order. HEAD is served by the
 * path's GET route (the handler drops the body), OPTIONS by the kit itself with `Allow`, as
 * Drydock's falcon resources answer; a path that exists with another method is a 405 with
 * `Allow`; anything else is a 404. Done once here, so every route gets both.
 */
export function createRouter<R extends Pick<AnyRoute<never>, 'method' | 'path'> = AnyRoute>(
  routes: readonly R[],
): (method: string, path: string) => RouteMatch<R> {
  const compiled = routes.map(compile).sort((a, b) => Number(b.literal) - Number(a.literal));
  return (method, path) => {
    const asked = method.toUpperCase();
    const wanted = asked === 'HEAD' ? 'GET' : asked;
    const methods: HttpMethod[] = [];
    let literalHit = false;
    for (const candidate of compiled) {
      // A literal path that exists (with another method) shadows the templated ones.
      if (literalHit && !candidate.literal) break;
      const m = candidate.pattern.exec(path);
      if (!m) continue;
      if (candidate.route.method !== wanted) {
        if (candidate.literal) literalHit = true;
        if (!methods.includes(candidate.route.method)) methods.push(candidate.route.method);
        continue;
      }
      // Invalid escapes (%FF) decode to lone surrogates, which the handler's edge check refuses
      // with the parameter's name: a malformed node name is a bad request, not a missing route.
      const params: Record<string, string> = {};
      candidate.names.forEach((name, i) => {
        params[name] = decodeUrlComponent(m[i + 1] as string);
      });
      return { kind: 'found', route: candidate.route, params };
    }
    if (methods.length === 0) return { kind: 'not-found' };
    if (wanted === 'OPTIONS') return { kind: 'options', allow: allowed(methods) };
    return { kind: 'method-not-allowed', allow: allowed(methods) };
  };
}
