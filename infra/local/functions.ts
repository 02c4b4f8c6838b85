import { readdir, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ApiHandler } from '#shared/http/handler.ts';
import type { AnyRoute, HttpMethod } from '#shared/http/route.ts';
import { loadOnce } from '#shared/load-once.ts';

/** An HTTP Lambda as the local server and the OpenAPI generator see it. */
export interface HttpFunction {
  /** The file name without `.ts` (`tasks`, `build-data`, …). */
  readonly name: string;
  readonly routes: readonly AnyRoute[];
  readonly handler: ApiHandler;
}

/** A route as the manifest names it: enough to know which function owns a request. */
export interface RouteKey {
  readonly method: HttpMethod;
  readonly path: string;
}

/**
 * An HTTP function the local server has not loaded yet: its routes from the manifest, its module
 * imported by `load()` on the first request it owns (once; later calls share that import).
 */
export interface LazyHttpFunction {
  readonly name: string;
  readonly routes: readonly RouteKey[];
  load(): Promise<HttpFunction>;
}

const FUNCTIONS_DIR = fileURLToPath(new URL('../../functions/', import.meta.url));

/**
 * Which function serves which routes (`{"tasks": ["GET /api/v1.0/tasks", …]}`), written by
 * `npm run openapi` beside the OpenAPI document; the OpenAPI test fails when it is stale.
 */
export const ROUTE_MANIFEST_FILE = fileURLToPath(
  new URL('./routes.generated.json', import.meta.url),
);

function isHttpFunction(module: Record<string, unknown>): boolean {
  return Array.isArray(module.routes) && typeof module.handler === 'function';
}

async function importHttpFunction(file: string): Promise<HttpFunction | undefined> {
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  if (!isHttpFunction(module)) return undefined;
  return {
    name: basename(file, '.ts'),
    routes: module.routes as readonly AnyRoute[],
    handler: module.handler as ApiHandler,
  };
}

/**
 * Every `functions/*.ts` that exports `routes` and `handler`, in name order. Discovered rather
 * than listed, so a new function (design resolution, say) is served and documented as soon as it
 * follows the same pattern. Importing a function builds nothing: dependencies are built on the
 * first invocation.
 */
export async function loadHttpFunctions(dir: string = FUNCTIONS_DIR): Promise<HttpFunction[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.ts')).sort();
  const found: HttpFunction[] = [];
  for (const file of files) {
    const fn = await importHttpFunction(`${dir}/${file}`);
    if (fn) found.push(fn);
  }
  return found;
}

/** The route manifest's text for these functions (what `npm run openapi` commits). */
export function routeManifestText(functions: readonly HttpFunction[]): string {
  const manifest = Object.fromEntries(
    functions.map((fn) => [fn.name, fn.routes.map((route) => `${route.method} ${route.path}`)]),
  );
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/**
 * The HTTP functions of the route manifest, none of them imported: the local server loads each
 * one's module on the first request it owns, so a start (a restart on PGlite above all) pays only
 * for the functions its first requests use.
 */
export async function lazyHttpFunctions(
  manifestFile: string = ROUTE_MANIFEST_FILE,
  dir: string = FUNCTIONS_DIR,
): Promise<LazyHttpFunction[]> {
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, string[]>;
  return Object.entries(manifest).map(([name, keys]) => ({
    name,
    routes: keys.map((key) => {
      const [method, path] = key.split(' ') as [HttpMethod, string];
      return { method, path };
    }),
    load: loadOnce(async () => {
      const fn = await importHttpFunction(`${dir}/${name}.ts`);
      if (!fn) throw new Error(`functions/${name}.ts no longer serves HTTP: run npm run openapi`);
      return fn;
    }),
  }));
}
