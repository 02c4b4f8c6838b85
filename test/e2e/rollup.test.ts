import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskDictSchema } from '#shared/api/schemas.ts';
import { createTask } from '#shared/store/tasks.ts';
import { forceTask } from '#test/support/store-fixtures.ts';
import { TEST_DRIVERS } from '#test/support/test-db.ts';
import { type RunningServer, request, startServer, takeLease } from './harness.ts';
import { ROLLUP_CASES, type RollupCase } from './rollup-cases.ts';

/**
 * Drydock's roll-up, tree by tree, through `POST /tasks/{id}/rollup` on every driver: each tree
 * of `rollup-cases.ts` is stored as it stands, rolled up over HTTP by the lease holder, and the
 * task's result compared with what Drydock's `bubble_results`/`align_result` make of it.
 */
describe.each(TEST_DRIVERS)('roll-ups as Drydock computes them, over HTTP on %s', (driver) => {
  let server: RunningServer;
  let epoch: number;

  beforeAll(async () => {
    server = await startServer(driver);
    epoch = await takeLease(server, 'orch-rollup');
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Stores the tree as the case describes it and returns the parent's id. */
  async function plant(c: RollupCase): Promise<string> {
    const { task: parent } = await createTask(server.db, {
      action: 'deploy_nodes',
      designRef: 'https://designs.example/site.yaml',
      status: 'queued',
    });
    for (const child of c.children) {
      const { task } = await createTask(server.db, {
        parentTaskId: parent.taskId,
        action: child.action,
        retry: child.retry ?? 0,
      });
      await forceTask(server.db, task.taskId, {
        status: child.status,
        result: child.result,
        successes: child.successes ?? [],
        failures: child.failures ?? [],
      });
    }
    await forceTask(server.db, parent.taskId, {
      status: 'running',
      result: c.parent?.result ?? 'incomplete',
      successes: c.parent?.successes ?? [],
      failures: c.parent?.failures ?? [],
      retry: c.parent?.retry ?? 0,
    });
    return parent.taskId;
  }

  it(`has at least 20 trees (${ROLLUP_CASES.length})`, () => {
    expect(ROLLUP_CASES.length).toBeGreaterThanOrEqual(20);
  });

  it.each(ROLLUP_CASES)('$name', async (c) => {
    const taskId = await plant(c);
    const res = await request(server.url, 'POST', `/api/v1.0/tasks/${taskId}/rollup`, {
      body: { epoch, ...c.request },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const { result } = TaskDictSchema().parse(res.body);
    expect({
      status: result.status,
      successes: result.successes,
      failures: result.failures,
    }).toEqual(c.expected);
    // What the route answered is what was stored.
    const read = await request(server.url, 'GET', `/api/v1.0/tasks/${taskId}`);
    expect(read.body.result).toMatchObject(c.expected);
  });
});
