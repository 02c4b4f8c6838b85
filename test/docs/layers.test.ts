// The layering shared/README.md describes, checked on every import: infra → functions → kits →
// use cases → store → db → AWS clients, nothing backwards; the cross-cutting modules import no
// kit; the composition root is below no store, db or AWS module; the typed client the console
// bundles imports no server code.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT as ROOT, serviceSourceFiles } from '#test/support/service-sources.ts';

/** Outermost first: a module may import its own layer and the ones after it, never one before. */
const LAYERS: readonly { readonly name: string; readonly holds: RegExp }[] = [
  { name: 'infra', holds: /^infra\// },
  { name: 'functions', holds: /^functions\// },
  { name: 'kits', holds: /^shared\/(http|triggers)\/|^shared\/lambda-kit\.ts$/ },
  {
    name: 'use cases',
    holds: /^shared\/(api|notify|design-refs|design|auth|bootactions)\//,
  },
  { name: 'store', holds: /^shared\/store\// },
  { name: 'db', holds: /^shared\/db\// },
  { name: 'AWS clients', holds: /^shared\/aws\// },
];
/** Cross-cutting modules (config, errors, validation, limits, the deadline…): any layer's. */
const CROSS_CUTTING = /^shared\/[^/]+\.ts$/;
/** The composition roots build adapters, so the store, db and AWS layers never import them. */
const ROOTS = new Set(['shared/deps.ts', 'shared/design-deps.ts']);
/** The typed API client the console and the CLI bundle: itself and the error taxonomy only. */
const CLIENT = /^shared\/client\//;
const CLIENT_MAY_IMPORT = new Set(['shared/errors.ts']);

const layerOf = (file: string) => LAYERS.findIndex((layer) => layer.holds.test(file));

/** Every module a file imports (static, dynamic, type-only, re-exports), as a repository path. */
function importsOf(file: string, text: string): string[] {
  const { importedFiles } = ts.preProcessFile(text, true, true);
  const out: string[] = [];
  for (const { fileName } of importedFiles) {
    const alias = /^#(shared|functions|infra|test)\/(.*)$/.exec(fileName);
    if (alias) out.push(`${alias[1]}/${alias[2]}`);
    else if (fileName.startsWith('.')) {
      out.push(relative(ROOT, resolve(ROOT, dirname(file), fileName)));
    }
  }
  return out;
}

/** Each import that runs against the layering, with the rule it breaks. */
function backwardsImports(sources: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [file, text] of sources) {
    const from = layerOf(file);
    for (const target of importsOf(file, text)) {
      const to = layerOf(target);
      if (from >= 0 && to >= 0 && to < from) {
        found.push(`${file} (${LAYERS[from]?.name}) imports ${target} (${LAYERS[to]?.name})`);
      } else if (CROSS_CUTTING.test(file) && to >= 0 && to <= 2) {
        found.push(`${file} (cross-cutting) imports ${target} (${LAYERS[to]?.name})`);
      } else if (ROOTS.has(target) && from >= layerOf('shared/store/x.ts')) {
        found.push(`${file} (${LAYERS[from]?.name}) imports the composition root ${target}`);
      } else if (CLIENT.test(file) && !CLIENT.test(target) && !CLIENT_MAY_IMPORT.has(target)) {
        found.push(`${file} (the typed client) imports ${target}`);
      }
      if (!file.startsWith('test/') && target.startsWith('test/')) {
        found.push(`${file} imports test code ${target}`);
      }
    }
  }
  return found;
}

describe('imports follow the layering (shared/README.md, Layout)', () => {
  const sources = new Map(
    serviceSourceFiles().map((f) => [f, readFileSync(join(ROOT, f), 'utf8')]),
  );

  it('reads every source folder and places each shared module in a layer', () => {
    for (const folder of ['infra/', 'functions/', 'shared/http/', 'shared/store/', 'shared/db/']) {
      expect(
        [...sources.keys()].some((f) => f.startsWith(folder)),
        folder,
      ).toBe(true);
    }
    const unplaced = [...sources.keys()].filter(
      (f) => layerOf(f) < 0 && !CROSS_CUTTING.test(f) && !CLIENT.test(f),
    );
    expect(unplaced).toEqual([]);
  });

  it('has no import running backwards', () => {
    expect(backwardsImports(sources)).toEqual([]);
  });

  it('would catch one: each rule flags a module that breaks it', () => {
    const broken = new Map([
      ['shared/db/bad.ts', "import { createHttpHandler } from '../http/handler.ts';"],
      ['shared/store/bad.ts', "import type { Deps } from '#shared/deps.ts';"],
      ['shared/api/bad.ts', "export { handler } from '../../functions/tasks.ts';"],
      ['shared/limits2.ts', "const kit = await import('./triggers/sqs.ts');"],
      ['shared/client/bad.ts', "import { TASK_STATUSES } from '../domain.ts';"],
      ['functions/bad.ts', "import { startLocalService } from '#infra/local/service.ts';"],
      ['shared/retry2.ts', "import { recordingClock } from '#test/support/retry-clock.ts';"],
    ]);
    expect(backwardsImports(broken)).toHaveLength(broken.size);
  });
});
