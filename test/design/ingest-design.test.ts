import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DRYDOCK_KINDS } from '#shared/design/document-schemas.ts';
import { ingestDesign } from '#shared/design/ingest-design.ts';
import { DesignSyntaxError } from '#shared/design/parse-yaml.ts';
import { validationStatus } from '#shared/design/validation.ts';
import { ValidationError } from '#shared/errors.ts';

const TS = '2026-11-24T20:00:00.000Z';
const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/designs/${name}`, import.meta.url), 'utf8');
const ingest = (text: string) => ingestDesign(text, { ts: TS });

// Inline rather than a fixture file: Biome parses the repository's YAML files and would fail on it.
const SYNTAX_ERROR = [
  'schema: drydock/Region/v1',
  'metadata:',
  '  name: broken',
  'data:',
  '  authorized_keys: [one, two',
  '  repositories: {}',
  '',
].join('\n');

describe('ingestDesign: valid site designs', () => {
  it('reads every kind in Deckhand format with no findings and passes other schemas through', () => {
    const { documents, messages } = ingest(fixture('site-deckhand.yaml'));
    expect(messages).toEqual([]);
    expect(documents.map((d) => d.kind)).toEqual([
      ...DRYDOCK_KINDS.slice(0, 4),
      ...DRYDOCK_KINDS.slice(3),
      'promenade/Genesis/v1',
    ]);
    const region = documents[0];
    expect(region).toMatchObject({
      schema: 'drydock/Region/v1',
      name: 'harbor-west',
      format: 'deckhand',
      drydock: true,
      position: { document: 1, line: 4 },
    });
    const passthrough = documents.at(-1);
    expect(passthrough).toMatchObject({
      schema: 'promenade/Genesis/v1',
      drydock: false,
      name: 'genesis',
      data: { hostname: 'node-a01' },
    });
  });

  it('reads every kind in the legacy format, normalised to drydock/<Kind>/v1, with YAML 1.1 scalars', () => {
    const { documents, messages } = ingest(fixture('site-legacy.yaml'));
    expect(messages).toEqual([]);
    expect(documents.filter((d) => d.drydock).map((d) => d.kind)).toEqual(DRYDOCK_KINDS);
    expect(documents.every((d) => d.format === 'legacy')).toBe(true);
    const bootAction = documents.find((d) => d.kind === 'BootAction');
    expect(bootAction?.schema).toBe('drydock/BootAction/v1');
    // PyYAML (Drydock) reads `yes` as true; so does the ingester.
    expect(bootAction?.data).toMatchObject({ signaling: true });
    expect(documents.at(-1)).toMatchObject({ schema: 'promenade/v1/Cluster', drydock: false });
  });
});

describe('ingestDesign: invalid documents become Drydock validation messages', () => {
  for (const [file, payload] of [
    ['invalid-deckhand.yaml', 'data'],
    ['invalid-legacy.yaml', 'spec'],
  ] as const) {
    it(`reports one DD001 error per broken kind (${file})`, () => {
      const { documents, messages } = ingest(fixture(file));
      expect(documents).toHaveLength(8);
      expect(messages).toHaveLength(8);
      for (const [i, kind] of DRYDOCK_KINDS.entries()) {
        const m = messages[i];
        expect(m).toMatchObject({
          name: 'DD001',
          error: true,
          level: 'Error',
          ts: TS,
          documents: [{ schema: `drydock/${kind}/v1`, name: expect.stringMatching(/^bad-/) }],
        });
        expect(m?.message).toMatch(
          new RegExp(`^${kind}:v1 schema validation error: .+ at ${payload}`),
        );
        expect(m?.diagnostic).toContain(`document ${i + 1} (line `);
      }
      const status = validationStatus(messages);
      expect(status).toMatchObject({
        kind: 'Status',
        apiVersion: 'v1.0',
        metadata: {},
        status: 'Failure',
        details: { errorCount: 8 },
      });
    });
  }

  it('names the offending path and the rule', () => {
    const { messages } = ingest(fixture('invalid-deckhand.yaml'));
    const byDoc = Object.fromEntries(messages.map((m) => [m.documents[0]?.name, m.message]));
    expect(byDoc['bad-network']).toContain('Unrecognized key: "gateway"');
    expect(byDoc['bad-hardware']).toContain('at data.boot_mode');
    expect(byDoc['bad-bootaction']).toContain('at data.assets[0].path');
  });

  it('requires metadata.name on Drydock documents', () => {
    const { messages } = ingest('schema: drydock/Rack/v1\nmetadata: {}\ndata: {}\n');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ name: 'DD001', level: 'Error' });
    expect(messages[0]?.message).toContain('metadata.name is required');
  });

  it('reports a document that is not a mapping, or has no schema, as DD000', () => {
    const { documents, messages } = ingest(
      '- just\n- a list\n---\nmetadata: {name: x}\ndata: {}\n',
    );
    expect(documents).toEqual([]);
    expect(messages.map((m) => [m.name, m.level])).toEqual([
      ['DD000', 'Error'],
      ['DD000', 'Error'],
    ]);
    expect(messages[1]?.diagnostic).toContain('document 2 (line 4)');
  });

  it('reports an empty design as an error', () => {
    const { messages } = ingest('# nothing here\n');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ name: 'DD000', error: true });
  });

  it('warns about unknown Drydock kinds and passes them through', () => {
    const { documents, messages } = ingest(
      'schema: drydock/Cabinet/v1\nmetadata: {name: c}\ndata: {}\n---\napiVersion: drydock/v1\nkind: Cabinet\nmetadata: {name: d}\nspec: {}\n',
    );
    expect(documents.map((d) => d.drydock)).toEqual([false, false]);
    expect(messages.map((m) => m.level)).toEqual(['Warning', 'Warning']);
    expect(validationStatus(messages).status).toBe('Success');
  });

  it('reports what Drydock stated but never enforced as warnings, not errors', () => {
    const text = [
      'schema: drydock/Region/v1',
      'metadata: {name: r}',
      'data:',
      '  repositories:',
      '    docker: {repo_type: apt, url: https://repo.test}', // arches missing
      '---',
      'schema: drydock/Network/v1',
      'metadata: {name: n}',
      'data:',
      '  ranges: [{type: static, start: 10.0.0.300, end: 10.0.0.9}]',
      '---',
      'schema: drydock/Rack/v1',
      'metadata: {name: k}',
      'data:',
      '  tor_switches: {tor-1: {mgmt_ip: switch-one}}',
      '---',
      'schema: drydock/HardwareProfile/v1',
      'metadata: {name: h}',
      'data:',
      '  hugepages: {dpdk: {size: 2M, count: lots}}',
    ].join('\n');
    const { messages } = ingest(text);
    expect(messages.map((m) => [m.level, m.error])).toEqual([
      ['Warning', false],
      ['Warning', false],
      ['Warning', false],
      ['Warning', false],
    ]);
    expect(messages[0]?.message).toContain('data.repositories.docker.arches');
    expect(messages[1]?.message).toContain('data.ranges[0].start');
    expect(messages[2]?.message).toContain('data.tor_switches.tor-1.mgmt_ip');
    expect(messages[3]?.message).toContain('data.hugepages.dpdk.count');
    expect(validationStatus(messages)).toMatchObject({
      status: 'Success',
      details: { errorCount: 0 },
    });
  });
});

describe('ingestDesign: unreadable YAML is a structured 400', () => {
  it('gives the line and column of a syntax error', () => {
    let caught: unknown;
    try {
      ingest(SYNTAX_ERROR);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DesignSyntaxError);
    expect(caught).toBeInstanceOf(ValidationError);
    const e = caught as DesignSyntaxError;
    expect(e.status).toBe(400);
    // The unclosed flow sequence of line 5 is detected where the next key starts.
    expect([e.line, e.column]).toEqual([6, 3]);
    expect(e.message).toContain('line 6, column 3');
    expect(e.issues[0]?.path).toBe('yaml:6:3');
  });

  it('refuses a billion-laughs document by its expanded size, measured without expanding it', () => {
    expect(() => ingest(fixture('billion-laughs.yaml'))).toThrow(
      /design refused at line 2, column 1: expands to more than 2000000 values/,
    );
  });

  it('refuses custom and language tags', () => {
    expect(() => ingest('a: !!python/object/apply:os.system [id]\n')).toThrow(
      /unknown sequence tag/,
    );
    expect(() => ingest('a: !vault secret\n')).toThrow(/unknown scalar tag/);
    expect(() => ingest('a: !!binary aGVsbG8=\n')).toThrow(/unknown scalar tag/);
    expect(() => ingest('a: !!timestamp 2001-12-14\n')).toThrow(DesignSyntaxError);
  });

  it('does not echo the design text in the error', () => {
    const secret = 'hunter2-top-secret';
    let message = '';
    try {
      ingest(`oob:\n  credential: ${secret}\n  account: [admin\nnext: 1\n`);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/line \d+, column \d+/);
    expect(message).not.toContain(secret);
  });
});

describe('ingestDesign: duplicate keys as PyYAML reads them', () => {
  it('keeps the last value and warns, naming the key, its line and the document', () => {
    const text = [
      'schema: drydock/Rack/v1',
      'metadata: {name: r1}',
      'data:',
      '  local_networks: [a]',
      '  location: {clli: X, clli: Y}',
      '  local_networks: [b]',
      '---',
      'schema: other/Thing/v1',
      'metadata: {name: t}',
      'data: {yes: 1, true: 2, "yes": 3}',
    ].join('\n');
    const { documents, messages } = ingest(text);
    expect(documents[0]?.data).toEqual({ location: { clli: 'Y' }, local_networks: ['b'] });
    // `yes` and `true` are the same key once read (PyYAML's booleans); the quoted one is a string.
    expect(documents[1]?.data).toEqual({ true: 2, yes: 3 });
    expect(messages).toEqual([
      {
        kind: 'ValidationMessage',
        name: 'DD000',
        level: 'Warning',
        error: false,
        message: "Duplicate key 'clli' at line 5, column 23: the last value is used",
        diagnostic:
          "Document 1 repeats the key 'clli' in one mapping; Drydock (PyYAML) keeps the last value, and so does this service. Remove the earlier one.",
        documents: [{ schema: 'drydock/Rack/v1', name: 'r1' }],
        ts: TS,
      },
      expect.objectContaining({
        message: "Duplicate key 'local_networks' at line 6, column 3: the last value is used",
      }),
      expect.objectContaining({
        message: "Duplicate key 'true' at line 10, column 16: the last value is used",
        documents: [{ schema: 'other/Thing/v1', name: 't' }],
      }),
    ]);
    expect(validationStatus(messages).status).toBe('Success');
  });

  it('does not count merged keys as duplicates, and explicit keys win over merged ones', () => {
    const { documents, messages } = ingest(
      'schema: other/Thing/v1\nmetadata: {name: t}\ndata:\n  base: &b {x: 1, y: 2}\n  m: {<<: *b, y: 3}\n',
    );
    expect(messages).toEqual([]);
    expect(documents[0]?.data).toMatchObject({ m: { x: 1, y: 3 } });
  });
});

describe('ingestDesign: scalars read as Drydock (PyYAML) reads them', () => {
  it('takes yes/no/on/off as booleans but leaves y and n as strings', () => {
    const { documents } = ingest(
      'schema: other/Thing/v1\nmetadata: {name: n}\ndata: {a: yes, b: Off, c: y, d: N, e: 0755, f: 2017-02-17}\n',
    );
    expect(documents[0]?.name).toBe('n');
    expect(documents[0]?.data).toEqual({
      a: true,
      b: false,
      c: 'y',
      d: 'N',
      e: 493,
      f: '2017-02-17',
    });
  });
});
