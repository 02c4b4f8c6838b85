import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DesignDeps, resolveDesign, validateDesign } from '#shared/api/resolve-design.ts';
import { createInlineAnalyzer } from '#shared/design/design-analyzer.ts';
import { DesignSyntaxError } from '#shared/design/parse-yaml.ts';
import type { DesignResolver } from '#shared/design-refs/design-resolver.ts';
import { DesignRefError } from '#shared/design-refs/errors.ts';
import { rejection, startServer, type TestServer, testResolver } from './servers.ts';
import { FAILED_STATUS, PASSED_STATUS } from './site-builder.ts';

const fixtures = fileURLToPath(new URL('../fixtures/designs/', import.meta.url));
const fixtureRef = (name: string) => `file://${fixtures}${name}`;
const NOW = Date.parse('2026-11-24T21:00:00Z');

let server: TestServer;
let resolver: DesignResolver;
let deps: DesignDeps;
beforeAll(async () => {
  server = await startServer((req, res) => {
    if (req.url === '/broken.yaml') {
      res.end('schema: drydock/Rack/v1\nmetadata: {name: r\ndata: {}\n');
      return;
    }
    if (req.url === '/latin1.yaml') {
      res.end(Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xe9, 0x0a]));
      return;
    }
    res.statusCode = req.url === '/down.yaml' ? 503 : 404;
    res.end();
  });
  resolver = testResolver(
    { fileRoots: [fixtures], allowHosts: [`127.0.0.1:${server.port}`], httpRetries: 0 },
    { clock: { now: () => NOW } },
  );
  deps = {
    designs: resolver,
    clock: { now: () => NOW },
    analyzer: createInlineAnalyzer(),
    settings: { platform: { images: ['jammy'], kernels: ['hwe-22.04', 'generic', 'ga-22.04'] } },
  };
});
afterAll(async () => {
  await resolver.close();
  await server.close();
});

describe('resolveDesign', () => {
  it('returns the documents, counts per kind, digest, size and validation of a design', async () => {
    const raw = readFileSync(`${fixtures}site-deckhand.yaml`);
    const out = await resolveDesign(deps, { designRef: fixtureRef('site-deckhand.yaml') });
    expect(out.sha256).toBe(createHash('sha256').update(raw).digest('hex'));
    expect(out.sizeBytes).toBe(raw.length);
    const body = JSON.parse(out.bodyJson);
    expect(body).toMatchObject({
      design_ref: fixtureRef('site-deckhand.yaml'),
      sha256: out.sha256,
      size_bytes: raw.length,
      from_cache: false,
    });
    expect(body.counts_by_kind).toEqual({
      Region: 1,
      Rack: 1,
      NetworkLink: 1,
      Network: 2,
      HardwareProfile: 1,
      HostProfile: 1,
      BaremetalNode: 1,
      BootAction: 1,
      'promenade/Genesis/v1': 1,
    });
    expect(body.documents).toHaveLength(10);
    expect(body.validation).toMatchObject(PASSED_STATUS);
    // Every rule ran and said so, as Drydock's rules do.
    expect(body.validation.details.messageList).toHaveLength(18);
  });

  it('returns validation failures as data, not as an error', async () => {
    const out = await resolveDesign(deps, { designRef: fixtureRef('invalid-legacy.yaml') });
    const { validation } = JSON.parse(out.bodyJson);
    expect(validation.status).toBe('Failure');
    expect(validation.details.errorCount).toBe(8);
    expect(validation.details.messageList[0]?.ts).toBe('2026-11-24T21:00:00.000Z');
  });

  it('throws a 400 with line and column for unreadable YAML or non-UTF-8 bytes', async () => {
    const e = (await rejection(() =>
      resolveDesign(deps, { designRef: `${server.origin}/broken.yaml` }),
    )) as DesignSyntaxError;
    expect(e).toBeInstanceOf(DesignSyntaxError);
    expect(e.status).toBe(400);
    expect(e.line).toBeGreaterThan(1);
    const latin1 = await rejection(() =>
      resolveDesign(deps, { designRef: `${server.origin}/latin1.yaml` }),
    );
    expect(latin1.message).toContain('not UTF-8');
  });
});

