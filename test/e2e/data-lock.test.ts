import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFolderLockedError, lockDataFolder } from '#infra/local/data-lock.ts';

const base = mkdtempSync(join(tmpdir(), 'drydock-lock-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('the PGlite data folder lock', () => {
  it('lets one holder in, refuses the next with who holds it, and frees on release', () => {
    const folder = join(base, 'a');
    const lock = lockDataFolder(folder);
    expect(lock.path).toBe(`${folder}.lock`);
    expect(() => lockDataFolder(folder)).toThrow(DataFolderLockedError);
    expect(() => lockDataFolder(`${folder}/`)).toThrow(`(pid ${process.pid} on ${hostname()}`);
    lock.release();
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
    lockDataFolder(folder).release();
  });

  it('takes over a lock left by a process that is gone, but not one held on another host', () => {
    const folder = join(base, 'b');
    // The pid of a process that has exited.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const stale = { pid: Number(gone.stdout.toString()), host: hostname(), since: 'earlier' };
    writeFileSync(`${folder}.lock`, JSON.stringify(stale));
    const lock = lockDataFolder(folder);
    expect(lock.path).toBe(`${folder}.lock`);
    lock.release();
    writeFileSync(`${folder}.lock`, JSON.stringify({ ...stale, host: 'another-host' }));
    expect(() => lockDataFolder(folder)).toThrow('on another-host');
    // A half-written lock (a crash while writing it) is stale too.
    writeFileSync(`${folder}.lock`, '{"pi');
    lockDataFolder(folder).release();
  });
});
