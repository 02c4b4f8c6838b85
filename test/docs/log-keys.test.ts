// One way to put a request's or a record's ids on log lines: the invocation's log keys
// (shared/invocation.ts), which the formatter reads per line. The kits no longer reset the
// logger's appended keys after an invocation, so a key appended to the shared logger would stay
// on every later line of the container (and, in the local server, on concurrent requests').
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT, serviceSourceFiles } from '#test/support/service-sources.ts';

const APPENDED_KEYS =
  /\.\s*(appendKeys|appendPersistentKeys|removeKeys|removePersistentKeys)\s*\??\.?\s*\(/;

describe("the service's log keys", () => {
  it('are never appended to a shared logger by the service code', () => {
    const files = serviceSourceFiles();
    expect(files.length).toBeGreaterThan(100);
    const offenders = files.filter((file) =>
      APPENDED_KEYS.test(readFileSync(join(REPOSITORY_ROOT, file), 'utf8')),
    );
    expect(offenders, 'use withLogKeys or addInvocationLogKeys (shared/invocation.ts)').toEqual([]);
  });
});
