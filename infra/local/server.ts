// The service on http://127.0.0.1:3000 over the same handlers the Lambdas run. `npm start` runs
// it through start.js (V8's flag on Node's command line), which turns Node's compile cache on first.
import { coalesceWrites } from './coalesced-output.ts';
import { holdDataFolder } from './data-lock.ts';
import { applyLocalDefaults, portFrom } from './env.ts';

// One access log line per request: the lines of 10 ms written together (coalesced-output.ts).
coalesceWrites(process.stdout);
applyLocalDefaults();
// One process per PGlite folder: a second `npm start` on it is refused before it opens it.
const lock = holdDataFolder();
if (lock && process.env.PGLITE_DATA_DIR) {
  // A fresh folder starts as a copy of a pre-initialised one (initdb and migrations done).
  const { seedDataFolder } = await import('./pglite-template.ts');
  await seedDataFolder(process.env.PGLITE_DATA_DIR, (line) => console.log(line)).catch(
    (error: unknown) =>
      console.log(`PGlite: starting without the template (${(error as Error).message})`),
  );
}
const { startLocalService } = await import('./service.ts');
const { createStaticFiles } = await import('./static-files.ts');
const { prepareConsole } = await import('../console/console-build.ts');

const scheduleOff = /^(0|off|false|no)$/i.test(process.env.LOCAL_SCHEDULE ?? '');
const service = await startLocalService({
  port: portFrom(process.env.PORT, 3000),
  host: process.env.HOST || '127.0.0.1',
  scheduleMs: scheduleOff ? 0 : 60_000,
  // The console at `/`: built already by `npm ci`, rebuilt in the background if its sources
  // changed since, so the API answers at once either way.
  staticFiles: createStaticFiles({ root: prepareConsole((line) => console.log(line)) }),
}).catch((error: unknown) => {
  // Configuration and connection problems are the usual cause: the message says which.
  console.error(`drydock-statemgmt did not start: ${(error as Error).message}`);
  lock?.release();
  process.exit(1);
});

const where =
  process.env.DB_DRIVER === 'pglite'
    ? `PGlite in ${process.env.PGLITE_DATA_DIR}`
    : process.env.DB_DRIVER === 'pg'
      ? 'Postgres (DATABASE_URL)'
      : 'the RDS Data API';
console.log(`drydock-statemgmt listening on ${service.url} (${where})`);
console.log(
  scheduleOff
    ? 'lease schedule: off (LOCAL_SCHEDULE=off)'
    : process.env.LEASE_MODE === 'hold'
      ? `lease schedule: every minute, holding the lease for ${process.env.LEASE_INSTANCE_ID}`
      : "lease schedule: every minute, holding no lease (recovers dead leaders' work, daily retention)",
);
console.log(
  process.env.KEYSTONE_URL
    ? `auth: Keystone tokens (X-Auth-Token) validated at ${process.env.KEYSTONE_URL}`
    : 'auth: open (every request is the local IAM identity; set KEYSTONE_URL to require tokens)',
);
console.log(`console: ${service.url}/`);
console.log(`try: curl -i ${service.url}/api/v1.0/health`);
console.log(
  `     curl -s -X POST ${service.url}/api/v1.0/tasks -H 'Content-Type: application/json' ` +
    `-d '{"action":"verify_site","design_ref":"deckhand+https://deckhand.local/api/v1.0/revisions/1/rendered-documents"}'`,
);
console.log('Ctrl-C stops it.');

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping`);
  service.stop().then(
    () => {
      lock?.release();
      process.exit(0);
    },
    (error: unknown) => {
      console.error('stop failed', error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
