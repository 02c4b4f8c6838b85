import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '#shared/http/openapi.ts';
import { CLIENT_TYPES_FILE, generateClientTypesText } from './client-types.ts';
import { loadHttpFunctions, ROUTE_MANIFEST_FILE, routeManifestText } from './functions.ts';

/** Where the committed document lives (bundled into the health function). */
export const OPENAPI_FILE = fileURLToPath(new URL('../../functions/openapi.json', import.meta.url));

/** The OpenAPI document of every HTTP function, as the committed file's text. */
export async function generateOpenApiText(): Promise<string> {
  const pkg = JSON.parse(
    await readFile(new URL('../../package.json', import.meta.url), 'utf8'),
  ) as { version: string };
  const functions = await loadHttpFunctions();
  const document = buildOpenApiDocument(
    functions.flatMap((fn) => fn.routes),
    pkg.version,
  );
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** The local server's route manifest: which function serves which routes. */
export async function generateRouteManifestText(): Promise<string> {
  return routeManifestText(await loadHttpFunctions());
}

// `node infra/local/openapi.ts` rewrites functions/openapi.json after a route or schema change,
// the client's types generated from it, and the local server's route manifest.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = await generateOpenApiText();
  await writeFile(OPENAPI_FILE, text);
  console.log(`wrote ${OPENAPI_FILE}`);
  await writeFile(ROUTE_MANIFEST_FILE, await generateRouteManifestText());
  console.log(`wrote ${ROUTE_MANIFEST_FILE}`);
  await writeFile(CLIENT_TYPES_FILE, await generateClientTypesText(text));
  console.log(`wrote ${CLIENT_TYPES_FILE}`);
}
