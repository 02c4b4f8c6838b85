import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

/** The API's TypeScript types, generated from the committed OpenAPI document. */
export const CLIENT_TYPES_FILE = fileURLToPath(
  new URL('../../shared/client/api-types.generated.ts', import.meta.url),
);

const HEADER = `// Generated from functions/openapi.json by openapi-typescript (\`npm run openapi\`). DO NOT EDIT.
// A test fails when this file and the document drift apart.
`;

/**
 * The `paths`/`components` types of the OpenAPI document's text. The client (CLI and console)
 * is typed by them, so a route or schema change that the client does not follow fails `tsc`.
 */
export async function generateClientTypesText(openapiText: string): Promise<string> {
  const ast = await openapiTS(JSON.parse(openapiText), { alphabetize: true });
  return `${HEADER}\n${astToString(ast)}`;
}

/** The types as generated from the committed `functions/openapi.json`. */
export async function generateClientTypesFromCommitted(openapiFile: string): Promise<string> {
  return generateClientTypesText(await readFile(openapiFile, 'utf8'));
}
