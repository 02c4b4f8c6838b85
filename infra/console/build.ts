// `npm run build:console` (also run by `npm ci`'s `prepare`): the console into infra/console/dist.
import { buildConsole, CONSOLE_DIST } from './console-build.ts';

const started = Date.now();
await buildConsole();
console.log(`console built into ${CONSOLE_DIST} in ${Date.now() - started} ms`);
