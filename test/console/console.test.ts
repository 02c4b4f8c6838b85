import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareConsole } from '#infra/console/console-build.ts';
import { createStaticFiles } from '#infra/local/static-files.ts';
import { type RunningServer, request, startServer } from '#test/e2e/harness.ts';
import { launchChromium } from '#test/support/browser.ts';
import { DESIGN_REF, DeployFlow } from '#test/support/deploy-flow.ts';
import { ageTask } from '#test/support/store-fixtures.ts';

const fixtures = fileURLToPath(new URL('../fixtures/designs/', import.meta.url));
/** Screenshots of each page, kept as test artefacts (gitignored). */
const ARTIFACTS = fileURLToPath(new URL('../artifacts/screenshots/', import.meta.url));

// The page's own globals, inside page.evaluate (this file is type-checked without the DOM lib).
declare const document: {
  querySelectorAll(selector: string): ArrayLike<{
    labels: ArrayLike<unknown> | null;
    getAttribute(name: string): string | null;
    outerHTML: string;
  }>;
};

/**
 * The console in Debian's Chromium against the local server, as `npm start` serves it: every
 * page, a deploy followed as it happens, and actions through the UI checked against the API.
 * One browser for the file; a page per test.
 */
describe('the console in a browser', () => {
  let server: RunningServer;
  let browser: Browser;
  let flow: DeployFlow;

  beforeAll(async () => {
    const [started, launched] = await Promise.all([
      startServer(
        'pglite',
        { DESIGN_FILE_ROOTS: fixtures, LOG_LEVEL: 'SILENT' },
        { staticFiles: createStaticFiles({ root: prepareConsole() }) },
      ),
      launchChromium(),
      mkdir(ARTIFACTS, { recursive: true }),
    ]);
    server = started;
    browser = launched;
    flow = new DeployFlow(server.url, 'orch-browser');
    await flow.lead();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const open = async (hash: string): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(`${server.url}/${hash}`);
    // Every page ends by checking that nothing failed in the browser.
    (page as Page & { errors: string[] }).errors = errors;
    return page;
  };
  const done = async (page: Page, name: string) => {
    await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
    // Every form control has an accessible name (a label or aria-label).
    const unlabelled = await page.evaluate(() =>
      Array.from(document.querySelectorAll('input, select, textarea'))
        .filter((el) => (el.labels?.length ?? 0) === 0 && !el.getAttribute('aria-label'))
        .map((el) => el.outerHTML),
    );
    expect(unlabelled).toEqual([]);
    // The browser logs each 4xx answer (an invalid design is a 400, a task without build data a
    // 404); the pages show those answers. Anything else logged as an error is a bug.
    const errors = (page as Page & { errors: string[] }).errors.filter(
      (e) => !/^Failed to load resource: the server responded with a status of 4\d\d/.test(e),
    );
    expect(errors).toEqual([]);
    await page.close();
  };

  it('lists tasks and filters them by status', async () => {
    const queued = await request(server.url, 'POST', '/api/v1.0/tasks', {
      body: { action: 'verify_site', design_ref: DESIGN_REF },
    });
    const stopped = await request(server.url, 'POST', '/api/v1.0/tasks', {
      body: { action: 'prepare_site', design_ref: DESIGN_REF },
    });
    await request(server.url, 'POST', `/api/v1.0/tasks/${stopped.body.task_id}/terminate`, {
      body: {},
    });
    const page = await open('#/tasks');
    await page.locator(`tr[data-task-id="${queued.body.task_id}"]`).waitFor();
    await page.locator(`tr[data-task-id="${stopped.body.task_id}"]`).waitFor();
    await page.getByLabel('Status').selectOption('queued');
    await page.waitForURL(/#\/tasks\?status=queued/);
    // The filtered list replaces the whole one once it is read.
    const rows = (id: string) => page.locator(`tr[data-task-id="${id}"]`).count();
    await expect
      .poll(async () => [await rows(queued.body.task_id), await rows(stopped.body.task_id)])
      .toEqual([1, 0]);
    // A task created while the page is open appears without a reload.
    const later = await request(server.url, 'POST', '/api/v1.0/tasks', {
      body: { action: 'verify_nodes', design_ref: DESIGN_REF },
    });
    await page.locator(`tr[data-task-id="${later.body.task_id}"]`).waitFor();
    await done(page, 'tasks');
  });

  it('reads again at its own pace after a failed read, though the event stream is open', async () => {
    const task = await request(server.url, 'POST', '/api/v1.0/tasks', {
      body: { action: 'verify_site', design_ref: DESIGN_REF },
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // The page's timers on a clock the test moves (flowing on its own until paused below).
    await page.clock.install();
    let failing = true;
    let failed = 0;
    await page.route(
      (url) => url.pathname === '/api/v1.0/tasks',
      async (route) => {
        if (!failing) return route.continue();
        failed += 1;
        return route.fulfill({
          status: 503,
          contentType: 'application/json',
          body: JSON.stringify({
            type: 'error',
            message: 'the database is unavailable',
            retry: true,
          }),
        });
      },
    );
    const streamOpened = page.waitForResponse((res) => res.url().includes('/api/v1.0/events'));
    await page.goto(`${server.url}/#/tasks`);
    await streamOpened;
    // The first read, and the one the stream's opening asks for, both fail.
    await expect.poll(() => failed).toBeGreaterThanOrEqual(2);
    await page.getByRole('alert').filter({ hasText: 'the database is unavailable' }).waitFor();
    // From here the page's time moves only as the test moves it, so the outcome does not depend
    // on how fast this machine runs the rest.
    await page.clock.pauseAt(Date.now() + 1_000);
    failing = false;
    // Past the page's own 3 s, far short of the 30 s the stream lets a healthy page wait.
    await page.clock.runFor(5_000);
    await page.locator(`tr[data-task-id="${task.body.task_id}"]`).waitFor({ timeout: 10_000 });
    await page.close();
  });

  it('follows a deploy as it happens: subtasks, messages (errors highlighted), results, roll-up', async () => {
    const taskId = await flow.start(['web-01', 'web-02']);
    const page = await open(`#/tasks/${taskId}`);
    const tree = page.getByTestId('task-tree');
    await tree.locator(`li[data-task-id="${taskId}"]`).waitFor();
    await page.locator('.message', { hasText: 'Starting deploy_nodes' }).waitFor();

    // Each step's changes land between two reads of the page (it polls): one wait per step.
    const first = await flow.startNode('web-01');
    await flow.message(first, 'IPMI power on failed, retrying', true, 'node', 'web-01');
    await tree.locator(`li[data-task-id="${first}"]`).waitFor();
    const error = page.locator('.message.error', { hasText: 'IPMI power on failed' });
    await error.waitFor();
    // It arrived while the page was open: marked new, and highlighted as an error.
    expect(await error.getAttribute('class')).toContain('new');

    await flow.lshw('web-01', 0);
    await flow.finishNode('web-01', true);
    const second = await flow.startNode('web-02');
    await tree
      .locator(`li[data-task-id="${first}"] .tree-row .badge`, { hasText: 'complete' })
      .waitFor();
    await tree.locator(`li[data-task-id="${second}"]`).waitFor();
    await page.locator('[data-figure="success"] dd', { hasText: '1' }).waitFor();
    expect(await page.getByText('Failures in the tree').count()).toBe(0);

    await flow.finishNode('web-02', false);
    await page.getByText('Failures in the tree (1):').waitFor();
    // The subtask's own page lists the build data recorded under it, linked to the node.
    const sub = await open(`#/tasks/${first}`);
    await sub.locator('ul.builddata a', { hasText: 'web-01' }).waitFor();
    await sub.close();
    await done(page, 'task');
  });

  it('says so when a tree is larger than one answer holds, and shows the part it has', async () => {
    const taskId = await flow.startWide(14);
    const answer = await request(server.url, 'GET', `/api/v1.0/tasks/${taskId}?layers=-1`);
    const { shown, total } = answer.body.truncated.tasks;
    expect(total).toBe(15);
    expect(shown).toBeLessThan(15);
    const page = await open(`#/tasks/${taskId}`);
    const notice = page.getByTestId('tree-cut');
    await notice.waitFor();
    expect(await notice.textContent()).toContain(
      `This tree has 15 tasks, more than one answer holds: the tree, roll-up and messages below cover the first ${shown}`,
    );
    // The page still shows what it read: the root's messages and the subtasks that came.
    await page.locator('.message', { hasText: 'Starting deploy_nodes' }).waitFor();
    // The root's answer embedded fewer of its messages than it has: the count says so.
    const rootMessages = answer.body[taskId].truncated.messages;
    expect(rootMessages.shown).toBeLessThan(rootMessages.total);
    await page
      .locator('.messages-panel .hint', {
        hasText: `${rootMessages.shown} of ${rootMessages.total} messages read (each task's first)`,
      })
      .waitFor();
    expect(await page.getByTestId('task-tree').locator('li[data-task-id]').count()).toBe(shown);
    await done(page, 'task-cut');
  });

  it('terminates a task through the UI, after a confirmation, and the API shows it', async () => {
    const taskId = await flow.start(['db-01']);
    const subtask = await flow.startNode('db-01');
    const page = await open(`#/tasks/${taskId}`);
    await page.getByTestId('task-tree').locator(`li[data-task-id="${subtask}"]`).waitFor();

    // Keyboard: the button opens the dialog, Escape cancels it, nothing happens.
    await page.getByRole('button', { name: 'Terminate', exact: true }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: /Terminate deploy_nodes/ });
    await dialog.waitFor();
    expect(
      await dialog
        .getByRole('button', { name: 'Cancel' })
        .evaluate((b) => b === b.ownerDocument.activeElement),
    ).toBe(true);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect((await request(server.url, 'GET', `/api/v1.0/tasks/${taskId}`)).body.terminate).toBe(
      false,
    );

    await page.getByRole('button', { name: 'Terminate', exact: true }).click();
    await dialog.getByRole('button', { name: 'Terminate the task and its subtasks' }).click();
    await page.getByText('Termination requested for 2 tasks.').waitFor();
    const root = await request(server.url, 'GET', `/api/v1.0/tasks/${taskId}`);
    const child = await request(server.url, 'GET', `/api/v1.0/tasks/${subtask}`);
    expect(root.body).toMatchObject({ terminate: true });
    expect(child.body).toMatchObject({ terminate: true });
    expect(root.body.terminated_by).toContain('local-developer');
    await page.getByText('termination requested', { exact: true }).first().waitFor();
    await done(page, 'task-terminated');
  });

  it('retries a finished task through the UI, after a confirmation, and the API shows it', async () => {
    const taskId = await flow.run(['app-01'], { failing: ['app-01'] });
    const page = await open(`#/tasks/${taskId}`);
    await page.getByRole('button', { name: 'Terminate', exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'Terminate', exact: true }).isDisabled()).toBe(
      true,
    );
    await page.getByRole('button', { name: 'Retry', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: /Retry deploy_nodes/ });
    await dialog.getByRole('button', { name: 'Retry the failed entities' }).click();
    await page.getByText(`Retry 1 under epoch ${flow.epoch}: the task is running.`).waitFor();
    const retried = await request(server.url, 'GET', `/api/v1.0/tasks/${taskId}`);
    expect(retried.body).toMatchObject({ retry: 1, status: 'running' });
    expect(retried.body.result.details.messageList.at(-1).message).toBe(
      'Retrying task for failed entities.',
    );
    await done(page, 'task-retry');
  });

  it("shows a node's build history by generator and compares two lshw runs", async () => {
    const taskId = await flow.start(['stor-01']);
    await flow.startNode('stor-01');
    await flow.lshw('stor-01', 0, '2026-01-01T00:00:00Z');
    await flow.lshw('stor-01', 2);
    const page = await open('#/nodes');
    await page.getByLabel('Node name').fill('stor-01');
    await page.getByLabel('Node name').press('Enter');
    await page.waitForURL(/#\/nodes\/stor-01$/);
    const rows = page.locator('table.history tbody tr[data-generator="lshw"]');
    await rows.nth(1).waitFor();
    expect(await rows.count()).toBe(2);
    expect(await rows.first().textContent()).toContain('latest');

    await rows.first().getByRole('button', { name: 'View' }).click();
    await page
      .locator('pre.payload', { hasText: '<product>ProLiant DL380 Gen10</product>' })
      .waitFor();
    for (const i of [0, 1]) await rows.nth(i).getByRole('checkbox').check();
    const diff = page.getByTestId('diff');
    await diff.locator('.added', { hasText: 'disk:3' }).waitFor();
    await diff.locator('.removed', { hasText: 'U30 v2.40' }).waitFor();
    await diff.locator('.added', { hasText: 'U30 v2.42' }).waitFor();
    expect(taskId).toBeTruthy();
    await done(page, 'node');
  });

  it('shows the lease: holder, epoch, renewal', async () => {
    const page = await open('#/lease');
    await page.getByRole('heading', { name: /Held by orch-browser/ }).waitFor();
    await page.locator('[data-figure="Epoch"]').waitFor();
    await page.getByText('Last renewal').waitFor();
    await done(page, 'lease');
  });

  it('shows queue health: depth, oldest queued', async () => {
    await request(server.url, 'POST', '/api/v1.0/tasks', {
      body: { action: 'destroy_nodes', design_ref: DESIGN_REF },
    });
    const health = await request(server.url, 'GET', '/api/v1.0/queue');
    const page = await open('#/queue');
    const queued = page.getByTestId('queue-figures').locator('[data-figure="Queued"] dd');
    await queued.waitFor();
    expect(await queued.textContent()).toBe(String(health.body.queued));
    await page.getByText('Oldest queued:').waitFor();
    await done(page, 'queue');
  });

  it('validates a pasted design and one by reference, messages grouped by rule and document', async () => {
    const page = await open('#/design');
    await page.getByLabel('Paste the YAML').check();
    await page
      .getByLabel('Design YAML')
      .fill(await readFile(`${fixtures}invalid-deckhand.yaml`, 'utf8'));
    await page.getByRole('button', { name: 'Validate', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Validate' }).click();
    const result = page.getByTestId('validation-result');
    await result.getByRole('heading', { name: /^Invalid design: \d+ errors?/ }).waitFor();
    const rule = result.locator('details.rule', { hasText: 'DD001' });
    await rule.waitFor();
    expect(await rule.getAttribute('open')).not.toBeNull();
    expect(await rule.locator('.doc-group h3').count()).toBeGreaterThan(0);
    await done(page, 'design');

    const byRef = await open('#/design');
    await byRef.getByLabel('Design reference').fill(`file://${fixtures}site-deckhand.yaml`);
    await byRef.getByRole('button', { name: 'Validate', exact: true }).click();
    await byRef.getByRole('dialog').getByRole('button', { name: 'Validate' }).click();
    await byRef
      .getByTestId('validation-result')
      .getByRole('heading', { name: /^Valid design/ })
      .waitFor();
    await done(byRef, 'design-valid');
  });

  it('purges old finished tasks through the UI', async () => {
    const old = await request(server.url, 'POST', '/api/v1.0/tasks', {
      body: { action: 'verify_site', design_ref: DESIGN_REF },
    });
    await request(server.url, 'POST', `/api/v1.0/tasks/${old.body.task_id}/terminate`, {
      body: {},
    });
    await ageTask(server.db, old.body.task_id, 400);
    const page = await open('#/tasks?age=all');
    await page.getByLabel('Older than (days)').fill('365');
    await page.getByRole('button', { name: 'Purge', exact: true }).click();
    await page
      .getByRole('dialog')
      .getByRole('button', { name: 'Purge tasks older than 365 days' })
      .click();
    await page.getByText('Purged 1 task.').waitFor();
    expect((await request(server.url, 'GET', `/api/v1.0/tasks/${old.body.task_id}`)).status).toBe(
      404,
    );
    await done(page, 'tasks-purged');
  });
});
