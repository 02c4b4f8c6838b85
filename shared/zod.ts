// zod's mini build, the one way the service imports zod: `import * as z from '#shared/zod.ts'`.
// Schemas are built with functions (`z.optional(s)`, `s.check(z.minLength(1))`) instead of
// methods, so a bundle carries only the parts its schemas use and building a schema attaches no
// method table to it: the classic build put about 100 kB of zod into every function's init code
// and most of its init time.
import { en } from 'zod/locales';
import { config, globalRegistry, type output, type ZodMiniType } from 'zod/mini';
import type { GlobalMeta } from 'zod/v4/core';

// The mini build has no messages of its own; these are the classic build's English ones, which
// answers and tests quote ("Too small: expected string to have >=1 characters").
config(en());

export * from 'zod/mini';

/**
 * A schema built on its first use (`TaskDictSchema()`), not at module load: building every zod
 * schema of a function's routes was about a third of its Lambda init, and a container that only
 * ever serves some routes never builds the others.
 */
export type LazySchema<T extends ZodMiniType = ZodMiniType> = () => T;

/** What a lazily built schema parses to: `Parsed<typeof TaskEventSchema>`. */
export type Parsed<L extends LazySchema> = output<ReturnType<L>>;

// True while the OpenAPI generator builds schemas: only then is documentation registered.
let documenting = false;

/**
 * Declares a schema built by `build` on its first call and kept. While the OpenAPI document is
 * generated (`documented`), the same schema is built once more with its documentation
 * registered, so a schema that validated requests before the generator ran cannot lose its
 * descriptions from the document.
 */
export function lazySchema<T extends ZodMiniType>(build: () => T): LazySchema<T> {
  let plain: T | undefined;
  let withDocs: T | undefined;
  return () => {
    if (documenting) {
      withDocs ??= build();
      return withDocs;
    }
    plain ??= build();
    return plain;
  };
}

/**
 * The classic `.meta()`: documentation (description, example, a component `id`) for the OpenAPI
 * document. Only the generator needs it, so outside `documented` the schema is returned as it is
 * and nothing is cloned or registered; a schema that carries documentation must therefore be
 * built inside a `lazySchema` declaration (the OpenAPI test fails otherwise).
 */
export function meta<T extends ZodMiniType>(schema: T, metadata: GlobalMeta): T {
  if (!documenting) return schema;
  const copy = schema.clone();
  globalRegistry.add(copy, metadata);
  return copy;
}

/** Runs `generate` (the OpenAPI generator) with documentation registered on schemas it builds. */
export function documented<T>(generate: () => T): T {
  documenting = true;
  try {
    return generate();
  } finally {
    documenting = false;
  }
}
