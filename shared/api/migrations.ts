import { type MigrationResult, migrate, unvalidatedConstraints } from '../db/migrate.ts';
import { migrations } from '../db/migrations.generated.ts';
import type { ContainerDeps } from '../deps.ts';

/**
 * Applies the pending migrations (deploy-time trigger, `npm run migrate`, `npm start`). Errors
 * propagate: a failed migration must fail the deploy rather than leave a half-known schema. A
 * constraint left `NOT VALID` (old rows past a bound) is logged as a warning at every run: the
 * migration's own WARNING reaches no log (neither the Data API nor the drivers pass notices on).
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
  const notValid = await unvalidatedConstraints(deps.db);
  if (notValid.length > 0) {
    deps.logger.warn(
      'constraints not validated: rows written before them are past them, or the table was not ' +
        "checked within the migration's deadline",
      {
        constraints: notValid,
        action:
          'shorten or delete the rows past each, then ALTER TABLE <table> VALIDATE CONSTRAINT <name>, ' +
          'which also proves one that was not checked in time (new writes are checked meanwhile; ' +
          'see shared/http/README.md, "Left as it is")',
      },
    );
  }
  return result;
}
