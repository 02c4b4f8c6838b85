// A pre-initialised PGlite data folder. Most of a first `npm start` on a fresh folder was
// PGlite's initdb (about 16 s of CPU) and the migrations; both run once per PGlite version and
// schema into `.data/pglite-template-<key>/`, and a fresh folder starts as a copy of it (a
// restart's cost). `npm ci` builds it (infra/scripts/prepare.ts); so does running this file.
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TEMPLATES = join(ROOT, '.data');
const PREFIX = 'pglite-template-';

/** What the template's files depend on: the PGlite build (its initdb) and the migrations. */
export function templateKey(): string {
  const pglite = JSON.parse(
    readFileSync(join(ROOT, 'node_modules/@electric-sql/pglite/package.json'), 'utf8'),
  ) as { version: string };
  return createHash('sha256')
    .update(pglite.version)
    .update('\0')
    .update(readFileSync(join(ROOT, 'shared/db/migrations.generated.ts')))
    .digest('hex')
    .slice(0, 16);
}

/** The template folder for the current key (may not exist yet). */
export function templateFolder(): string {
  return join(TEMPLATES, `${PREFIX}${templateKey()}`);
}

const isDataFolder = (folder: string) => existsSync(join(folder, 'PG_VERSION'));

/**
 * The template for the current PGlite and schema, built first if missing: initdb and every
 * migration in a scratch folder, closed cleanly, then renamed into place (so a crash never
 * leaves half a template, and two builders racing keep one). Older templates are removed.
 */
export async function ensurePgliteTemplate(
  log: (line: string) => void = () => {},
): Promise<string> {
  const folder = templateFolder();
  if (isDataFolder(folder)) return folder;
  log('PGlite: preparing a template data folder (once per PGlite version and schema)…');
  const started = Date.now();
  mkdirSync(TEMPLATES, { recursive: true });
  const scratch = mkdtempSync(`${folder}.building-`);
  try {
    const { createPgliteDb } = await import('#shared/db/pglite.ts');
    const { migrate } = await import('#shared/db/migrate.ts');
    const { migrations } = await import('#shared/db/migrations.generated.ts');
    const db = await createPgliteDb({ dataDir: scratch });
    try {
      await migrate(db, migrations);
    } finally {
      await db.close();
    }
    try {
      renameSync(scratch, folder);
    } catch (error) {
      // Another process finished the same template first: keep theirs.
      if (!isDataFolder(folder)) throw error;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  for (const entry of readdirSync(TEMPLATES)) {
    const path = join(TEMPLATES, entry);
    if (entry.startsWith(PREFIX) && path !== folder && !entry.includes('.building-')) {
      rmSync(path, { recursive: true, force: true });
    }
  }
  log(`PGlite: template ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return folder;
}

/**
 * Makes an empty data folder a copy of the template (copied beside it, then renamed, so an
 * interrupted copy never looks like a database). A folder that already holds a database, or
 * anything else, is left alone. The caller holds the folder's lock. Returns whether it seeded.
 */
export async function seedDataFolder(
  folder: string,
  log: (line: string) => void = () => {},
): Promise<boolean> {
  const target = resolve(folder);
  if (existsSync(target) && readdirSync(target).length > 0) return false;
  const template = await ensurePgliteTemplate(log);
  const copy = `${target}.seeding-${process.pid}`;
  rmSync(copy, { recursive: true, force: true });
  try {
    cpSync(template, copy, { recursive: true });
    if (existsSync(target)) rmdirSync(target);
    renameSync(copy, target);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
  return true;
}

if (import.meta.main) await ensurePgliteTemplate((line) => console.log(line));
