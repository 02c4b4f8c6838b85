import { mkdirSync } from 'node:fs';

/**
 * Fills in local defaults before the service reads its configuration: the driver follows what
 * is configured (`DATABASE_URL` → pg, `DB_CLUSTER_ARN` → Data API, else PGlite in
 * `.data/pglite`). The lease schedule holds no lease of its own (as deployed), so an
 * orchestrator started against `npm start` leads at once; `LEASE_MODE=hold` with
 * `LEASE_INSTANCE_ID` makes the local schedule hold it, for an orchestrator running inside it.
 * Designs are parsed in two worker threads unless told otherwise.
 * Everything else is read by `shared/config.ts`, as in a Lambda.
 */
export function applyLocalDefaults(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.DB_DRIVER) {
    if (env.DB_CLUSTER_ARN) env.DB_DRIVER = 'data-api';
    else if (env.DATABASE_URL || env.DATABASE_SECRET_ARN) env.DB_DRIVER = 'pg';
    else env.DB_DRIVER = 'pglite';
  }
  // One process serves every function locally: designs are parsed in worker threads so a large
  // one never delays other requests (a Lambda parses inline; it serves one request at a time).
  env.DESIGN_WORKERS ||= '2';
  if (env.DB_DRIVER === 'pglite') {
    env.PGLITE_DATA_DIR ||= '.data/pglite';
    if (env.PGLITE_DATA_DIR !== 'memory://') mkdirSync(env.PGLITE_DATA_DIR, { recursive: true });
  }
}

/** A port number from the environment, or the default. */
export function portFrom(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) throw new Error(`PORT must be 0-65535 (got ${value})`);
  return port;
}
