import { applyMigrations } from '#shared/api/migrations.ts';
import type { MigrationResult } from '#shared/db/migrate.ts';
import { getDeps } from '#shared/deps.ts';

/**
 * The deploy-time trigger: applies pending migrations and returns what it did. It throws on any
 * failure, so the trigger (and with it the deployment) fails instead of serving an old schema.
 */
export const handler = async (): Promise<MigrationResult> => applyMigrations(await getDeps());
