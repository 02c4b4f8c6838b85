/**
 * Hash routes (`#/tasks/<id>`), so any page can be bookmarked or reloaded from a static file
 * server that knows nothing of the console's pages.
 */
export type Route =
  | { page: 'tasks'; query: URLSearchParams }
  | { page: 'task'; taskId: string }
  | { page: 'nodes'; nodeName: string | null }
  | { page: 'lease' }
  | { page: 'queue' }
  | { page: 'design' }
  | { page: 'not-found'; path: string };

/** The route of a location hash such as `#/tasks?status=running`. */
export function parseRoute(hash: string): Route {
  const [rawPath = '', rawQuery = ''] = hash.replace(/^#/, '').split('?', 2);
  const parts = rawPath.split('/').filter(Boolean).map(safeDecode);
  const [first, second] = parts;
  if (first === undefined || (first === 'tasks' && second === undefined)) {
    return { page: 'tasks', query: new URLSearchParams(rawQuery) };
  }
  if (first === 'tasks' && second !== undefined && parts.length === 2) {
    return { page: 'task', taskId: second };
  }
  if (first === 'nodes' && parts.length <= 2) return { page: 'nodes', nodeName: second ?? null };
  if (first === 'lease' && parts.length === 1) return { page: 'lease' };
  if (first === 'queue' && parts.length === 1) return { page: 'queue' };
  if (first === 'design' && parts.length === 1) return { page: 'design' };
  return { page: 'not-found', path: rawPath };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Hrefs of the console's pages. */
export const href = {
  tasks: (query?: URLSearchParams) => {
    const search = query?.toString() ?? '';
    return search === '' ? '#/tasks' : `#/tasks?${search}`;
  },
  task: (taskId: string) => `#/tasks/${encodeURIComponent(taskId)}`,
  node: (nodeName: string) => `#/nodes/${encodeURIComponent(nodeName)}`,
  nodes: () => '#/nodes',
  lease: () => '#/lease',
  queue: () => '#/queue',
  design: () => '#/design',
};
