import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, request, startServer } from '#test/e2e/harness.ts';
import { DESIGN_REF, DeployFlow } from '#test/support/deploy-flow.ts';
import { ageTask } from '#test/support/store-fixtures.ts';
import { runCli, startCli } from './run-cli.ts';

const fixtures = fileURLToPath(new URL('../fixtures/designs/', import.meta.url));
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/**
 * `drydock-state` as an operator and a script run it: a process against the local server,
 * every command, `--json` parsed, exit codes as documented in infra/cli/README.md.
 */
describe('drydock-state against the local server', () => {
  let server: RunningServer;
  let cli: (args: readonly string[], input?: string) => ReturnType<typeof runCli>;
  beforeAll(async () => {
    server = await startServer('pglite', { DESIGN_FILE_ROOTS: fixtures, LOG_LEVEL: 'SILENT' });
    cli = (args, input) => runCli(args, { DRYDOCK_URL: server.url }, input);
  });
  afterAll(async () => server?.stop());

  const json = async (args: readonly string[]) => {
    const result = await cli([...args, '--json']);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };

  it('answers usage errors with 2 and help with 0', async () => {
    // Independent processes: run side by side.
    const [help, none, unknown, badOption, stray, missing, badDuration, noDays, badAuth] =
      await Promise.all([
        cli(['--help']),
        cli([]),
        cli(['tasks', 'explode']),
        cli(['tasks', 'list', '--frobnicate']),
        cli(['lease', 'show', '--days', '3']),
        cli(['tasks', 'show']),
        cli(['tasks', 'wait', 'x', '--timeout', 'soon']),
        cli(['purge']),
        cli(['tasks', 'list', '--auth', 'magic']),
      ]);
    expect(help.code).toBe(0);
    for (const command of [
      'tasks list',
      'tasks wait',
      'messages tail',
      'design validate',
      'console',
    ]) {
      expect(help.stdout).toContain(command);
    }
    expect(none.code).toBe(2);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'tasks explode'");
    expect(badOption.code).toBe(2);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('lease show takes no --days');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing the task id');
    expect(badDuration.code).toBe(2);
    expect(noDays.code).toBe(2);
    expect(badAuth.code).toBe(2);
  });

  it('is the package bin: `npx drydock-state` runs it on the project Node', async () => {
    const { stdout } = await promisify(execFile)('npx', ['drydock-state', '--help'], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(stdout).toMatch(/^usage: drydock-state/);
  });

  it('says there is no lease (3) before any orchestrator claimed it', async () => {
    const none = await cli(['lease', 'show', '--json']);
    expect(none.code).toBe(3);
    expect(JSON.parse(none.stdout)).toBeNull();
  });

  it('creates, lists and shows tasks', async () => {
    // One create under one key, for the nodes given.
    const create = (...nodes: string[]) => [
      'tasks',
      'create',
      'verify_site',
      '--design-ref',
      DESIGN_REF,
      ...nodes.flatMap((node) => ['--node', node]),
      '--idempotency-key',
      'cli-create-1',
    ];
    const created = await json(create('n1', 'n2'));
    expect(created).toMatchObject({ action: 'verify_site', status: 'queued' });
    expect(created.node_filter.filter_set[0].node_names).toEqual(['n1', 'n2']);
    // The same request under the same key again: the same task (the API's idempotency, through
    // the CLI); another request under that key is refused (422, exit 4), not answered with it.
    const again = await cli(create('n1', 'n2'));
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe(created.task_id);
    const otherRequest = await cli(create());
    expect(otherRequest.code).toBe(4);

    const [listed, none, human, shown, humanShow, refused, missing] = await Promise.all([
      json(['tasks', 'list', '--status', 'queued', '--action', 'verify_site']),
      json(['tasks', 'list', '--status', 'complete', '--action', 'verify_site']),
      cli(['tasks', 'list', '--since', '1h']),
      json(['tasks', 'show', created.task_id]),
      cli(['tasks', 'show', created.task_id]),
      cli(['tasks', 'create', 'deploy_node', '--design-ref', DESIGN_REF]),
      cli(['tasks', 'show', '00000000-0000-4000-8000-000000000000']),
    ]);
    expect(listed.map((t: { task_id: string }) => t.task_id)).toContain(created.task_id);
    expect(none).toEqual([]);
    expect(human.stdout).toMatch(/^TASK\s+ACTION\s+STATUS\s+RESULT/m);
    expect(human.stdout).toContain(created.task_id);
    expect(shown.task_id).toBe(created.task_id);
    expect(humanShow.stdout).toMatch(/status:\s+queued/);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('400');
    expect(missing.code).toBe(3);
  });

  it("follows a deploy: wait's progress and exit codes, messages -f, the tree, build data", async () => {
    const flow = new DeployFlow(server.url, 'orch-cli');
    await flow.lead();
    const taskId = await flow.start(['n1', 'n2']);

    // wait: 6 when the timeout runs out first.
    const impatient = await cli([
      'tasks',
      'wait',
      taskId,
      '--timeout',
      '300ms',
      '--interval',
      '100ms',
    ]);
    expect(impatient.code).toBe(6);
    expect(impatient.stderr).toContain('timed out');

    const waiting = startCli(['tasks', 'wait', taskId, '--interval', '100ms', '--json'], {
      DRYDOCK_URL: server.url,
    });
    const tail = startCli(['messages', 'tail', taskId, '-f', '--interval', '100ms', '--json'], {
      DRYDOCK_URL: server.url,
    });
    await waiting.waitFor(/deploy_nodes \w{8}: running/, 'err');
    await tail.waitFor(/Starting deploy_nodes/);

    for (const node of ['n1', 'n2']) {
      await flow.startNode(node);
      await flow.lshw(node, 0, '2026-01-01T00:00:00Z');
      await flow.lshw(node, 1);
    }
    await flow.message(taskId, 'Both nodes are deploying', false, 'task', taskId);
    await tail.waitFor(/Both nodes are deploying/);
    await flow.finishNode('n1', true);
    await flow.finishNode('n2', false);
    await flow.message(taskId, 'n2 failed', true, 'node', 'n2');
    await flow.finish();

    expect(await waiting.exit()).toBe(1);
    const finalTask = JSON.parse(waiting.stdout());
    expect(finalTask).toMatchObject({ task_id: taskId, status: 'complete' });
    expect(waiting.stderr()).toMatch(/2 subtasks/);
    expect(await tail.exit()).toBe(0);
    const tailed = tail
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(tailed.map((m: { message: string }) => m.message)).toEqual(
      expect.arrayContaining(['Starting deploy_nodes', 'Both nodes are deploying', 'n2 failed']),
    );
    expect(tailed.map((m: { sequence: number }) => m.sequence)).toEqual(
      tailed.map((_: unknown, i: number) => i + 1),
    );

    // The rest reads the finished deploy: side by side.
    const n1Task = flow.subtasks.get('n1') as string;
    const [errors, tree, humanTree, n1Wait, latest, history, byTask, humanData, noNode, noData] =
      await Promise.all([
        cli(['messages', 'tail', taskId, '--errors', '--after', '1']),
        json(['tasks', 'show', taskId, '--tree']),
        cli(['tasks', 'show', taskId, '--tree']),
        cli(['tasks', 'wait', n1Task]),
        json(['builddata', 'node', 'n1']),
        json(['builddata', 'node', 'n1', '--all', '--data']),
        json(['builddata', 'task', n1Task]),
        cli(['builddata', 'node', 'n1', '--data', '--generator', 'lshw']),
        cli(['builddata', 'node', 'no-such-node']),
        cli(['builddata', 'task', taskId]),
      ]);
    // Errors only, from a sequence on, without following.
    expect(errors.code).toBe(0);
    expect(errors.stdout).toContain('ERROR n2 failed');
    expect(errors.stdout).not.toContain('Both nodes are deploying');

    expect(tree.init_task_id).toBe(taskId);
    expect(Object.keys(tree).filter((k) => UUID.test(k))).toHaveLength(3);
    expect(humanTree.stdout).toMatch(/^deploy_nodes .* complete/m);
    expect(humanTree.stdout).toMatch(/^ {2}deploy_node .* complete failure/m);

    // A task that succeeded: 0.
    expect(n1Wait.code).toBe(0);

    expect(latest).toHaveLength(1);
    expect(latest[0]).toMatchObject({ generator: 'lshw', task_id: n1Task });
    expect(latest[0].data_element).toBeUndefined();
    expect(history).toHaveLength(2);
    expect(history[1].collected_date).toBe('2026-01-01T00:00:00.000000Z');
    expect(history[0].data_element).toContain('<product>ProLiant DL380 Gen10</product>');
    expect(byTask).toHaveLength(2);
    expect(humanData.stdout).toContain('== n1 lshw');
    expect(noNode.code).toBe(3);
    expect(noData.code).toBe(3);

    const [lease, humanLease] = await Promise.all([
      json(['lease', 'show']),
      cli(['lease', 'show']),
    ]);
    expect(lease).toMatchObject({ holder: 'orch-cli', active: true });
    expect(humanLease.stdout).toMatch(/holder:\s+orch-cli/);
  });

  it("shows a task's last messages when it has more than its answer embeds", async () => {
    const created = await json(['tasks', 'create', 'verify_site', '--design-ref', DESIGN_REF]);
    const id = created.task_id as string;
    // 1,005 messages: the task's answer embeds the first 1,000 and names the rest.
    for (const [from, count] of [
      [1, 1000],
      [1001, 5],
    ] as const) {
      const messages = Array.from({ length: count }, (_, i) => ({
        message: `step ${from + i}`,
        error: false,
        context_type: 'task',
        context: id,
      }));
      const posted = await request(server.url, 'POST', `/api/v1.0/tasks/${id}/messages`, {
        body: messages,
      });
      expect(posted.status).toBe(201);
    }
    const shown = await cli(['tasks', 'show', id, '--messages', '3']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('messages (1005, 0 errors)');
    expect(shown.stdout.match(/step \d+/g)).toEqual(['step 1003', 'step 1004', 'step 1005']);
  });

  it('says so when a tree is larger than one answer holds', async () => {
    const flow = new DeployFlow(server.url, 'orch-cli');
    await flow.lead();
    const taskId = await flow.startWide(14);
    const [tree, humanTree] = await Promise.all([
      json(['tasks', 'show', taskId, '--tree']),
      cli(['tasks', 'show', taskId, '--tree']),
    ]);
    // As the API answers it: the tasks that came, and what was cut beside them.
    const { shown, total, next } = tree.truncated.tasks;
    expect(total).toBe(15);
    expect(shown).toBeLessThan(15);
    expect(Object.keys(tree).filter((k) => UUID.test(k))).toHaveLength(shown);
    expect(humanTree.code).toBe(0);
    expect(humanTree.stdout).toMatch(/^deploy_nodes /m);
    expect(humanTree.stdout).toContain(
      `${shown} of 15 tasks shown (the most one answer holds); the root's subtasks, page by page: ${next}`,
    );
  });

  it('shows queue health', async () => {
    await request(server.url, 'POST', '/api/v1.0/tasks', {
      body: { action: 'prepare_site', design_ref: DESIGN_REF },
    });
    const health = await json(['queue', 'show', '--stale-after', '10m']);
    expect(health.stale_after_seconds).toBe(600);
    expect(health.queued).toBeGreaterThanOrEqual(1);
    expect(health.oldest_queued.task_id).toMatch(UUID);
    const human = await cli(['queue', 'show']);
    expect(human.stdout).toMatch(/queued:\s+\d+/);
  });

  it('terminates a task and its subtasks', async () => {
    const flow = new DeployFlow(server.url, 'orch-cli');
    await flow.lead();
    const taskId = await flow.start(['t1']);
    const subtask = await flow.startNode('t1');
    const changed = await json(['tasks', 'terminate', taskId]);
    expect(changed.map((t: { task_id: string }) => t.task_id).sort()).toEqual(
      [taskId, subtask].sort(),
    );
    const after = await request(server.url, 'GET', `/api/v1.0/tasks/${subtask}`);
    expect(after.body.terminate).toBe(true);
    const single = await json(['tasks', 'create', 'verify_site', '--design-ref', DESIGN_REF]);
    const alone = await json(['tasks', 'terminate', single.task_id, '--no-recursive']);
    expect(alone).toHaveLength(1);
    // A terminated task never succeeded: wait says 1.
    expect((await cli(['tasks', 'wait', single.task_id])).code).toBe(1);
  });

  it("retries a finished task through the service's retry, under the live lease epoch", async () => {
    const flow = new DeployFlow(server.url, 'orch-cli');
    await flow.lead();
    const taskId = await flow.run(['r1', 'r2'], { failing: ['r2'], lshw: false });
    const retried = await json(['tasks', 'retry', taskId, '--max-attempts', '1']);
    expect(retried.retried).toBe(true);
    expect(retried.task).toMatchObject({ task_id: taskId, retry: 1, status: 'running' });
    const messages = await request(server.url, 'GET', `/api/v1.0/tasks/${taskId}/messages`);
    expect(messages.body.at(-1).message).toBe('Retrying task for failed entities.');

    // It fails again; a second attempt is one too many: the service refuses it (4).
    await flow.call('PATCH', `/tasks/${taskId}`, {
      status: 'complete',
      epoch: flow.epoch,
      result: { status: 'failure', add_failures: ['r2'] },
    });
    const spent = await cli(['tasks', 'retry', taskId, '--max-attempts', '1']);
    expect(spent.code).toBe(4);
    expect(spent.stderr).toContain('409');
    // A stale epoch is refused too; a task that succeeded has nothing to retry.
    const stale = await cli(['tasks', 'retry', taskId, '--epoch', String(flow.epoch + 7)]);
    expect(stale.code).toBe(4);
    const fine = await cli(['tasks', 'retry', flow.subtasks.get('r1') as string]);
    expect(fine.code, fine.stderr).toBe(0);
    expect(fine.stdout).toContain('nothing to retry');
  });

  it('validates a design by reference, from a file and from standard input', async () => {
    const [byRef, fromFile, human, stdin, unreadable] = await Promise.all([
      cli(['design', 'validate', `file://${fixtures}site-deckhand.yaml`]),
      cli(['design', 'validate', `${fixtures}invalid-deckhand.yaml`, '--json']),
      cli(['design', 'validate', `${fixtures}invalid-deckhand.yaml`]),
      cli(['design', 'validate', '-'], await readFile(`${fixtures}site-legacy.yaml`, 'utf8')),
      cli(['design', 'validate', '/no/such/file.yaml']),
    ]);
    expect(byRef.code, byRef.stderr).toBe(0);
    expect(byRef.stdout).toMatch(/^valid/);
    expect(fromFile.code).toBe(1);
    const status = JSON.parse(fromFile.stdout);
    expect(status).toMatchObject({ kind: 'Status', code: 400 });
    expect(status.details.errorCount).toBeGreaterThan(0);
    expect(human.stdout).toMatch(/^invalid/);
    expect(human.stdout).toMatch(/^Error\s+DD001/m);
    expect(stdin.code, stdin.stderr).toBe(0);
    expect(unreadable.code).toBe(2);
  });

  it('purges finished tasks older than --days', async () => {
    const task = await json(['tasks', 'create', 'verify_site', '--design-ref', DESIGN_REF]);
    await json(['tasks', 'terminate', task.task_id]);
    await ageTask(server.db, task.task_id, 40);
    const none = await json(['purge', '--days', '50']);
    expect(none.deleted_tasks).toBe(0);
    const purged = await json(['purge', '--days', '30']);
    expect(purged.deleted_tasks).toBe(1);
    expect((await cli(['tasks', 'show', task.task_id])).code).toBe(3);
    expect((await cli(['purge', '--days', '0'])).code).toBe(2);
  });

  it('says 7 when the service does not answer', async () => {
    const down = await runCli(['tasks', 'list'], { DRYDOCK_URL: 'http://127.0.0.1:9' });
    expect(down.code).toBe(7);
    expect(down.stderr).toContain('the service did not answer');
  });
});
