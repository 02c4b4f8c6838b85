#!/usr/bin/env node
// `npx drydock-state …`: the operator's command line for the service (reference:
// infra/cli/README.md). Runs on the project's Node 24 (npx puts node_modules/.bin first).
import { enableCompileCache } from 'node:module';

// Scripts run the CLI many times in a row: Node's on-disk compile cache (the OS temp folder)
// cuts the CPU of each start by about half. It covers modules loaded after this line, hence the
// dynamic import of the rest.
enableCompileCache();
await import('./main.ts');
