import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The console's sources and its build output (gitignored). */
export const CONSOLE_DIR = fileURLToPath(new URL('.', import.meta.url));
export const CONSOLE_DIST = join(CONSOLE_DIR, 'dist');
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Written last by a successful build: the digest of the sources it was built from. */
const DIGEST_FILE = join(CONSOLE_DIST, '.build-digest');

/**
 * Everything the bundle is made of: the console, the modules of shared/ it imports (the client,
 * the error taxonomy the client imports, the status and action lists), and the lockfile.
 */
const INPUTS = [
  'infra/console/index.html',
  'infra/console/vite.config.ts',
  'infra/console/src',
  'shared/client',
  'shared/errors.ts',
  'shared/domain.ts',
  'package-lock.json',
];

async function filesUnder(path: string): Promise<string[]> {
  try {
    const entries = await readdir(path, { withFileTypes: true, recursive: true });
    return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return [path];
    throw error;
  }
}

/** A digest of the console's inputs (a few dozen small files: milliseconds). */
export async function consoleSourceDigest(): Promise<string> {
  const files = (await Promise.all(INPUTS.map((input) => filesUnder(join(ROOT, input))))).flat();
  const hash = createHash('sha256');
  for (const file of files.sort()) {
    hash
      .update(relative(ROOT, file))
      .update('\0')
      .update(await readFile(file))
      .update('\0');
  }
  return hash.digest('hex');
}

/** Whether `dist/` was built from the current sources. */
export async function isConsoleBuildFresh(): Promise<boolean> {
  const built = await readFile(DIGEST_FILE, 'utf8').catch(() => '');
  return built !== '' && built === (await consoleSourceDigest());
}

/** Builds the console with Vite into `dist/` and records what it was built from. */
export async function buildConsole(): Promise<void> {
  const digest = await consoleSourceDigest();
  const { build } = await import('vite');
  await build({ configFile: join(CONSOLE_DIR, 'vite.config.ts') });
  await writeFile(DIGEST_FILE, digest);
}

/**
 * The folder to serve the console from, built first when its sources changed: checked once, in
 * the background, so the API answers at once; a stale or missing build is rebuilt in a child
 * process (Vite stays out of the server's memory) and console requests wait for it.
 */
export function prepareConsole(log: (line: string) => void = () => {}): () => Promise<string> {
  const ready = (async () => {
    if (await isConsoleBuildFresh()) return CONSOLE_DIST;
    log('console: building it (its sources changed since the last build)…');
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [join(CONSOLE_DIR, 'build.ts')], {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`the build failed (npm run build:console): ${stderr.slice(-500)}`)),
      );
    });
    log(`console: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return CONSOLE_DIST;
  })();
  // A failed build is reported on each console request (503), never as an unhandled rejection.
  ready.catch((error: unknown) => log(`console: ${(error as Error).message}`));
  return () => ready;
}
