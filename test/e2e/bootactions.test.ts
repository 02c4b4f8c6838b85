import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshot } from '#test/functions/harness.ts';
import { TEST_DRIVERS } from '#test/support/test-db.ts';
import { type HttpAnswer, type RunningServer, request, startServer, takeLease } from './harness.ts';

const FIXTURE = readFileSync(
  new URL('../fixtures/designs/site-deckhand.yaml', import.meta.url),
  'utf8',
);
const MAX_BODY_BYTES = 64 * 1024;

const UNIT = `[Unit]
Description=Hello
After=network-online.target

[Service]
Type=oneshot
ExecStart=/var/tmp/hello.sh

[Install]
WantedBy=multi-user.target
`;

/**
 * The lab site plus a second node and two boot actions besides its `motd` (signaling off):
 * `helloworld` (a unit given in base64, two templates) for both nodes by name, and `fetched`
 * (a file fetched from a templated `location`, then templated itself) for nodes tagged compute.
 */
function design(assetPort: number): string {
  const node2 = `---
schema: drydock/BaremetalNode/v1
metadata:
  schema: metadata/Document/v1
  name: node-a02
data:
  host_profile: compute-base
  addressing:
    - { network: pxe-a, address: dhcp }
    - { network: storage, address: 10.30.0.22 }
  metadata:
    rack: rack-a
    boot_mac: "52:54:00:aa:bb:02"
    owner_data: { team: edge }
  interfaces:
    bond0:
      networks: [storage]
`;
  const actions = `---
schema: drydock/BootAction/v1
metadata:
  schema: metadata/Document/v1
  name: helloworld
data:
  assets:
    - path: /lib/systemd/system/hello.service
      type: unit
      permissions: "644"
      data: ${Buffer.from(UNIT).toString('base64')}
      data_pipeline: [base64_decode]
    - path: /var/tmp/hello.sh
      type: file
      permissions: "555"
      data: |
        #!/bin/sh
        echo 'Hello from {{ node.hostname }}.{{ node.domain }} ({{ node.tags | join(",") }}; team {{ node.labels.team }}) at {{ node.network.default.ip }} on {{ node.platform.image }}'
      data_pipeline: [utf8_decode, template]
    - path: /var/tmp/report.sh
      type: file
      data: |
        curl -X POST -H 'X-Bootaction-Key: {{ action.action_key }}' '{{ action.report_url }}{{ action.action_id }}'
        # {{ action.design_ref | urlencode }}
      data_pipeline: [utf8_decode, template]
  node_filter:
    filter_set_type: union
    filter_set:
      - filter_type: union
        node_names: [node-a01, node-a02]
---
schema: drydock/BootAction/v1
metadata:
  schema: metadata/Document/v1
  name: fetched
data:
  signaling: true
  assets:
    - path: /etc/fetched/{{ hostname }}.conf
      type: file
      permissions: "640"
      location: http://127.0.0.1:${assetPort}/assets/{{ node.hostname }}.conf
      location_pipeline: [template]
      data_pipeline: [utf8_decode, template]
  node_filter:
    filter_set_type: union
    filter_set:
      - filter_type: union
        node_tags: [compute]
`;
  const genesis = FIXTURE.indexOf('---\nschema: promenade/Genesis/v1');
  return `${FIXTURE.slice(0, genesis)}${node2}${actions}${FIXTURE.slice(genesis)}`;
}

/** The asset server: one templated config per node name. */
function startAssetServer(): Promise<{ server: Server; port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const m = /^\/assets\/(node-a0[12])\.conf$/.exec(req.url ?? '');
    if (!m) {
      res.writeHead(404).end('no such asset');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(
      `addr={{ node.network.storage.ip }} vfs={{ node.interfaces.bond0.vf_count }} for ${m[1]}\n`,
    );
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as AddressInfo).port, hits }),
    ),
  );
}

interface Entry {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  type: string;
  text: string;
}

async function untar(gz: Buffer): Promise<Entry[]> {
  const entries: Entry[] = [];
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => {
        chunks.push(c as Buffer);
      });
      stream.on('end', () => {
        entries.push({
          name: header.name,
          mode: header.mode ?? -1,
          uid: header.uid ?? -1,
          gid: header.gid ?? -1,
          type: header.type ?? '',
          text: Buffer.concat(chunks).toString('utf8'),
        });
        next();
      });
      stream.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(gunzipSync(gz));
  await done;
  return entries;
}

