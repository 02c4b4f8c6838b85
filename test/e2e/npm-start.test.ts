import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { request } from './harness.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = process.execPath;

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Runs `node infra/local/server.ts` (what `npm start` runs) and waits for its whole banner. */
function startProcess(env: Record<string, string>): Promise<Started> {
  const child = spawn(NODE, ['infra/local/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no listen line after 120 s:\n${out}`)),
      120_000,
    );
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      // The banner is several lines; a pipe may deliver them in separate chunks, so wait for
      // its last line before the test reads it.
      if (m && out.includes('Ctrl-C stops it.')) {
        clearTimeout(timer);
        resolve({ child, url: m[1] as string, output: () => out });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
}

function stopProcess(started: Started): Promise<number | null> {
  return new Promise((resolve) => {
    started.child.removeAllListeners('exit');
    started.child.on('exit', (code) => resolve(code));
    started.child.kill('SIGINT');
  });
}

describe('npm start (the local server as a process)', () => {
  let dataDir: string | undefined;
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  // Two cold starts of a real process (the first one initialises a PGlite folder), on a machine
  // that runs other test files at the same time: allow well beyond vitest's 60 s default.
  it('serves over PGlite in a folder, prints a first curl, stops on Ctrl-C and keeps the data', {
    timeout: 240_000,
  }, async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'drydock-pglite-'));
    const env = { PORT: '0', PGLITE_DATA_DIR: dataDir, LOG_LEVEL: 'WARN' };

    const first = await startProcess(env);
    expect(first.output()).toContain(`try: curl -i ${first.url}/api/v1.0/health`);
    expect(first.output()).toContain('lease schedule: every minute for local-');
    expect((await request(first.url, 'GET', '/api/v1.0/health')).status).toBe(204);
    const created = await request(first.url, 'POST', '/api/v1.0/tasks', {
      body: {
        action: 'verify_site',
        design_ref: 'deckhand+https://deckhand.local/api/v1.0/revisions/1',
      },
    });
    expect(created.status).toBe(201);
    // The schedule ticked on start: this server's instance holds the lease.
    const lease = await request(first.url, 'GET', '/api/v1.0/leader');
    expect(lease.body.holder).toMatch(/^local-/);
    expect(await stopProcess(first)).toBe(0);
    expect(first.output()).toContain('SIGINT: stopping');

    const second = await startProcess(env);
    const again = await request(second.url, 'GET', `/api/v1.0/tasks/${created.body.task_id}`);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('queued');
    expect(await stopProcess(second)).toBe(0);
  });
});
