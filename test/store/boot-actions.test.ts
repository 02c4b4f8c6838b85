import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateBootActionKey, newBootActionId } from '#shared/bootactions/key.ts';
import { SqlError } from '#shared/db/port.ts';
import { sql, statement } from '#shared/db/sql.ts';
import {
  ConflictError,
  ForbiddenError,
  LeaseLostError,
  NotFoundError,
  ValidationError,
} from '#shared/errors.ts';
import {
  createBootActionContext,
  getBootAction,
  getBootActionContext,
  listNodeBootActions,
  reportBootAction,
} from '#shared/store/boot-actions.ts';
import { getTask } from '#shared/store/tasks.ts';
import { snapshot } from '#test/functions/harness.ts';
import { becomeLeader, expireLease, queuedTask } from '#test/support/store-fixtures.ts';
import { TEST_DRIVERS, testDatabase } from '#test/support/test-db.ts';

const actions = (...names: string[]) =>
  names.map((actionName, i) => ({
    actionId: newBootActionId(),
    actionName,
    actionStatus: (i === names.length - 1 && names.length > 2 ? 'unreported' : 'incomplete') as
      | 'incomplete'
      | 'unreported',
  }));

describe.each(TEST_DRIVERS)('boot-action state on %s', (driver) => {
  const t = testDatabase(driver);

  async function context(names = ['hello', 'pkgs', 'quiet']) {
    const task = await queuedTask(t.db, { action: 'deploy_node' });
    const key = generateBootActionKey();
    const node = `node-${randomUUID()}`;
    const created = await createBootActionContext(t.db, {
      nodeName: node,
      taskId: task.taskId,
      identityKeyHash: key.hash,
      actions: actions(...names),
    });
    return { task, key, node, created };
  }

  it("creates a node's context with its actions, reads it back, lists and reads each action", async () => {
    const { task, key, node, created } = await context();
    expect(created).toMatchObject({
      nodeName: node,
      taskId: task.taskId,
      identityKeyHash: key.hash,
      designRef: task.designRef,
    });
    expect(created.actions.map((a) => [a.actionName, a.actionStatus])).toEqual([
      ['hello', 'incomplete'],
      ['pkgs', 'incomplete'],
      ['quiet', 'unreported'],
    ]);
    const read = await getBootActionContext(t.db, node);
    expect(read).toEqual(created);
    expect(await listNodeBootActions(t.db, node)).toEqual(created.actions);
    const first = created.actions[0];
    expect(await getBootAction(t.db, first?.actionId ?? '')).toEqual({
      ...first,
      identityKeyHash: key.hash,
    });
    expect(await getBootActionContext(t.db, 'nobody')).toBeUndefined();
    expect(await getBootAction(t.db, newBootActionId())).toBeUndefined();
    await expect(listNodeBootActions(t.db, 'nobody')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('replaces an earlier context of the node and its actions (a redeploy)', async () => {
    const { node, created } = await context(['hello', 'other']);
    const task2 = await queuedTask(t.db, { action: 'deploy_node' });
    const key2 = generateBootActionKey();
    const again = await createBootActionContext(t.db, {
      nodeName: node,
      taskId: task2.taskId,
      identityKeyHash: key2.hash,
      actions: actions('hello'),
    });
    expect(again.taskId).toBe(task2.taskId);
    expect(again.actions.map((a) => a.actionName)).toEqual(['hello']);
    expect((await getBootActionContext(t.db, node))?.identityKeyHash).toBe(key2.hash);
    for (const old of created.actions) {
      expect(await getBootAction(t.db, old.actionId)).toBeUndefined();
    }
  });

  it('is fenced by the lease epoch, needs the deploy task, and refuses bad action lists', async () => {
    const epoch = await becomeLeader(t.db, `leader-${randomUUID()}`);
    const task = await queuedTask(t.db, { action: 'deploy_node' });
    const input = (nodeName: string) => ({
      nodeName,
      taskId: task.taskId,
      identityKeyHash: generateBootActionKey().hash,
      actions: actions('a'),
    });
    await createBootActionContext(t.db, input('fenced-ok'), { epoch });
    const before = await snapshot(t.db);
    await expect(
      createBootActionContext(t.db, input('fenced-stale'), { epoch: epoch + 1 }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    await expect(
      createBootActionContext(t.db, { ...input('no-task'), taskId: randomUUID() }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      createBootActionContext(t.db, { ...input('twice'), actions: actions('a', 'a') }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      createBootActionContext(t.db, { ...input('none'), actions: [] }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(await snapshot(t.db)).toEqual(before);
    await expireLease(t.db);
    await expect(
      createBootActionContext(t.db, input('fenced-late'), { epoch }),
    ).rejects.toBeInstanceOf(LeaseLostError);
  });

  it('reports progress and a final status: messages land on the deploy task, the status locks', async () => {
    const { task, key, created } = await context();
    const action = created.actions[0]?.actionId ?? '';
    const progress = await reportBootAction(t.db, {
      actionId: action,
      identityKeyHash: key.hash,
      details: [
        { message: 'started', error: false },
        { message: 'step failed, retrying', error: true, extra: { step: 2, context: 'x' } },
      ],
    });
    expect(progress.actionStatus).toBe('incomplete');
    const final = await reportBootAction(t.db, {
      actionId: action,
      identityKeyHash: key.hash,
      status: 'success',
      details: [{ message: 'done', error: false }],
    });
    expect(final).toMatchObject({ actionId: action, actionStatus: 'success' });
    const stored = await getTask(t.db, task.taskId);
    expect(
      stored.messages.map((m) => [m.sequence, m.message, m.error, m.contextType, m.context]),
    ).toEqual([
      [1, 'started', false, 'bootaction', action],
      [2, 'step failed, retrying', true, 'bootaction', action],
      [3, 'done', false, 'bootaction', action],
    ]);
    expect(stored.messages[1]?.extra).toEqual({ step: 2, context: 'x' });
    expect(stored.errorCount).toBe(1);

    const before = await snapshot(t.db);
    await expect(
      reportBootAction(t.db, {
        actionId: action,
        identityKeyHash: key.hash,
        status: 'failure',
        details: [{ message: 'late', error: true }],
      }),
    ).rejects.toBeInstanceOf(ConflictError);
    // Details alone are refused too once final (Drydock checks before posting them).
    await expect(
      reportBootAction(t.db, {
        actionId: action,
        identityKeyHash: key.hash,
        details: [{ message: 'late', error: false }],
      }),
    ).rejects.toBeInstanceOf(ConflictError);
    const quiet = created.actions[2]?.actionId ?? '';
    await expect(
      reportBootAction(t.db, { actionId: quiet, identityKeyHash: key.hash, details: [] }),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(
      reportBootAction(t.db, {
        actionId: created.actions[1]?.actionId ?? '',
        identityKeyHash: generateBootActionKey().hash,
        status: 'success',
        details: [],
      }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(
      reportBootAction(t.db, {
        actionId: newBootActionId(),
        identityKeyHash: key.hash,
        details: [],
      }),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(await snapshot(t.db)).toEqual(before);
  });

  it('refuses any write that changes a final status, whoever makes it', async () => {
    const { created } = await context(['a', 'b']);
    const action = created.actions[0]?.actionId ?? '';
    await t.db.query(
      statement(
        {},
        sql`update boot_action_status set action_status = 'failure' where action_id = ${action}`,
      ),
    );
    const rewrite = t.db.query(
      statement(
        {},
        sql`update boot_action_status set action_status = 'success' where action_id = ${action}`,
      ),
    );
    await expect(rewrite).rejects.toBeInstanceOf(SqlError);
    await expect(rewrite).rejects.toMatchObject({ sqlState: '23514' });
  });

  it('lets exactly one of two racing final reports win', async () => {
    const { task, key, created } = await context(['race']);
    const action = created.actions[0]?.actionId ?? '';
    const other = driver === 'pg' ? t.connect() : t.db;
    const results = await Promise.allSettled(
      (['success', 'failure'] as const).map((status, i) =>
        reportBootAction(i === 0 ? t.db : other, {
          actionId: action,
          identityKeyHash: key.hash,
          status,
          details: [{ message: status, error: status === 'failure' }],
        }),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected');
    expect((lost as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    const stored = await getTask(t.db, task.taskId);
    expect(stored.messages).toHaveLength(1);
    const winner = (won[0] as PromiseFulfilledResult<{ actionStatus: string }>).value;
    expect(stored.messages[0]?.message).toBe(winner.actionStatus);
  });
});
