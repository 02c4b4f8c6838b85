// `npm start`. JavaScript rather than TypeScript, so that nothing is compiled before Node's
// compile cache is on: with it, a restart loads every module (the TypeScript stripped of its
// types) from the cache and never loads the type stripper at all.
import { enableCompileCache } from 'node:module';

// PGlite is Postgres compiled to a large WebAssembly module; `--liftoff-only` keeps V8 from
// recompiling it with its optimising compiler in the background (seconds of CPU, hundreds of MB
// held while idle; infra/local/README.md has the figures). V8 freezes its flags once running, so
// the flag must be on the command line: `npm start` passes it; started without it (`node
// infra/local/start.js`), this process re-executes itself with it (same process id, same pipes)
// before it has loaded anything else, which costs a second start of Node.
if (!process.execArgv.includes('--liftoff-only')) {
  process.execve?.(
    process.execPath,
    [process.execPath, '--liftoff-only', ...process.execArgv, ...process.argv.slice(1)],
    process.env,
  );
}
// The cache lives in NODE_COMPILE_CACHE, else the OS temp folder.
enableCompileCache();
await import('./server.ts');
