import { adminQuery, SKIP_SERVER, TEST_DATABASE_URL } from './pg-server.ts';

/** Fails the run early, with the fix, when the Postgres server is down (unless skipped on purpose). */
export default async function setup(): Promise<void> {
  // The template `npm start` copies into a fresh PGlite folder (npm ci builds it; a new migration
  // needs a new one): built once here, before files that start servers run in parallel.
  const { ensurePgliteTemplate } = await import('#infra/local/pglite-template.ts');
  await ensurePgliteTemplate((line) => console.log(line));
  if (SKIP_SERVER) {
    console.warn('DRYDOCK_TEST_SKIP_PG=1: the Postgres-server half of the suite is skipped');
    return;
  }
  try {
    await adminQuery('select 1');
  } catch (error) {
    const host = new URL(TEST_DATABASE_URL).host;
    throw new Error(
      `Postgres is not reachable at ${host} (${(error as Error).message}). Start it with ` +
        '`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, or set ' +
        'DRYDOCK_TEST_SKIP_PG=1 to skip the server-backed tests on purpose.',
    );
  }
}
