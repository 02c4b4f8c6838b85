import type { Message, Task, TaskTree } from '#shared/client/api-client.ts';

/**
 * The task page's model, kept apart from rendering (and free of the DOM) so it is tested on its
 * own: the tree in registration order, Drydock-style roll-up figures, and the messages of the
 * whole tree as one log.
 */
export interface TreeNode {
  readonly task: Task;
  readonly depth: number;
  readonly children: readonly TreeNode[];
}

/** The tree under `rootId`, children in `subtask_id_list` order; a task appears once. */
export function buildTree(tree: TaskTree): TreeNode | null {
  const seen = new Set<string>();
  const nodeOf = (taskId: string, depth: number): TreeNode | null => {
    const task = tree.tasks.get(taskId);
    if (!task || seen.has(taskId)) return null;
    seen.add(taskId);
    const children: TreeNode[] = [];
    for (const childId of task.subtask_id_list) {
      const child = nodeOf(childId, depth + 1);
      if (child) children.push(child);
    }
    return { task, depth, children };
  };
  return nodeOf(tree.rootId, 0);
}

export interface RollUp {
  /** Subtasks at any depth under the root. */
  readonly subtasks: number;
  readonly byStatus: Readonly<Record<string, number>>;
  /** Result status of the finished subtasks. */
  readonly byResult: Readonly<Record<string, number>>;
  /** Entities reported as successes or failures anywhere in the tree, first-seen order. */
  readonly successes: readonly string[];
  readonly failures: readonly string[];
  /** Error messages in the whole tree, the root's included. */
  readonly errorCount: number;
}

/** What the tree under the root adds up to: counts per status and result, entities, errors. */
export function rollUp(root: TreeNode): RollUp {
  const byStatus: Record<string, number> = {};
  const byResult: Record<string, number> = {};
  const successes = new Set<string>();
  const failures = new Set<string>();
  let subtasks = 0;
  let errorCount = 0;
  const visit = (node: TreeNode) => {
    const { task } = node;
    errorCount += task.result.details.errorCount;
    for (const name of task.result.successes) successes.add(name);
    for (const name of task.result.failures) failures.add(name);
    if (node.depth > 0) {
      subtasks += 1;
      byStatus[task.status] = (byStatus[task.status] ?? 0) + 1;
      if (task.status === 'complete' || task.status === 'terminated') {
        byResult[task.result.status] = (byResult[task.result.status] ?? 0) + 1;
      }
    }
    for (const child of node.children) visit(child);
  };
  visit(root);
  return {
    subtasks,
    byStatus,
    byResult,
    successes: [...successes],
    failures: [...failures],
    errorCount,
  };
}

export interface TreeMessage extends Message {
  readonly taskId: string;
  readonly action: string;
  /** Unique in the tree: task id and sequence. */
  readonly key: string;
}

/** Every message of the tree, oldest first (time, then the task's own sequence). */
export function treeMessages(tree: TaskTree): TreeMessage[] {
  const all: TreeMessage[] = [];
  for (const task of tree.tasks.values()) {
    for (const message of task.result.details.messageList) {
      all.push({
        ...message,
        taskId: task.task_id,
        action: task.action,
        key: `${task.task_id}:${message.sequence}`,
      });
    }
  }
  return all.sort((a, b) =>
    a.ts === b.ts
      ? a.taskId === b.taskId
        ? a.sequence - b.sequence
        : a.taskId < b.taskId
          ? -1
          : 1
      : a.ts < b.ts
        ? -1
        : 1,
  );
}

/**
 * How many messages and error messages the tree's tasks have in all. A task's answer embeds its
 * first messages only (`truncated.messages` says how many it has), so these can be more than
 * `treeMessages` holds.
 */
export function treeMessageCounts(tree: TaskTree): { total: number; errors: number } {
  let total = 0;
  let errors = 0;
  for (const task of tree.tasks.values()) {
    total += task.truncated?.messages?.total ?? task.result.details.messageList.length;
    errors += task.result.details.errorCount;
  }
  return { total, errors };
}

/** Whether every task of the tree is finished: the page can poll slowly then. */
export function isTreeFinished(tree: TaskTree): boolean {
  for (const task of tree.tasks.values()) {
    if (task.status !== 'complete' && task.status !== 'terminated') return false;
  }
  return true;
}