describe('validateDesign (POST /validatedesign)', () => {
  it('answers 200 with code 200 for a valid design, in either format', async () => {
    for (const name of ['site-deckhand.yaml', 'site-legacy.yaml']) {
      const { statusCode, body } = await validateDesign(deps, { href: fixtureRef(name) });
      expect(statusCode, name).toBe(200);
      expect(body).toMatchObject({ ...PASSED_STATUS, code: 200 });
      expect(body.details.messageList.map((m) => [m.name, m.level, m.message])).toEqual([
        ['DD1001', 'Info', 'Rational Boot Storage: Validation successful.'],
        ['DD2006', 'Info', 'CIDR Validity: Validation successful.'],
        ['DD1008', 'Info', 'Hugepages: Validation successful.'],
        ['DD2002', 'Info', 'IP Locality Check: Validation successful.'],
        ['DD2003', 'Info', 'MTU Rationality: Validation successful.'],
        ['DD2004', 'Info', 'Network Trunking Rationality: Validation successful.'],
        ['DD2005', 'Info', 'Duplicated IP Check: Validation successful.'],
        ['DD3001', 'Info', 'Platform Selection: Validation successful.'],
        ['DD1006', 'Info', 'Network Bond Rationality: Validation successful.'],
        ['DD2002', 'Info', 'Storage Partitioning: Validation successful.'],
        ['DD2003', 'Info', 'Storage Sizing: Validation successful.'],
        ['DD2004', 'Info', 'Storage Mountpoint: Validation successful.'],
        ['DD1007', 'Info', 'Allowed Network Check: Validation successful.'],
        ['DD3003', 'Info', 'Hostname Validity: Validation successful.'],
        ['DD4001', 'Info', 'Valid IPMI Configuration: Validation successful.'],
        ['DD4002', 'Info', 'Valid Libvirt Configuration: Validation successful.'],
        ['DD4001', 'Info', 'Bootaction Definition: Validation successful.'],
        ['DD4002', 'Info', 'Bootaction pkg_list Validation: Validation successful.'],
      ]);
    }
  });

  it('answers 400 with code 400 and one message per problem for an invalid design', async () => {
    const { statusCode, body } = await validateDesign(deps, {
      href: fixtureRef('invalid-deckhand.yaml'),
    });
    expect(statusCode).toBe(400);
    expect(body).toMatchObject({ ...FAILED_STATUS, code: 400, details: { errorCount: 8 } });
    expect(body.details.messageList.every((m) => m.name === 'DD001' && m.level === 'Error')).toBe(
      true,
    );
  });

  it('answers 400 with a DD000 message carrying line and column for a YAML syntax error', async () => {
    const { statusCode, body } = await validateDesign(deps, {
      href: `${server.origin}/broken.yaml`,
    });
    expect(statusCode).toBe(400);
    const [m] = body.details.messageList;
    expect(m).toMatchObject({ name: 'DD000', error: true, level: 'Error' });
    expect(m?.message).toMatch(/line \d+, column \d+/);
    expect(m?.diagnostic).toMatch(/line \d+, column \d+/);
  });

  it('answers 400 for an invalid, refused or missing reference, never echoing credentials', async () => {
    for (const href of [
      'gopher://designs.example/site.yaml',
      'http://169.254.169.254/latest/meta-data/',
      'file:///etc/passwd',
      `http://ops:hunter2@127.0.0.1:${server.port}/missing.yaml`,
    ]) {
      const { statusCode, body } = await validateDesign(deps, { href });
      expect(statusCode, href).toBe(400);
      expect(body.code).toBe(400);
      expect(body.details.messageList[0]?.name).toBe('DD000');
      expect(JSON.stringify(body)).not.toContain('hunter2');
    }
  });

  it('throws a retryable error when the source is down, rather than judging the design', async () => {
    const e = (await rejection(() =>
      validateDesign(deps, { href: `${server.origin}/down.yaml` }),
    )) as DesignRefError;
    expect(e).toBeInstanceOf(DesignRefError);
    expect([e.status, e.retry]).toEqual([502, true]);
  });
});