describe.each(TEST_DRIVERS)('boot actions over HTTP on %s', (driver) => {
  let server: RunningServer;
  let assets: Awaited<ReturnType<typeof startAssetServer>>;
  let root: string;
  let designRef: string;
  let epoch: number;
  let deployTask: string;
  const keys: Record<string, string> = {};
  const ids: Record<string, Record<string, string>> = {};
  const saved = { ...process.env };

  const api = (
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string> } = {},
  ) => request(server.url, method, `/api/v1.0${path}`, options);

  /** A node's download, as bytes. */
  async function download(node: string, kind: 'units' | 'files', key?: string) {
    const res = await fetch(`${server.url}/api/v1.0/bootactions/nodes/${node}/${kind}`, {
      headers: key === undefined ? {} : { 'X-Bootaction-Key': key },
    });
    return {
      status: res.status,
      headers: res.headers,
      bytes: Buffer.from(await res.arrayBuffer()),
    };
  }

  beforeAll(async () => {
    assets = await startAssetServer();
    root = await mkdtemp(join(tmpdir(), 'drydock-bootactions-'));
    await writeFile(join(root, 'site.yaml'), design(assets.port));
    designRef = `file://${join(root, 'site.yaml')}`;
    server = await startServer(driver, {
      DESIGN_FILE_ROOTS: root,
      DESIGN_ALLOW_HOSTS: `127.0.0.1:${assets.port}`,
      DESIGN_HTTP_RETRIES: '0',
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    });
    const deploy = await api('POST', '/tasks', {
      body: { action: 'deploy_nodes', design_ref: designRef },
    });
    expect(deploy.status).toBe(201);
    epoch = await takeLease(server, 'orch-a');
    const sub = await api('POST', `/tasks/${deploy.body.task_id}/subtasks`, {
      body: { action: 'deploy_node', design_ref: designRef, epoch },
    });
    expect(sub.status, JSON.stringify(sub.body)).toBe(201);
    deployTask = sub.body.task_id;
  });

  afterAll(async () => {
    await server?.stop();
    assets?.server.close();
    if (root) await rm(root, { recursive: true, force: true });
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it("creates each node's context with three boot actions; the key is shown once", async () => {
    for (const node of ['node-a01', 'node-a02']) {
      const res = await api('POST', `/bootactions/nodes/${node}`, {
        body: {
          task_id: deployTask,
          epoch,
          actions: [
            { name: 'helloworld' },
            { name: 'fetched' },
            { name: 'motd', signaling: false },
          ],
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.body).toMatchObject({
        node_name: node,
        task_id: deployTask,
        design_ref: designRef,
      });
      expect(res.body.identity_key).toMatch(/^[0-9a-f]{64}$/);
      keys[node] = res.body.identity_key;
      expect(
        res.body.actions.map((a: { action_name: string; action_status: string }) => [
          a.action_name,
          a.action_status,
        ]),
      ).toEqual([
        ['helloworld', 'incomplete'],
        ['fetched', 'incomplete'],
        ['motd', 'unreported'],
      ]);
      ids[node] = Object.fromEntries(
        res.body.actions.map((a: { action_name: string; action_id: string }) => [
          a.action_name,
          a.action_id,
        ]),
      );
      // Reads never show the key again.
      const listed = await api('GET', `/bootactions/nodes/${node}`);
      expect(listed.status).toBe(200);
      expect(JSON.stringify(listed.body)).not.toContain(res.body.identity_key);
      const one = await api('GET', `/bootactions/actions/${ids[node]?.helloworld}`);
      expect(one.body).toEqual(res.body.actions[0]);
    }
    const stale = await api('POST', '/bootactions/nodes/node-a01', {
      body: { task_id: deployTask, epoch: epoch + 1, actions: [{ name: 'helloworld' }] },
    });
    expect(stale.status).toBe(412);
    const unfenced = await api('POST', '/bootactions/nodes/node-a01', {
      body: { task_id: deployTask, actions: [{ name: 'helloworld' }] },
    });
    expect(unfenced.status).toBe(428);
  });

  it('serves each node its units and files, rendered with its own data, byte for byte', async () => {
    const units = await download('node-a01', 'units', keys['node-a01']);
    expect(units.status).toBe(200);
    expect(units.headers.get('content-type')).toBe('application/gzip');
    expect(units.headers.get('content-disposition')).toBe(
      'attachment; filename="node-a01-unit.tar.gz"',
    );
    expect(await untar(units.bytes)).toEqual([
      {
        name: '/lib/systemd/system/hello.service',
        mode: 0o644,
        uid: 0,
        gid: 0,
        type: 'file',
        text: UNIT,
      },
    ]);

    const files = await untar((await download('node-a01', 'files', keys['node-a01'])).bytes);
    const reportUrl = `${server.url}/api/v1.0/bootactions/`;
    // Design order: motd (signaling off) comes first in the design.
    expect(files).toEqual([
      {
        name: '/etc/motd',
        mode: 0o644,
        uid: 0,
        gid: 0,
        type: 'file',
        text: 'Welcome to harbor-west\n',
      },
      {
        name: '/var/tmp/hello.sh',
        mode: 0o555,
        uid: 0,
        gid: 0,
        type: 'file',
        text: "#!/bin/sh\necho 'Hello from node-a01.storage.harbor.test (compute; team lab) at 10.30.0.21 on jammy'",
      },
      {
        name: '/var/tmp/report.sh',
        mode: 0o600,
        uid: 0,
        gid: 0,
        type: 'file',
        text: `curl -X POST -H 'X-Bootaction-Key: ${keys['node-a01']}' '${reportUrl}${ids['node-a01']?.helloworld}'\n# ${encodeURIComponent(designRef)}`,
      },
      {
        name: '/etc/fetched/{{ hostname }}.conf',
        mode: 0o640,
        uid: 0,
        gid: 0,
        type: 'file',
        text: 'addr=10.30.0.21 vfs=4 for node-a01',
      },
    ]);
    expect(assets.hits).toContain('/assets/node-a01.conf');

    const other = await untar((await download('node-a02', 'files', keys['node-a02'])).bytes);
    expect(other.map((e) => e.text)).toEqual([
      'Welcome to harbor-west\n',
      "#!/bin/sh\necho 'Hello from node-a02.storage.harbor.test (compute; team edge) at 10.30.0.22 on jammy'",
      `curl -X POST -H 'X-Bootaction-Key: ${keys['node-a02']}' '${reportUrl}${ids['node-a02']?.helloworld}'\n# ${encodeURIComponent(designRef)}`,
      'addr=10.30.0.22 vfs=4 for node-a02',
    ]);
    // The same assets give the same bytes.
    expect((await download('node-a01', 'units', keys['node-a01'])).bytes).toEqual(units.bytes);
  });

  it('takes progress and a final status: messages land on the deploy task, the status locks, the poll sees it', async () => {
    const hello = ids['node-a01']?.helloworld;
    const key = { 'X-Bootaction-Key': keys['node-a01'] as string };
    const progress = await api('POST', `/bootactions/${hello}`, {
      headers: key,
      body: { details: [{ message: 'unit installed', error: false, step: 'install' }] },
    });
    expect(progress.status, JSON.stringify(progress.body)).toBe(200);
    expect(progress.body).toEqual({
      node_name: 'node-a01',
      action_id: hello,
      action_name: 'helloworld',
      task_id: deployTask,
      action_status: 'incomplete',
    });
    const final = await api('POST', `/bootactions/${hello}`, {
      headers: key,
      body: { status: 'Success', details: [{ message: 'hello ran', error: false }] },
    });
    expect(final.status).toBe(200);
    expect(final.body.action_status).toBe('success');
    const failed = await api('POST', `/bootactions/${ids['node-a01']?.fetched}`, {
      headers: key,
      body: { status: 'failure', details: [{ message: 'fetch failed', error: true }] },
    });
    expect(failed.body.action_status).toBe('failure');

    const task = (await api('GET', `/tasks/${deployTask}`)).body;
    const messages = task.result.details.messageList.filter(
      (m: { context_type: string }) => m.context_type === 'bootaction',
    );
    expect(
      messages.map((m: { message: string; error: boolean; context: string; extra: unknown }) => [
        m.message,
        m.error,
        m.context,
        m.extra,
      ]),
    ).toEqual([
      ['unit installed', false, hello, { step: 'install' }],
      ['hello ran', false, hello, {}],
      ['fetch failed', true, ids['node-a01']?.fetched, {}],
    ]);
    expect(task.result.details.errorCount).toBe(1);

    const poll = await api('GET', '/bootactions/nodes/node-a01');
    expect(poll.body.map((a: { action_status: string }) => a.action_status)).toEqual([
      'success',
      'failure',
      'unreported',
    ]);
    const pending = await api('GET', '/bootactions/nodes/node-a02');
    expect(pending.body.map((a: { action_status: string }) => a.action_status)).toEqual([
      'incomplete',
      'incomplete',
      'unreported',
    ]);
  });

  const refusals: {
    name: string;
    send: () => Promise<HttpAnswer | { status: number }>;
    status: number;
  }[] = [
    {
      name: 'a report without a key',
      send: () => api('POST', `/bootactions/${ids['node-a02']?.helloworld}`, { body: {} }),
      status: 401,
    },
    {
      name: 'a report with a wrong key',
      send: () =>
        api('POST', `/bootactions/${ids['node-a02']?.helloworld}`, {
          headers: { 'X-Bootaction-Key': 'ab'.repeat(32) },
          body: { status: 'success' },
        }),
      status: 403,
    },
    {
      name: "a report with another node's key",
      send: () =>
        api('POST', `/bootactions/${ids['node-a02']?.helloworld}`, {
          headers: { 'X-Bootaction-Key': keys['node-a01'] as string },
          body: { status: 'success' },
        }),
      status: 403,
    },
    {
      name: 'a report with a key that is not hex',
      send: () =>
        api('POST', `/bootactions/${ids['node-a02']?.helloworld}`, {
          headers: { 'X-Bootaction-Key': 'not-a-key' },
          body: { status: 'success' },
        }),
      status: 403,
    },
    {
      name: 'a report on an unknown action',
      send: () =>
        api('POST', '/bootactions/01ARZ3NDEKTSV4RRFFQ69G5FAV', {
          headers: { 'X-Bootaction-Key': keys['node-a02'] as string },
          body: { status: 'success' },
        }),
      status: 404,
    },
    {
      name: 'a second final report',
      send: () =>
        api('POST', `/bootactions/${ids['node-a01']?.helloworld}`, {
          headers: { 'X-Bootaction-Key': keys['node-a01'] as string },
          body: { status: 'failure', details: [{ message: 'again', error: true }] },
        }),
      status: 409,
    },
    {
      name: 'a report on an action without signaling',
      send: () =>
        api('POST', `/bootactions/${ids['node-a02']?.motd}`, {
          headers: { 'X-Bootaction-Key': keys['node-a02'] as string },
          body: { status: 'success' },
        }),
      status: 409,
    },
    {
      name: 'a malformed body',
      send: () =>
        api('POST', `/bootactions/${ids['node-a02']?.helloworld}`, {
          headers: {
            'X-Bootaction-Key': keys['node-a02'] as string,
            'Content-Type': 'application/json',
          },
          body: '{"status": "success",',
        }),
      status: 400,
    },
    {
      name: 'a status Drydock does not take',
      send: () =>
        api('POST', `/bootactions/${ids['node-a02']?.helloworld}`, {
          headers: { 'X-Bootaction-Key': keys['node-a02'] as string },
          body: { status: 'unreported' },
        }),
      status: 400,
    },
    {
      name: 'a detail without its error flag',
      send: () =>
        api('POST', `/bootactions/${ids['node-a02']?.helloworld}`, {
          headers: { 'X-Bootaction-Key': keys['node-a02'] as string },
          body: { details: [{ message: 'x' }] },
        }),
      status: 400,
    },
    {
      name: 'an oversized body',
      send: () =>
        api('POST', `/bootactions/${ids['node-a02']?.helloworld}`, {
          headers: { 'X-Bootaction-Key': keys['node-a02'] as string },
          body: { details: [{ message: 'x'.repeat(MAX_BODY_BYTES), error: false }] },
        }),
      status: 413,
    },
    {
      name: 'a download without a key',
      send: () => download('node-a02', 'units'),
      status: 401,
    },
    {
      name: "a download with another node's key",
      send: () => download('node-a02', 'files', keys['node-a01']),
      status: 403,
    },
    {
      name: 'a download for a node without a context',
      send: () => download('node-zz', 'units', keys['node-a01']),
      status: 404,
    },
  ];

  it.each(refusals)('refuses $name with $status and writes nothing', async (c) => {
    const before = await snapshot(server.db);
    const res = await c.send();
    expect(res.status).toBe(c.status);
    if ('body' in res) {
      expect(res.body).toMatchObject({ type: 'error', retry: false });
      for (const key of Object.values(keys)) expect(JSON.stringify(res.body)).not.toContain(key);
    }
    expect(await snapshot(server.db)).toEqual(before);
  });
});
