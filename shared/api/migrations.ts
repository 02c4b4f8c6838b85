import { type MigrationResult, migrate } from '../db/migrate.ts';
import { migrations } from '../db/migrations.generated.ts';
import type { ContainerDeps } from '../deps.ts';

/**
 * Applies the pending migrations (deploy-time trigger, `npm run migrate`, `npm start`). Errors
 * propagate: a failed migration must fail the deploy rather than leave a half-known schema.
 */
export async function applyMigrations(
  deps: Pick<ContainerDeps, 'db' | 'logger'>,
): Promise<MigrationResult> {
  const result = await migrate(deps.db, migrations);
  deps.logger.info('migrations applied', {
    driver: deps.db.driver,
    applied: result.applied,
    current: result.current,
  });
  return result;
}
