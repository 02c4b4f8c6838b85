import { readdir } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ApiHandler } from '#shared/http/handler.ts';
import type { AnyRoute } from '#shared/http/route.ts';

/** An HTTP Lambda as the local server and the OpenAPI generator see it. */
export interface HttpFunction {
  /** The file name without `.ts` (`tasks`, `build-data`, …). */
  readonly name: string;
  readonly routes: readonly AnyRoute[];
  readonly handler: ApiHandler;
}

const FUNCTIONS_DIR = fileURLToPath(new URL('../../functions/', import.meta.url));

function isHttpFunction(module: Record<string, unknown>): boolean {
  return Array.isArray(module.routes) && typeof module.handler === 'function';
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
    const module = (await import(pathToFileURL(`${dir}/${file}`).href)) as Record<string, unknown>;
    if (!isHttpFunction(module)) continue;
    found.push({
      name: basename(file, '.ts'),
      routes: module.routes as readonly AnyRoute[],
      handler: module.handler as ApiHandler,
    });
  }
  return found;
}
