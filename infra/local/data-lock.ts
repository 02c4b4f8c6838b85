import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

/** Who holds a data folder: written into the lock file, shown to whoever is refused. */
interface Holder {
  pid: number;
  host: string;
  since: string;
}

/** Thrown when another live process holds the folder. */
export class DataFolderLockedError extends Error {
  override readonly name = 'DataFolderLockedError';
}

export interface DataFolderLock {
  /** The lock file (`<folder>.lock`, beside the folder, not inside PGlite's files). */
  readonly path: string;
  /** Removes the lock; safe to call more than once. */
  release(): void;
}

function readHolder(path: string): Holder | undefined {
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>;
    return typeof holder.pid === 'number' ? (holder as Holder) : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data folder for this process, so that two `npm start` (or a start and `npm run
 * migrate`) never open the same PGlite folder: PGlite is one embedded server per folder, and
 * two of them would each write their own pages and one would lose its writes. The lock is a
 * file created exclusively beside the folder with the holder's pid; a lock left by a process
 * that no longer runs (a crash, `kill -9`) is taken over. Refused with `DataFolderLockedError`
 * naming the holder.
 */
export function lockDataFolder(folder: string): DataFolderLock {
  const path = `${resolve(folder).replace(/\/+$/, '')}.lock`;
  const me: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readHolder(path);
      if (holder && (holder.host !== me.host || isAlive(holder.pid))) {
        throw new DataFolderLockedError(
          `${folder} is in use by another drydock-statemgmt (pid ${holder.pid} on ${holder.host}, since ` +
            `${holder.since}); stop it first, or set PGLITE_DATA_DIR to another folder. If that process ` +
            `is gone, delete ${path}.`,
        );
      }
      // Left by a process that is gone (or unreadable, half written): take it over.
      try {
        unlinkSync(path);
      } catch {
        // Someone else removed it first; try again.
      }
      continue;
    }
    writeSync(fd, JSON.stringify(me));
    closeSync(fd);
    let released = false;
    return {
      path,
      release() {
        if (released) return;
        released = true;
        // Only our own lock: never one another process took over meanwhile.
        if (readHolder(path)?.pid === me.pid) unlinkSync(path);
      },
    };
  }
  throw new DataFolderLockedError(`could not lock ${folder}: ${path} keeps changing`);
}

/**
 * `npm start` and `npm run migrate`: locks the configured PGlite folder (none for `memory://` or
 * another driver), or exits with the reason when another process holds it.
 */
export function holdDataFolder(env: NodeJS.ProcessEnv = process.env): DataFolderLock | undefined {
  const folder = env.PGLITE_DATA_DIR;
  if (env.DB_DRIVER !== 'pglite' || !folder || folder === 'memory://') return undefined;
  try {
    const lock = lockDataFolder(folder);
    process.once('exit', () => lock.release());
    return lock;
  } catch (error) {
    if (!(error instanceof DataFolderLockedError)) throw error;
    console.error(`drydock-statemgmt did not start: ${error.message}`);
    process.exit(1);
  }
}
