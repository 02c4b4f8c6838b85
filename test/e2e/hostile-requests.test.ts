import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, constants, openSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
} from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, statement } from '#shared/db/sql.ts';
import { SNAPSHOT_TABLES, snapshot } from '#test/functions/harness.ts';
import { TEST_DRIVERS } from '#test/support/test-db.ts';
import { type RunningServer, startServer } from './harness.ts';
import { HOSTILE_CASES, type HostileCase, type SetupStep } from './hostile-cases.ts';
import { type RawAnswer, rawRequest } from './raw-request.ts';

const SITE = fileURLToPath(new URL('../fixtures/designs/site-deckhand.yaml', import.meta.url));

interface Outcome {
  name: string;
  kind: string;
  status: number;
  expected: number;
  serverError: boolean;
  wrongStatus: boolean;
  unexpectedWrite: boolean;
  droppedWrite: boolean;
  wrongAnswer: string | undefined;
  stalled: boolean;
}

/** A design source on every loopback address (IPv4 and IPv6), serving one site design. */
async function startDesignSource(): Promise<{ server: Server; port: number }> {
  const { readFile } = await import('node:fs/promises');
  const yaml = await readFile(SITE);
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/x-yaml' });
    res.end(yaml);
  });
  await new Promise<void>((resolve) => server.listen(0, '::', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe.each(TEST_DRIVERS)('hostile requests over HTTP on %s', (driver) => {
  let server: RunningServer;
  let designSource: { server: Server; port: number };
  let root: string;
  let socket: NetServer | undefined;
  const vars: Record<string, string> = {};
  const outcomes: Outcome[] = [];
  const sharedTasks = new Map<string, string>();
  const saved = { ...process.env };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'drydock-hostile-'));
    await copyFile(SITE, join(root, 'site.yaml'));
    await mkdir(join(root, 'folder.yaml'));
    await symlink('/dev/zero', join(root, 'zero.yaml'));
    execFileSync('mkfifo', [join(root, 'fifo.yaml')]);
    const listening = createNetServer();
    socket = listening;
    await new Promise<void>((resolve) => listening.listen(join(root, 'socket.yaml'), resolve));
    designSource = await startDesignSource();
    server = await startServer(driver, {
      DESIGN_FILE_ROOTS: root,
      DESIGN_ALLOW_HOSTS: `127.0.0.1:${designSource.port},[::1]`,
      DESIGN_HTTP_RETRIES: '0',
      DESIGN_HTTP_TIMEOUT_MS: '3000',
      DESIGN_CACHE_TTL_SECONDS: '0',
    });
    const seed = async (body: unknown) => {
      const answer = await send({ method: 'POST', path: '/tasks', body });
      expect(answer.status).toBe(201);
      return answer.body.task_id as string;
    };
    const design = 'deckhand+https://deckhand.example/api/v1.0/revisions/1/rendered-documents';
    vars.T = await seed({ action: 'verify_site', design_ref: design });
    vars.T2 = await seed({ action: 'verify_site', design_ref: design });
    const lease = await send({
      method: 'POST',
      path: '/leader/claim',
      body: { instance_id: 'orch-a', grace_seconds: 3600 },
    });
    expect(lease.body.held).toBe(true);
    vars.E = String(lease.body.epoch);
    vars.ROOT = root;
    vars.DP = String(designSource.port);
    vars.SP = new URL(server.url).port;
  });

  afterAll(async () => {
    releaseFifo();
    await server?.stop();
    if (designSource) {
      designSource.server.closeAllConnections();
      await new Promise<void>((resolve) => designSource.server.close(() => resolve()));
    }
    await new Promise<void>((resolve) => (socket ? socket.close(() => resolve()) : resolve()));
    if (root) await rm(root, { recursive: true, force: true });
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
    const count = (pick: (o: Outcome) => boolean) => outcomes.filter(pick).length;
    const byKind: Record<string, number> = {};
    for (const o of outcomes.filter((x) => x.serverError))
      byKind[o.kind] = (byKind[o.kind] ?? 0) + 1;
    console.log(
      `hostile requests on ${driver}: ${outcomes.length} tried, ${count((o) => o.serverError)} answered 5xx, ` +
        `${count((o) => o.wrongStatus)} with a wrong status, ${count((o) => o.unexpectedWrite)} changed tables, ` +
        `${count((o) => o.droppedWrite)} dropped their write, ${count((o) => o.wrongAnswer !== undefined)} wrong answers, ` +
        `${count((o) => o.stalled)} stalled; 5xx by class ${JSON.stringify(byKind)}`,
    );
  });

  /** Opens the FIFO for writing and closes it, so a reader blocked on it gets end-of-file. */
  function releaseFifo() {
    try {
      closeSync(openSync(join(root, 'fifo.yaml'), constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // No reader is waiting (ENXIO): nothing was blocked.
    }
  }

  function fill(text: string, local: Record<string, string>): string {
    return text.replace(/"\{E\}"|\{([A-Z0-9]+)\}/g, (match, name: string | undefined) => {
      if (match === '"{E}"') return vars.E as string;
      return local[name as string] ?? vars[name as string] ?? match;
    });
  }

  function send(
    step: Pick<SetupStep, 'method' | 'path' | 'body' | 'headers'>,
    local: Record<string, string> = {},
  ): Promise<RawAnswer> {
    const path = fill(
      step.path.startsWith('/api/') || step.path.startsWith('/versions')
        ? step.path
        : `/api/v1.0${step.path}`,
      local,
    );
    let body: string | Buffer | undefined;
    let headers = (step.headers ?? []).map(([n, v]) => [n, fill(v, local)] as const);
    if (Buffer.isBuffer(step.body))
      body = Buffer.from(fill(step.body.toString('latin1'), local), 'latin1');
    else if (typeof step.body === 'string') body = fill(step.body, local);
    else if (step.body !== undefined) {
      body = fill(JSON.stringify(step.body), local);
      if (!headers.some(([n]) => n.toLowerCase() === 'content-type')) {
        headers = [['Content-Type', 'application/json'], ...headers];
      }
    }
    return rawRequest(server.url, { method: step.method, path, headers, body, timeoutMs: 15_000 });
  }

  async function runCase(c: HostileCase): Promise<Outcome> {
    const local: Record<string, string> = { K: randomUUID().slice(0, 13), U: randomUUID() };
    const shared = c.sharedSetup === undefined ? undefined : sharedTasks.get(c.sharedSetup);
    if (shared !== undefined) local.S = shared;
    for (const step of shared === undefined ? (c.setup ?? []) : []) {
      for (let i = 0; i < (step.repeat ?? 1); i += 1) {
        const answer = await send(step, local);
        if (answer.status === 0 || answer.status >= 300) {
          throw new Error(
            `setup ${step.method} ${step.path} answered ${answer.status}: ${answer.text.slice(0, 300)}`,
          );
        }
        if (step.captureTask) local.S = answer.body.task_id;
        if (typeof answer.headers.etag === 'string') local.V = answer.headers.etag;
      }
    }
    if (c.sharedSetup !== undefined && shared === undefined && local.S) {
      sharedTasks.set(c.sharedSetup, local.S);
    }
    const before = await snapshot(server.db);
    const answer = await send(c, local);
    if (c.kind === 'design-file') releaseFifo();
    const changed = JSON.stringify(await snapshot(server.db)) !== JSON.stringify(before);
    let wrongAnswer = c.check?.({
      body: answer.body,
      text: answer.text,
      bytes: answer.bytes,
      headers: answer.headers,
    });
    if (wrongAnswer === undefined && answer.status >= 400 && !c.path.includes('validatedesign')) {
      if (answer.body?.type !== 'error')
        wrongAnswer = `not an error body: ${answer.text.slice(0, 200)}`;
    }
    return {
      name: c.name,
      kind: c.kind,
      status: answer.status,
      expected: c.status,
      serverError: answer.status >= 500 && c.status < 500,
      wrongStatus: answer.status !== c.status,
      unexpectedWrite: changed && !c.writes,
      droppedWrite: !changed && c.writes === true,
      wrongAnswer,
      stalled: answer.stalled,
    };
  }

  it(`covers every class with ${HOSTILE_CASES.length} cases`, () => {
    expect(HOSTILE_CASES.length).toBeGreaterThanOrEqual(287);
    expect(new Set(HOSTILE_CASES.map((c) => c.name)).size).toBe(HOSTILE_CASES.length);
  });

  it('checksums every table of the schema, the migration ledger aside', async () => {
    const tables = await server.db.query(
      statement(
        { name: 'text' },
        sql`select table_name::text as name from information_schema.tables
             where table_schema = current_schema() and table_name <> 'schema_migrations'`,
      ),
    );
    expect(tables.map((t) => t.name).sort()).toEqual([...SNAPSHOT_TABLES].sort());
  });

  it.each(HOSTILE_CASES)('$kind: $name → $status', async (c) => {
    const outcome = await runCase(c);
    outcomes.push(outcome);
    expect({ status: outcome.status, wrongAnswer: outcome.wrongAnswer }).toEqual({
      status: c.status,
      wrongAnswer: undefined,
    });
    expect({
      unexpectedWrite: outcome.unexpectedWrite,
      droppedWrite: outcome.droppedWrite,
    }).toEqual({
      unexpectedWrite: false,
      droppedWrite: false,
    });
  });
});
