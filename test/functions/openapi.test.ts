import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { loadHttpFunctions, ROUTE_MANIFEST_FILE } from '#infra/local/functions.ts';
import {
  generateOpenApiText,
  generateRouteManifestText,
  OPENAPI_FILE,
} from '#infra/local/openapi.ts';

describe('the OpenAPI document', () => {
  it('is committed exactly as the generator writes it (run `node infra/local/openapi.ts`)', async () => {
    const committed = await readFile(OPENAPI_FILE, 'utf8');
    expect(committed, 'functions/openapi.json is stale: run `node infra/local/openapi.ts`').toBe(
      await generateOpenApiText(),
    );
  });

  it("commits the local server's route manifest exactly as the generator writes it", async () => {
    // The local server dispatches by it and imports a function's module on its first request.
    const committed = await readFile(ROUTE_MANIFEST_FILE, 'utf8');
    expect(
      committed,
      'infra/local/routes.generated.json is stale: run `node infra/local/openapi.ts`',
    ).toBe(await generateRouteManifestText());
  });

  it('documents every route of every HTTP function once, with unique operation ids', async () => {
    const document = JSON.parse(await generateOpenApiText());
    const functions = await loadHttpFunctions();
    const routes = functions.flatMap((fn) => fn.routes);
    expect(routes.length).toBeGreaterThanOrEqual(20);
    const operations: string[] = [];
    for (const route of routes) {
      const operation = document.paths[route.path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      operations.push(operation.operationId);
    }
    expect(new Set(operations).size).toBe(operations.length);
    expect(document.openapi).toBe('3.1.0');
    // Every $ref resolves to a component.
    const refs = [
      ...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g),
    ];
    for (const [, name] of refs) expect(document.components.schemas).toHaveProperty(name as string);
  });

  it('describes request bodies from the zod schemas (strict objects, enums, bounds)', async () => {
    const document = JSON.parse(await generateOpenApiText());
    const create =
      document.paths['/api/v1.0/tasks'].post.requestBody.content['application/json'].schema;
    const schema = create.$ref
      ? document.components.schemas[create.$ref.split('/').at(-1)]
      : create;
    expect(schema.additionalProperties).toBe(false);
    // A caller's task needs design_ref and one of the 8 user actions (checked with Drydock's
    // message); the lease holder's internal task, with its epoch, may be any of the 37.
    expect(schema.required).toEqual(['action']);
    expect(schema.properties.action.enum).toHaveLength(37);
    expect(schema.properties.epoch.description).toMatch(/internal task/);
    const days = document.paths['/api/v1.0/tasks'].delete.parameters.find(
      (p: { name: string }) => p.name === 'days',
    );
    expect(days).toMatchObject({ in: 'query', required: false });
  });
});
