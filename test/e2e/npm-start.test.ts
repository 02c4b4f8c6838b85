import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { npmStartArgv } from '#test/support/npm-start.ts';
import { request } from './harness.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = process.execPath;

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/**
 * Runs what `npm start` runs (package.json's command), or Node with other arguments, and waits for
 * its whole banner.
 */
function startProcess(
  env: Record<string, string>,
  argv: readonly string[] = npmStartArgv(),
): Promise<Started> {
  const child = spawn(NODE, argv, {
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

/** Runs shell text with bash (`-e`: the first failing command fails it), returning stdout. */
function bash(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-e', '-c', script], { timeout: 60_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

/** The documentation's examples point at the default port; the test's server has its own. */
const onServer = (text: string, url: string) => text.replaceAll('http://127.0.0.1:3000', url);

/** functions/README.md's example command for a route (its table's Example column). */
function readmeExample(readme: string, route: string): string {
  const row = readme.split('\n').find((line) => line.startsWith(`| \`${route}\``));
  const example = row && /\| `(curl [^`]+)`/.exec(row)?.[1];
  if (!example) throw new Error(`no example for ${route} in functions/README.md`);
  return example;
}

/** Runs the server to its exit (it is expected to refuse to start): exit code and output. */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(NODE, ['infra/local/start.js'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
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
    expect(first.output()).toContain('lease schedule: every minute, holding no lease');
    // The console at `/`, from the build `npm ci` made (or one made now if its sources changed).
    expect(first.output()).toContain(`console: ${first.url}/`);
    const page = await fetch(`${first.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<div id="app">');
    expect((await request(first.url, 'GET', '/api/v1.0/health')).status).toBe(204);
    // The schedule holds no lease (LEASE_MODE=watch): an orchestrator leads at once.
    expect((await request(first.url, 'GET', '/api/v1.0/leader')).status).toBe(404);

    // The route table's leader and claim examples, exactly as written, in the table's order.
    const readme = await readFile(new URL('../../functions/README.md', import.meta.url), 'utf8');
    const setup = readme.split('\n').find((line) => line.startsWith('B=http://127.0.0.1:3000'));
    expect(setup).toBeDefined();
    const run = (command: string) => bash(onServer(`${setup}\n${command}`, first.url));
    const claimed = JSON.parse(await run(readmeExample(readme, 'POST /leader/claim')));
    expect(claimed).toMatchObject({ holder: 'orch-a', epoch: 1, held: true, active: true });
    expect(JSON.parse(await run(readmeExample(readme, 'POST /tasks/claim')))).toEqual([]);
    expect(JSON.parse(await run(readmeExample(readme, 'POST /leader/renew')))).toMatchObject({
      holder: 'orch-a',
      epoch: 1,
    });
    expect(JSON.parse(await run(readmeExample(readme, 'POST /leader/requeue')))).toEqual({
      requeued: 0,
      terminated: 0,
      more: false,
    });
    expect(await run(readmeExample(readme, 'POST /leader/abdicate'))).toBe('');
    expect(JSON.parse(await run(readmeExample(readme, 'GET /leader')))).toMatchObject({
      holder: 'orch-a',
      active: false,
    });

    // functions/README.md's orchestrator walkthrough, as written (it reads its epoch, now 2).
    const walkthrough =
      /## An orchestrator on a fresh `npm start`[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(walkthrough).toBeDefined();
    const out = await bash(onServer(walkthrough as string, first.url));
    const tree = JSON.parse(out.slice(out.lastIndexOf('{"init_task_id"')));
    expect(tree[tree.init_task_id].result).toMatchObject({
      status: 'success',
      successes: ['n1', 'n2'],
      failures: ['n2'],
    });
    expect(tree[tree.init_task_id].status).toBe('complete');

    const created = await request(first.url, 'POST', '/api/v1.0/tasks', {
      body: {
        action: 'verify_site',
        design_ref: 'deckhand+https://deckhand.local/api/v1.0/revisions/1',
      },
    });
    expect(created.status).toBe(201);
    // A second server on the same folder refuses to start (before opening it) and says why.
    const second = await runToExit(env);
    expect(second.code).toBe(1);
    expect(second.output).toContain(`${dataDir} is in use by another drydock-statemgmt (pid`);
    expect(
      (await request(first.url, 'GET', `/api/v1.0/tasks/${created.body.task_id}`)).status,
    ).toBe(200);
    expect(await stopProcess(first)).toBe(0);
    expect(first.output()).toContain('SIGINT: stopping');

    // Stopped, the folder is free again. Started without `npm start`'s V8 flag, the server
    // re-executes itself with it (start.js) and serves as well.
    const restarted = await startProcess(env, ['infra/local/start.js']);
    const again = await request(restarted.url, 'GET', `/api/v1.0/tasks/${created.body.task_id}`);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('queued');
    expect(await stopProcess(restarted)).toBe(0);
  });
});
