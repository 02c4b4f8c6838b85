// zod's mini build, the one way the service imports zod: `import * as z from '#shared/zod.ts'`.
// Schemas are built with functions (`z.optional(s)`, `s.check(z.minLength(1))`) instead of
// methods, so a bundle carries only the parts its schemas use and building a schema at init
// attaches no method table to it: the classic build put about 100 kB of zod into every
// function's init code and most of its init time.
import { en } from 'zod/locales';
import { config, globalRegistry, type ZodMiniType } from 'zod/mini';
import type { GlobalMeta } from 'zod/v4/core';

// The mini build has no messages of its own; these are the classic build's English ones, which
// answers and tests quote ("Too small: expected string to have >=1 characters").
config(en());

export * from 'zod/mini';

/**
 * The classic `.meta()`: a copy of the schema with documentation (description, example) for
 * the OpenAPI document, which is generated at build time from these registrations.
 */
export function meta<T extends ZodMiniType>(schema: T, metadata: GlobalMeta): T {
  const copy = schema.clone();
  globalRegistry.add(copy, metadata);
  return copy;
}
