import { defineConfig } from 'vitest/config';

// The one test that asserts a latency bound runs after the rest, alone, so the suite's own
// parallel files do not compete with the server it measures.
const ALONE = ['test/e2e/design-responsiveness.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: files run in parallel across a small fork pool; each file gets its own schema.
    pool: 'forks',
    maxWorkers: 2,
    // PGlite's WebAssembly on V8's baseline compiler only, as `npm start` runs it
    // (infra/local/README.md): an in-memory PGlite's initdb takes about 40% less CPU without the
    // optimising tier's background recompilation, and far less memory.
    execArgv: ['--liftoff-only'],
    projects: [
      {
        extends: true,
        test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: ALONE },
      },
      {
        extends: true,
        test: { name: 'alone', include: ALONE, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
