import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The service's TypeScript sources, infra/, functions/ and shared/, as repository paths: tracked,
 * or new and not ignored, so a check sees a file before it is committed; declaration files and
 * files deleted in the working tree left out.
 */
export function serviceSourceFiles(): string[] {
  const out = execFileSync(
    'git',
    [
      'ls-files',
      '--cached',
      '--others',
      '--exclude-standard',
      '--',
      'infra',
      'functions',
      'shared',
    ],
    { cwd: REPOSITORY_ROOT, encoding: 'utf8' },
  );
  return out
    .split('\n')
    .filter(
      (file) =>
        /\.tsx?$/.test(file) && !file.endsWith('.d.ts') && existsSync(join(REPOSITORY_ROOT, file)),
    );
}
