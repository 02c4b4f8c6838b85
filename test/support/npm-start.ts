import { readFileSync } from 'node:fs';

/**
 * Node's arguments in package.json's `start` script (`node --liftoff-only infra/local/start.js`
 * → its flags and script), so a test or the bench starts the local server exactly as `npm start`
 * does, without npm's own process in between.
 */
export function npmStartArgv(): string[] {
  const { scripts } = JSON.parse(
    readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
  ) as { scripts: Record<string, string> };
  const [command, ...argv] = (scripts.start ?? '').trim().split(/\s+/);
  if (command !== 'node' || argv.length === 0) {
    throw new Error(`package.json's start script is not \`node …\`: ${scripts.start}`);
  }
  return argv;
}
