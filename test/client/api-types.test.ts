import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CLIENT_TYPES_FILE, generateClientTypesText } from '#infra/local/client-types.ts';
import { OPENAPI_FILE } from '#infra/local/openapi.ts';

describe('the typed client and the OpenAPI document', () => {
  it('has its types generated from the committed document (run `npm run openapi`)', async () => {
    const committed = await readFile(CLIENT_TYPES_FILE, 'utf8');
    const fresh = await generateClientTypesText(await readFile(OPENAPI_FILE, 'utf8'));
    expect(committed, 'shared/client/api-types.generated.ts is stale: run `npm run openapi`').toBe(
      fresh,
    );
  });
});
