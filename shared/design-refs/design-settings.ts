import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { DESIGN_DEFAULTS, type DesignResolverSettings } from './design-resolver.ts';

const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
const optionalArn = z
  .string()
  .optional()
  .transform((v) => (v?.trim() ? v.trim() : undefined));
const int = (min: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) {
        ctx.addIssue({ code: 'custom', message: `expected an integer ≥ ${min}` });
        return z.NEVER;
      }
      return n;
    });

/** The `DESIGN_*` environment variables, validated. */
export const DesignEnvSchema = z.object({
  DESIGN_FILE_ROOTS: list.refine((roots) => roots.every((r) => isAbsolute(r)), {
    message: 'every entry must be an absolute folder',
  }),
  DESIGN_ALLOW_HOSTS: list,
  DESIGN_HTTP_CREDENTIALS_SECRET_ARN: optionalArn,
  DESIGN_KEYSTONE_SECRET_ARN: optionalArn,
  DESIGN_MAX_BYTES: int(1, DESIGN_DEFAULTS.maxBytes),
  DESIGN_CACHE_TTL_SECONDS: int(0, DESIGN_DEFAULTS.cacheTtlSeconds),
  DESIGN_HTTP_TIMEOUT_MS: int(1, DESIGN_DEFAULTS.httpTimeoutMs),
  DESIGN_HTTP_RETRIES: int(0, DESIGN_DEFAULTS.httpRetries),
});

/**
 * Builds the resolver settings from the environment (throws a `ZodError` naming the variable
 * at fault, which should fail the cold start).
 * @example createDesignResolver(designResolverSettingsFromEnv(process.env))
 */
export function designResolverSettingsFromEnv(
  env: Record<string, string | undefined>,
): DesignResolverSettings {
  const e = DesignEnvSchema.parse(env);
  return {
    fileRoots: e.DESIGN_FILE_ROOTS,
    allowHosts: e.DESIGN_ALLOW_HOSTS,
    httpCredentialsSecretArn: e.DESIGN_HTTP_CREDENTIALS_SECRET_ARN,
    keystoneSecretArn: e.DESIGN_KEYSTONE_SECRET_ARN,
    maxBytes: e.DESIGN_MAX_BYTES,
    cacheTtlSeconds: e.DESIGN_CACHE_TTL_SECONDS,
    httpTimeoutMs: e.DESIGN_HTTP_TIMEOUT_MS,
    httpRetries: e.DESIGN_HTTP_RETRIES,
  };
}
