// `npm run screenshot`: fills a fresh in-memory local server with a deploy in progress, takes a
// screenshot of each console page at 1280 px (the README's picture is the task page), and
// measures how long the task page of a 500-subtask tree takes to render.

import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '#test/support/browser.ts';
import { DeployFlow } from '#test/support/deploy-flow.ts';
import { npmStartArgv } from '#test/support/npm-start.ts';

// The page's own globals, inside page.evaluate (this file is type-checked without the DOM lib).
declare const document: { querySelectorAll(selector: string): { length: number } };
interface ResourceTiming {
  requestStart: number;
  responseEnd: number;
}

const README_PICTURE = fileURLToPath(
  new URL('../../infra/console/screenshot.png', import.meta.url),
);
const ARTIFACTS = fileURLToPath(new URL('../artifacts/screenshots/', import.meta.url));

// The server runs as its own process, exactly as `npm start` runs it (in-memory PGlite, no
// schedule), so the browser and this script do not share its event loop.
const server = spawn(process.execPath, npmStartArgv(), {
  cwd: fileURLToPath(new URL('../../', import.meta.url)),
  env: {
    ...process.env,
    PORT: '0',
    PGLITE_DATA_DIR: 'memory://',
    LOCAL_SCHEDULE: 'off',
    LOG_LEVEL: 'ERROR',
    DB_DRIVER: 'pglite',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const serviceUrl = await new Promise<string>((resolve, reject) => {
  let banner = '';
  server.stdout?.on('data', (chunk: Buffer) => {
    banner += chunk.toString();
    const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(banner);
    if (m && banner.includes('Ctrl-C stops it.')) resolve(m[1] as string);
  });
  server.on('exit', (code) => reject(new Error(`the server exited with ${code}: ${banner}`)));
});
const service = { url: serviceUrl };
const browser = await launchChromium();
try {
  // Some history: two finished deploys, a queued verify, then a deploy in progress.
  const earlier = new DeployFlow(service.url);
  await earlier.run(['rack1-n01', 'rack1-n02', 'rack1-n03']);
  await earlier.run(['rack2-n01', 'rack2-n02'], { failing: ['rack2-n02'] });
  const nodes = Array.from({ length: 12 }, (_, i) => `rack3-n${String(i + 1).padStart(2, '0')}`);
  const deploy = new DeployFlow(service.url);
  deploy.epoch = earlier.epoch;
  await deploy.start(nodes);
  for (const [i, node] of nodes.entries()) {
    const id = await deploy.startNode(node);
    await deploy.message(id, `Power cycling ${node}`, false, 'node', node);
    await deploy.lshw(node, 0, new Date(Date.now() - 86_400_000).toISOString());
    await deploy.lshw(node, 1);
    if (i < 8) await deploy.finishNode(node, i !== 5);
  }
  await deploy.call('POST', '/tasks', {
    action: 'verify_site',
    design_ref: 'https://designs.example.com/site.yaml',
  });

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await mkdir(ARTIFACTS, { recursive: true });
  const shots: [string, string, string][] = [
    ['tasks', '#/tasks', 'table.tasks tbody tr'],
    ['task', `#/tasks/${deploy.taskId}`, '.messages-log'],
    ['queue', '#/queue', '[data-testid=queue-figures]'],
    ['lease', '#/lease', '#holder-title'],
    ['node', `#/nodes/${nodes[0]}`, 'table.history tbody tr'],
    ['design', '#/design', '#design-title'],
  ];
  for (const [name, hash, ready] of shots) {
    await page.goto(`${service.url}/${hash}`);
    await page.waitForSelector(ready);
    await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
    if (name === 'task') await page.screenshot({ path: README_PICTURE });
  }
  console.log(`screenshots in ${ARTIFACTS}; README picture ${README_PICTURE}`);

  // The render time of a 500-subtask task page: from navigation start to the tree in the DOM.
  const big = new DeployFlow(service.url);
  big.epoch = earlier.epoch;
  const bigNodes = Array.from({ length: 500 }, (_, i) => `big-n${String(i + 1).padStart(3, '0')}`);
  const started = Date.now();
  await big.run(bigNodes, { failing: bigNodes.filter((_, i) => i % 50 === 0), lshw: false });
  console.log(`seeded a 500-subtask deploy in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const times: {
    started: number;
    requested: number;
    answered: number;
    fetched: number;
    rendered: number;
    complete: number;
    rows: number;
  }[] = [];
  for (let i = 0; i < 9; i += 1) {
    const fresh = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await fresh.goto(`${service.url}/#/tasks/${big.taskId}`);
    await fresh.waitForSelector('[data-testid=task-tree] li li');
    await fresh.waitForSelector('.messages-log');
    times.push(
      await fresh.evaluate(() => ({
        started: performance.getEntriesByName('drydock:app-started')[0]?.startTime ?? -1,
        requested:
          (
            performance
              .getEntriesByType('resource')
              .find((e) => e.name.includes('layers=-1')) as unknown as ResourceTiming | undefined
          )?.requestStart ?? -1,
        answered:
          (
            performance
              .getEntriesByType('resource')
              .find((e) => e.name.includes('layers=-1')) as unknown as ResourceTiming | undefined
          )?.responseEnd ?? -1,
        fetched: performance.getEntriesByName('drydock:task-tree-fetched')[0]?.startTime ?? -1,
        rendered: performance.getEntriesByName('drydock:task-page-rendered')[0]?.startTime ?? -1,
        complete: performance.getEntriesByName('drydock:task-page-complete')[0]?.startTime ?? -1,
        rows: document.querySelectorAll('[data-testid=task-tree] li').length,
      })),
    );
    await fresh.close();
  }
  const median = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const at = (pick: (t: (typeof times)[number]) => number) =>
    `${median(times.map(pick)).toFixed(0)} ms`;
  console.log(
    `500-subtask task page (${times[0]?.rows} tree rows), median of ${times.length}, from navigation start: ` +
      `tree on screen ${at((t) => t.rendered)} (all: ${times.map((t) => t.rendered.toFixed(0)).join(', ')}); ` +
      `whole tree with its messages ${at((t) => t.complete)} (app started ${at((t) => t.started)}, ` +
      `tree requested ${at((t) => t.requested)}, answered ${at((t) => t.answered)}, parsed ${at((t) => t.fetched)}); ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${cpus().length} cores`,
  );
} finally {
  await browser.close();
  server.removeAllListeners('exit');
  server.kill('SIGINT');
}
