// One way to put a request's or a record's ids on log lines: the invocation's log keys
// (shared/invocation.ts), which the formatter reads per line. The kits no longer reset the
// logger's appended keys after an invocation, so a key appended to the shared logger would stay
// on every later line of the container (and, in the local server, on concurrent requests').
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const APPENDED_KEYS =
  /\.\s*(appendKeys|appendPersistentKeys|removeKeys|removePersistentKeys)\s*\??\.?\s*\(/;

describe("the service's log keys", () => {
  it('are never appended to a shared logger by the service code', () => {
    const files = execFileSync(
      'git',
      [
        'ls-files',
        '--cached',
        '--others',
        '--exclude-standard',
        '--',
        'infra',
        'functions',
        'shared',
      ],
      { cwd: ROOT, encoding: 'utf8' },
    )
      .split('\n')
      .filter((file) => /\.tsx?$/.test(file));
    expect(files.length).toBeGreaterThan(100);
    const offenders = files.filter((file) => {
      try {
        return APPENDED_KEYS.test(readFileSync(join(ROOT, file), 'utf8'));
      } catch {
        return false; // deleted in the working tree
      }
    });
    expect(offenders, 'use withLogKeys or addInvocationLogKeys (shared/invocation.ts)').toEqual([]);
  });
});
