// `npm run migrate`: applies pending migrations to the configured database, then exits.
import { holdDataFolder } from './data-lock.ts';
import { applyLocalDefaults } from './env.ts';

applyLocalDefaults();
holdDataFolder();
const { applyMigrations } = await import('#shared/api/migrations.ts');
const { closeDeps, getDeps } = await import('#shared/deps.ts');

try {
  const result = await applyMigrations(await getDeps());
  console.log(
    result.applied.length > 0
      ? `applied ${result.applied.join(', ')} (schema version ${result.current})`
      : `up to date (schema version ${result.current})`,
  );
} catch (error) {
  console.error(`migrate failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await closeDeps();
}
