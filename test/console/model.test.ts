import { describe, expect, it } from 'vitest';
import {
  buildTree,
  isTreeFinished,
  rollUp,
  treeMessageCounts,
  treeMessages,
} from '#infra/console/src/model/task-tree.ts';
import { groupValidation } from '#infra/console/src/model/validation.ts';
import type { Task, TaskTree } from '#shared/client/api-client.ts';

let seq = 0;
function task(
  id: string,
  overrides: Partial<Task> & { messages?: [string, boolean][] } = {},
): Task {
  const { messages = [], ...rest } = overrides;
  return {
    kind: 'Task',
    apiVersion: 'v1',
    task_id: id,
    action: 'deploy_node',
    parent_task_id: null,
    design_ref: null,
    status: 'running',
    node_filter: null,
    subtask_id_list: [],
    created: '2026-01-01T00:00:00.000000Z',
    created_by: null,
    updated: '2026-01-01T00:00:00.000000Z',
    terminated: null,
    terminated_by: null,
    terminate: false,
    retry: 0,
    version: 1,
    ...rest,
    result: {
      kind: 'Status',
      apiVersion: 'v1.0',
      metadata: {},
      message: null,
      reason: null,
      status: 'incomplete',
      successes: [],
      failures: [],
      links: [],
      ...rest.result,
      details: {
        errorCount: messages.filter(([, error]) => error).length,
        messageList: messages.map(([message, error], i) => ({
          sequence: i + 1,
          message,
          error,
          context_type: 'node',
          context: id,
          ts: `2026-01-01T00:00:0${(seq++ % 9) + 1}.000000Z`,
          extra: {},
        })),
      },
    },
  } as Task;
}

function treeOf(...tasks: Task[]): TaskTree {
  return { rootId: tasks[0]?.task_id ?? '', tasks: new Map(tasks.map((t) => [t.task_id, t])) };
}

describe("the task page's model", () => {
  it('builds the tree in subtask order, each task once, and rolls it up', () => {
    seq = 0;
    const tree = treeOf(
      task('root', {
        action: 'deploy_nodes',
        subtask_id_list: ['b', 'a', 'missing'],
        messages: [['start', false]],
      }),
      task('a', {
        status: 'complete',
        result: { status: 'success', successes: ['n1'] } as Task['result'],
        subtask_id_list: ['c', 'root'],
      }),
      task('b', {
        status: 'complete',
        result: { status: 'failure', failures: ['n2'] } as Task['result'],
        messages: [['PXE failed', true]],
      }),
      task('c', { status: 'running' }),
    );
    const root = buildTree(tree);
    expect(root?.children.map((c) => c.task.task_id)).toEqual(['b', 'a']);
    expect(root?.children[1]?.children.map((c) => [c.task.task_id, c.depth])).toEqual([['c', 2]]);
    const rollup = rollUp(root as NonNullable<typeof root>);
    expect(rollup).toEqual({
      subtasks: 3,
      byStatus: { complete: 2, running: 1 },
      byResult: { failure: 1, success: 1 },
      successes: ['n1'],
      failures: ['n2'],
      errorCount: 1,
    });
    expect(isTreeFinished(tree)).toBe(false);
    expect(treeMessages(tree).map((m) => [m.key, m.error])).toEqual([
      ['root:1', false],
      ['b:1', true],
    ]);
  });

  it('counts every message of the tree, those its answer left out included', () => {
    const root = task('root', { messages: [['a', false]], subtask_id_list: ['b'] });
    // b has 1,005 messages, 2 of them errors; its answer embedded the first two.
    const b = task('b', {
      messages: [
        ['x', true],
        ['y', false],
      ],
      truncated: {
        messages: { shown: 2, total: 1005, next: '/api/v1.0/tasks/b/messages?after=2' },
      },
    });
    const cut = { ...b, result: { ...b.result, details: { ...b.result.details, errorCount: 2 } } };
    const tree = treeOf(root, cut);
    expect(treeMessages(tree)).toHaveLength(3);
    expect(treeMessageCounts(tree)).toEqual({ total: 1006, errors: 2 });
    expect(treeMessageCounts(treeOf(root))).toEqual({ total: 1, errors: 0 });
  });

  it('groups validation messages by rule, then document; rules with errors first', () => {
    const groups = groupValidation({
      kind: 'Status',
      status: 'Failure',
      code: 400,
      details: {
        errorCount: 2,
        messageList: [
          { name: 'DD2002', message: 'info', level: 'Info', documents: [] },
          {
            name: 'DD1006',
            message: 'bond',
            level: 'Warning',
            documents: [{ schema: 'drydock/HostProfile/v1', name: 'a' }],
          },
          {
            name: 'DD2005',
            message: 'dup ip',
            level: 'Error',
            documents: [
              { schema: 'drydock/BaremetalNode/v1', name: 'n1' },
              { schema: 'drydock/BaremetalNode/v1', name: 'n2' },
            ],
          },
          {
            name: 'DD001',
            message: 'schema',
            error: true,
            level: 'Error',
            docs: [{ schema: 'drydock/Rack/v1', name: 'r' }],
          },
        ],
      },
    });
    expect(groups.map((g) => [g.rule, g.errors, g.warnings])).toEqual([
      ['DD001', 1, 0],
      ['DD2005', 1, 0],
      ['DD1006', 0, 1],
      ['DD2002', 0, 0],
    ]);
    expect(groups[0]?.documents.map((d) => d.document)).toEqual(['drydock/Rack/v1 r']);
    expect(groups[1]?.documents.map((d) => d.document)).toEqual([
      'drydock/BaremetalNode/v1 n1',
      'drydock/BaremetalNode/v1 n2',
    ]);
    expect(groups[3]?.documents.map((d) => d.document)).toEqual(['(whole design)']);
  });
});
