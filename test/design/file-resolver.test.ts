import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DesignRefError } from '#shared/design-refs/errors.ts';
import { ValidationError } from '#shared/errors.ts';
import { rejection, testResolver } from './servers.ts';

const DESIGN = 'schema: drydock/Network/v1\nmetadata: {name: pxe}\ndata: {}\n';

let base: string;
let root: string;
let outside: string;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'design-files-'));
  root = join(base, 'designs');
  outside = join(base, 'private');
  mkdirSync(join(root, 'sites'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'sites', 'lab.yaml'), DESIGN);
  writeFileSync(join(root, 'big.yaml'), Buffer.alloc(70 * 1024, 0x61));
  writeFileSync(join(outside, 'secret.yaml'), 'password: do-not-read\n');
  // A link inside the root pointing out of it, and one pointing to a file inside it.
  symlinkSync(join(outside, 'secret.yaml'), join(root, 'escape.yaml'));
  symlinkSync(join(outside), join(root, 'escape-dir'));
  symlinkSync(join(root, 'sites', 'lab.yaml'), join(root, 'alias.yaml'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

const fileRef = (path: string) => pathToFileURL(path).href;
const resolverFor = (roots: string[]) => testResolver({ fileRoots: roots });

describe('file:// design references', () => {
  it('reads a file inside a configured root, also through a link that stays inside', async () => {
    const r = resolverFor([root]);
    const got = await r.resolve(fileRef(join(root, 'sites', 'lab.yaml')));
    expect(got.bytes.toString()).toBe(DESIGN);
    expect(got.scheme).toBe('file');
    expect((await r.resolve(fileRef(join(root, 'alias.yaml')))).bytes.toString()).toBe(DESIGN);
    await r.close();
  });

  it('refuses paths outside the roots, including traversal and encoded traversal', async () => {
    const r = resolverFor([root]);
    for (const ref of [
      fileRef(join(outside, 'secret.yaml')),
      `file://${root}/../private/secret.yaml`,
      `file://${root}/%2e%2e/private/secret.yaml`,
      `file://${root}/sites/..%2f..%2fprivate/secret.yaml`,
      'file:///etc/passwd',
    ]) {
      const e = (await rejection(() => r.resolve(ref))) as DesignRefError;
      expect(e, ref).toBeInstanceOf(DesignRefError);
      expect([e.failure, e.status], ref).toEqual(['refused', 400]);
    }
    await r.close();
  });

  it('refuses a symlink that escapes the root', async () => {
    const r = resolverFor([root]);
    for (const ref of [
      fileRef(join(root, 'escape.yaml')),
      fileRef(join(root, 'escape-dir', 'secret.yaml')),
    ]) {
      const e = (await rejection(() => r.resolve(ref))) as DesignRefError;
      expect([e.failure, e.status], ref).toEqual(['refused', 400]);
      expect(e.message).toContain('DESIGN_FILE_ROOTS');
    }
    await r.close();
  });

  it('tells a missing file from a refused one, and refuses folders', async () => {
    const r = resolverFor([root]);
    const missing = (await rejection(() =>
      r.resolve(fileRef(join(root, 'nope.yaml'))),
    )) as DesignRefError;
    expect([missing.failure, missing.status]).toEqual(['not_found', 400]);
    const folder = (await rejection(() => r.resolve(`${fileRef(root)}/sites`))) as DesignRefError;
    expect(folder.failure).toBe('refused');
    await r.close();
  });

  it('applies the size cap', async () => {
    const r = resolverFor([root]);
    const e = (await rejection(() => r.resolve(fileRef(join(root, 'big.yaml'))))) as DesignRefError;
    expect([e.failure, e.status]).toEqual(['too_large', 413]);
    await r.close();
  });

  it('is disabled when no roots are configured', async () => {
    const r = resolverFor([]);
    const e = (await rejection(() =>
      r.resolve(fileRef(join(root, 'sites', 'lab.yaml'))),
    )) as DesignRefError;
    expect(e.failure).toBe('refused');
    expect(e.message).toContain('DESIGN_FILE_ROOTS');
    await r.close();
  });

  it('rejects relative file references as invalid', async () => {
    const r = resolverFor([root]);
    const e = await rejection(() => r.resolve('file://designs/sites/lab.yaml'));
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.message).toContain('absolute path');
    await r.close();
  });
});
