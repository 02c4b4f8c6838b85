import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DRIVERS } from '#test/support/test-db.ts';
import {
  baseSite,
  type Doc,
  FAILED_STATUS,
  find,
  PASSED_STATUS,
  toYaml,
} from '../design/site-builder.ts';
import { type RunningServer, request, startServer } from './harness.ts';

// The design function touches no database; one driver is enough to serve it.
const DRIVER = TEST_DRIVERS[0] ?? 'pglite';

describe('the design pipeline over HTTP on the local server (fetch, parse, compile, rules)', () => {
  let server: RunningServer;
  let dir: string;
  const write = async (name: string, change: (docs: Doc[]) => void = () => {}) => {
    const docs = baseSite();
    change(docs);
    await writeFile(join(dir, name), toYaml(docs));
    return `file://${join(dir, name)}`;
  };
  const post = (path: string, body: unknown) =>
    request(server.url, 'POST', `/api/v1.0${path}`, { body });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'design-pipeline-'));
    server = await startServer(DRIVER, {
      DESIGN_FILE_ROOTS: dir,
      // Analysed in a worker thread, as npm start does.
      DESIGN_WORKERS: '1',
      DESIGN_PLATFORM_IMAGES: 'jammy',
      DESIGN_PLATFORM_KERNELS: 'ga-22.04,hwe-22.04',
      DESIGN_CACHE_TTL_SECONDS: '0',
    });
  });
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('POST /validatedesign: 200, code 200 and a message per rule for a valid design', async () => {
    const href = await write('valid.yaml');
    const res = await post('/validatedesign', { rel: 'design', href, type: 'application/x-yaml' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ...PASSED_STATUS, code: 200 });
    expect(res.body.details.messageList).toHaveLength(18);
    expect(res.body.details.messageList[0]).toEqual({
      kind: 'ValidationMessage',
      name: 'DD1001',
      message: 'Rational Boot Storage: Validation successful.',
      error: false,
      level: 'Info',
      diagnostic: '',
      documents: [],
      ts: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('POST /validatedesign: 400, code 400 and the messages naming the documents for a design Drydock rejects', async () => {
    const href = await write('invalid.yaml', (docs) => {
      find(docs, 'BaremetalNode', 'node02').addressing[1].address = '10.1.0.11';
      find(docs, 'BaremetalNode', 'node01').oob = {
        type: 'libvirt',
        libvirt_uri: 'qemu+tcp://hv/system',
      };
      find(docs, 'Network', 'storage').cidr = '10.2.0.1/24';
    });
    const res = await post('/validatedesign', { href });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ ...FAILED_STATUS, code: 400, details: { errorCount: 3 } });
    const errors = res.body.details.messageList.filter((m: { error: boolean }) => m.error);
    expect(
      errors.map((m: { name: string; message: string; documents: unknown }) => [
        m.name,
        m.message,
        m.documents,
      ]),
    ).toEqual([
      [
        'DD2006',
        'CIDR Validity: The provided CIDR 10.2.0.1/24 has host bits set',
        [{ schema: 'drydock/Network/v1', name: 'storage' }],
      ],
      [
        'DD2005',
        'Duplicated IP Check: Duplicate IP Address Found: 10.1.0.11',
        [
          { schema: 'drydock/BaremetalNode/v1', name: 'node02' },
          { schema: 'drydock/BaremetalNode/v1', name: 'node01' },
        ],
      ],
      [
        'DD4002',
        'Valid Libvirt Configuration: OOB parameter libvirt_uri has invalid scheme.',
        [{ schema: 'drydock/BaremetalNode/v1', name: 'node01' }],
      ],
    ]);
  });

  it('POST /validatedesign: a duplicated key is a warning and the last value wins', async () => {
    await writeFile(
      join(dir, 'dup.yaml'),
      `${toYaml(baseSite())}---\nschema: other/Thing/v1\nmetadata: {name: t}\ndata: {a: 1, a: 2}\n`,
    );
    const res = await post('/validatedesign', { href: `file://${join(dir, 'dup.yaml')}` });
    expect(res.status).toBe(200);
    const warning = res.body.details.messageList.find(
      (m: { level: string }) => m.level === 'Warning',
    );
    expect(warning).toMatchObject({
      name: 'DD000',
      message: expect.stringMatching(
        /^Duplicate key 'a' at line \d+, column \d+: the last value is used$/,
      ),
      documents: [{ schema: 'other/Thing/v1', name: 't' }],
    });
  });

  it('POST /validatedesign: unreadable or refused YAML is a 400 Status with line and column', async () => {
    await writeFile(
      join(dir, 'bomb.yaml'),
      `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from(
        { length: 8 },
        (_, i) =>
          `b${i}: &b${i + 1} [${Array(10)
            .fill(i === 0 ? '*a' : `*b${i}`)
            .join(', ')}]`,
      ).join('\n')}\n`,
    );
    const res = await post('/validatedesign', { href: `file://${join(dir, 'bomb.yaml')}` });
    expect(res.status).toBe(400);
    expect(res.body.details.messageList[0]).toMatchObject({
      name: 'DD000',
      level: 'Error',
      message: expect.stringMatching(
        /^Error parsing design: design refused at line 1, column 1: expands to more than 2000000 values/,
      ),
    });
  });

  it('POST /nodefilter: the names of the nodes a filter selects, every node without one', async () => {
    const designRef = await write('filter.yaml', (docs) => {
      find(docs, 'BaremetalNode', 'node02').metadata.owner_data = { tier: 'gold' };
    });
    const all = await post('/nodefilter', { design_ref: designRef });
    expect([all.status, all.body]).toEqual([200, ['node01', 'node02']]);
    const gold = await post('/nodefilter', {
      design_ref: designRef,
      node_filter: {
        filter_set_type: 'intersection',
        filter_set: [
          { filter_type: 'union', node_tags: ['compute'] },
          { filter_type: 'union', node_labels: { tier: 'gold' }, rack_names: ['rack-z'] },
        ],
      },
    });
    expect([gold.status, gold.body]).toEqual([200, ['node02']]);
  });

  it('POST /nodefilter: 400 for a bad filter, a missing design_ref, or a design that cannot compile', async () => {
    const designRef = await write('broken.yaml', (docs) => {
      find(docs, 'BaremetalNode', 'node01').host_profile = 'ghost';
    });
    const badType = await post('/nodefilter', {
      design_ref: designRef,
      node_filter: { filter_set_type: 'some', filter_set: [] },
    });
    expect(badType.status).toBe(400);
    const missing = await post('/nodefilter', { node_filter: null });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toContain('design_ref');
    const broken = await post('/nodefilter', { design_ref: designRef });
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({
      type: 'error',
      message: 'Unable to render effective site design: 1 error',
      retry: false,
      issues: [
        {
          path: 'DD000',
          message: 'Error loading effective site: HostProfile ghost not found in design state',
        },
      ],
    });
  });

  it('POST /designs/resolve: documents, counts and the validation, serialised in the worker', async () => {
    const designRef = await write('resolve.yaml');
    const res = await post('/designs/resolve', { design_ref: designRef });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      design_ref: designRef,
      from_cache: false,
      counts_by_kind: {
        Region: 1,
        Rack: 1,
        NetworkLink: 3,
        Network: 4,
        HardwareProfile: 1,
        HostProfile: 1,
        BaremetalNode: 2,
        BootAction: 1,
      },
      validation: { status: 'Success', details: { errorCount: 0 } },
    });
    expect(res.body.documents).toHaveLength(14);
    expect(res.headers.get('content-type')).toBe('application/json');
  });
});
