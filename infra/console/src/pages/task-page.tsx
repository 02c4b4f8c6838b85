import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Task, TaskTree, TreeCut } from '#shared/client/api-client.ts';
import { api } from '../api.ts';
import { ActionButton } from '../components/action-button.tsx';
import { Figure, LoadError, ResultBadge, StatusBadge, When } from '../components/badges.tsx';
import { formatTime, plural, safeHref, shortId } from '../format.ts';
import { useLive, useNow } from '../live.ts';
import {
  buildTree,
  isTreeFinished,
  type RollUp,
  rollUp,
  type TreeMessage,
  type TreeNode,
  treeMessageCounts,
  treeMessages,
} from '../model/task-tree.ts';
import { href } from '../router.ts';

/** Messages shown at once; the rest behind "show all" (a deploy can log thousands). */
const SHOWN_MESSAGES = 300;

/** Marks for the render-time measurement (see infra/console/README.md). */
export const RENDER_MARKS = {
  fetched: 'drydock:task-tree-fetched',
  rendered: 'drydock:task-page-rendered',
  complete: 'drydock:task-page-complete',
} as const;

/**
 * The first view of a tree: the task and its direct subtasks, two light reads (no subtask
 * messages) that answer several times faster than the whole tree with every message, so a large
 * deploy's page shows its tree at once; the whole tree replaces it when it arrives.
 */
async function readPreview(taskId: string): Promise<TaskTree> {
  const [root, subtasks] = await Promise.all([api.getTask(taskId), api.listSubtasks(taskId)]);
  return {
    rootId: root.task_id,
    tasks: new Map([root, ...subtasks].map((task) => [task.task_id, task])),
  };
}

export function TaskPage(props: { taskId: string }) {
  const { taskId } = props;
  const firstFetch = useRef(true);
  const treeIds = useRef<ReadonlySet<string>>(new Set([taskId]));
  // The preview goes first: on a local database with one connection, the whole tree's read
  // would otherwise hold it up.
  const previewRead = useMemo(() => readPreview(taskId), [taskId]);
  const live = useLive(
    async () => {
      await previewRead.catch(() => undefined);
      const tree = await api.getTaskTree(taskId);
      if (firstFetch.current) {
        firstFetch.current = false;
        performance.mark(RENDER_MARKS.fetched);
      }
      return tree;
    },
    {
      key: taskId,
      // A finished tree changes only through an operator's retry: read it far less often.
      intervalMs: (tree) => (tree && isTreeFinished(tree) ? 15_000 : 2000),
      // An event for the task, a subtask, or any task already in the tree (a new subtask's
      // parent is in it).
      concerns: (event) =>
        event.taskId === taskId ||
        treeIds.current.has(event.taskId ?? '') ||
        treeIds.current.has(event.parentTaskId ?? ''),
    },
  );
  treeIds.current = live.data ? new Set(live.data.tasks.keys()) : new Set([taskId]);
  // Read after the tree, so the first paint does not wait behind it on a single-connection
  // local database.
  const treeRead = live.data !== undefined;
  const buildData = useLive(
    async () => (treeRead ? api.getTaskBuildData(taskId, { verbosity: 1 }) : undefined),
    { key: `${taskId}:${treeRead}`, intervalMs: 10_000, concerns: null },
  );
  const [preview, setPreview] = useState<TaskTree | undefined>(undefined);
  useEffect(() => {
    let current = true;
    previewRead.then(
      (first) => current && setPreview(first),
      // The whole tree's read reports errors; the preview is only a head start.
      () => {},
    );
    return () => {
      current = false;
    };
  }, [previewRead]);
  const full = live.data;
  const tree = full ?? preview;
  const root = useMemo(() => (tree ? buildTree(tree) : null), [tree]);
  const marks = useRef({ rendered: false, complete: false });
  useLayoutEffect(() => {
    if (root && !marks.current.rendered) {
      marks.current.rendered = true;
      performance.mark(RENDER_MARKS.rendered);
    }
    if (root && full && !marks.current.complete) {
      marks.current.complete = true;
      performance.mark(RENDER_MARKS.complete);
    }
  }, [root, full]);

  if (!tree || !root) {
    return (
      <section aria-labelledby="task-title">
        <h1 id="task-title">Task {shortId(taskId)}</h1>
        <LoadError error={live.error} what="the task" />
        {live.error ? null : <p class="loading">Reading the task tree…</p>}
      </section>
    );
  }
  const task = root.task;
  const refresh = () => {
    live.refresh();
    buildData.refresh();
  };
  return (
    <section aria-labelledby="task-title" data-task-id={task.task_id}>
      <TaskHead task={task} tree={tree} onDone={refresh} />
      <LoadError error={live.error} what="the latest state (showing the last one read)" />
      {full?.truncated ? <TreeCutNotice cut={full.truncated} /> : null}
      <div class="columns">
        <div>
          <TaskSummary task={task} />
          <ResultPanel task={task} />
          {full ? <RollUpPanel rollup={rollUp(root)} /> : <LoadingPanel title="Roll-up" />}
          <BuildDataPanel items={buildData.data} taskId={task.task_id} />
        </div>
        <TreePanel root={root} />
      </div>
      {full ? <MessagesPanel tree={full} /> : <LoadingPanel title="Messages" />}
    </section>
  );
}

/**
 * The tree was larger than one answer of the API holds (its bound): the page has the first part
 * of it, root first, and says so rather than passing a part for the whole.
 */
function TreeCutNotice(props: { cut: TreeCut }) {
  const { shown, total, next } = props.cut;
  const link = safeHref(next);
  return (
    <p class="notice" role="status" data-testid="tree-cut">
      This tree has {plural(total, 'task')}, more than one answer holds: the tree, roll-up and
      messages below cover the first {shown.toLocaleString('en')}, the root first.{' '}
      {link ? (
        <>
          The root's subtasks, with their messages, page by page: <a href={link}>{next}</a>.
        </>
      ) : null}
    </p>
  );
}

function LoadingPanel(props: { title: string }) {
  return (
    <section class="panel">
      <h2>{props.title}</h2>
      <p class="loading">Reading the whole tree…</p>
    </section>
  );
}

function TaskHead(props: { task: Task; tree: TaskTree; onDone: () => void }) {
  const { task } = props;
  const finished = task.status === 'complete' || task.status === 'terminated';
  const open = [...props.tree.tasks.values()].filter(
    (t) => t.task_id !== task.task_id && t.status !== 'complete' && t.status !== 'terminated',
  ).length;
  return (
    <div class="page-head task-head">
      <div>
        {task.parent_task_id ? (
          <p class="crumb">
            Subtask of{' '}
            <a href={href.task(task.parent_task_id)} class="mono">
              {shortId(task.parent_task_id)}
            </a>
          </p>
        ) : null}
        <h1 id="task-title">
          {task.action} <span class="mono id">{task.task_id}</span>
        </h1>
        <p class="badges">
          <StatusBadge status={task.status} /> <ResultBadge status={task.result.status} />{' '}
          {task.terminate && task.status !== 'terminated' ? (
            <span class="badge status-terminating">termination requested</span>
          ) : null}
        </p>
      </div>
      <div class="actions">
        <ActionButton
          label="Terminate"
          title={`Terminate ${task.action} ${shortId(task.task_id)}?`}
          confirmLabel="Terminate the task and its subtasks"
          danger
          disabled={finished || task.terminate}
          disabledReason={finished ? 'The task has finished' : 'Termination was requested already'}
          run={async () => {
            const changed = await api.terminateTask(task.task_id, true);
            return `Termination requested for ${plural(changed.length, 'task')}.`;
          }}
          onDone={props.onDone}
        >
          <p>
            Requests termination of this task and of every unfinished subtask under it (
            {plural(open, 'subtask')} now). The orchestrator stops working on them; queued ones are
            never started.
          </p>
        </ActionButton>
        <ActionButton
          label="Retry"
          title={`Retry ${task.action} ${shortId(task.task_id)}?`}
          confirmLabel="Retry the failed entities"
          disabled={!finished}
          disabledReason="Only a finished task can be retried"
          run={async () => {
            // The service fences a retry by the lease epoch: it runs under the live leader's.
            const lease = await api.getLease();
            if (!lease?.active) {
              throw new Error('No orchestrator holds the lease: a retry runs under its epoch.');
            }
            const outcome = await api.retryTask(task.task_id, { epoch: lease.epoch });
            return outcome.retried
              ? `Retry ${outcome.task.retry} under epoch ${lease.epoch}: the task is ${outcome.task.status}.`
              : 'Nothing to retry: the task has no failed entities.';
          }}
          onDone={props.onDone}
        >
          <p>
            Drydock's retry: the task runs again for the entities that failed (
            {plural(task.result.failures.length, 'failure')}), under the current orchestrator lease.
            The service refuses it for a terminated task or one that has used up its attempts.
          </p>
        </ActionButton>
      </div>
    </div>
  );
}

function TaskSummary(props: { task: Task }) {
  const { task } = props;
  const now = useNow();
  return (
    <section class="panel" aria-labelledby="summary-title">
      <h2 id="summary-title">Task</h2>
      <dl class="facts">
        <dt>Design</dt>
        <dd class="mono wrap">{task.design_ref ?? '—'}</dd>
        <dt>Nodes</dt>
        <dd class="wrap">{describeFilter(task.node_filter)}</dd>
        <dt>Created</dt>
        <dd>
          <When iso={task.created} now={now} /> by {task.created_by ?? '—'}
        </dd>
        <dt>Updated</dt>
        <dd>
          <When iso={task.updated} now={now} />
        </dd>
        {task.terminated ? (
          <>
            <dt>Terminated</dt>
            <dd>
              {formatTime(task.terminated)} by {task.terminated_by ?? '—'}
            </dd>
          </>
        ) : null}
        <dt>Retries</dt>
        <dd>{task.retry}</dd>
        <dt>Version</dt>
        <dd>{task.version}</dd>
      </dl>
    </section>
  );
}

/** The node a per-node subtask works on (a filter naming exactly one node), if any. */
function nodeOf(task: Task): string | null {
  const sets = (task.node_filter as { filter_set?: { node_names?: string[] }[] } | null)
    ?.filter_set;
  const names = sets?.length === 1 ? sets[0]?.node_names : undefined;
  return names?.length === 1 ? (names[0] ?? null) : null;
}

function describeFilter(filter: Task['node_filter']): string {
  if (!filter) return 'all nodes of the design';
  // The common case, a plain list of node names, reads as one; anything else as the filter.
  const sets = (filter as { filter_set?: Record<string, unknown>[] }).filter_set ?? [];
  const only = sets.length === 1 ? sets[0] : undefined;
  if (only && Object.keys(only).every((k) => k === 'filter_type' || k === 'node_names')) {
    return ((only.node_names as string[] | undefined) ?? []).join(', ');
  }
  return JSON.stringify(filter);
}

function ResultPanel(props: { task: Task }) {
  const { result } = props.task;
  return (
    <section class="panel" aria-labelledby="result-title">
      <h2 id="result-title">Result</h2>
      <p>
        <ResultBadge status={result.status} /> {result.message ?? ''}
        {result.reason ? <span class="hint"> ({result.reason})</span> : null}
      </p>
      <EntityList label="Successes" names={result.successes} />
      <EntityList label="Failures" names={result.failures} failed />
      {result.links.length > 0 ? (
        <ul class="links">
          {result.links.map((link) => {
            const target = safeHref(link.href);
            return (
              <li key={`${link.rel}:${link.href}`}>
                <span class="rel">{link.rel}</span>{' '}
                {target ? (
                  <a href={target} rel="noopener noreferrer" target="_blank">
                    {link.href}
                  </a>
                ) : (
                  <span class="mono">{link.href}</span>
                )}
              </li>
            );
          })}
        </ul>
      ) : null}
    </section>
  );
}

function EntityList(props: { label: string; names: readonly string[]; failed?: boolean }) {
  if (props.names.length === 0) return null;
  return (
    <p class={`entities ${props.failed ? 'failed' : ''}`}>
      <strong>
        {props.label} ({props.names.length}):
      </strong>{' '}
      {props.names.map((name, i) => (
        <span key={name}>
          {i > 0 ? ', ' : ''}
          <a href={href.node(name)}>{name}</a>
        </span>
      ))}
    </p>
  );
}

function RollUpPanel(props: { rollup: RollUp }) {
  const { rollup } = props;
  return (
    <section class="panel" aria-labelledby="rollup-title">
      <h2 id="rollup-title">Roll-up</h2>
      {rollup.subtasks === 0 ? (
        <p class="hint">No subtasks.</p>
      ) : (
        <>
          <dl class="figures">
            <Figure label="Subtasks" value={rollup.subtasks} />
            {Object.entries(rollup.byStatus).map(([status, n]) => (
              <Figure key={status} label={status} value={n} />
            ))}
          </dl>
          <dl class="figures">
            {Object.entries(rollup.byResult).map(([status, n]) => (
              <Figure
                key={status}
                label={status.replace('_', ' ')}
                value={n}
                warn={status === 'failure'}
              />
            ))}
            <Figure label="Error messages" value={rollup.errorCount} warn={rollup.errorCount > 0} />
          </dl>
        </>
      )}
      <EntityList label="Successes in the tree" names={rollup.successes} />
      <EntityList label="Failures in the tree" names={rollup.failures} failed />
    </section>
  );
}

function BuildDataPanel(props: {
  items: Awaited<ReturnType<typeof api.getTaskBuildData>> | undefined;
  taskId: string;
}) {
  const items = props.items ?? [];
  const byNode = new Map<string, string[]>();
  for (const item of items) {
    byNode.set(item.node_name, [...(byNode.get(item.node_name) ?? []), item.generator]);
  }
  return (
    <section class="panel" aria-labelledby="builddata-title">
      <h2 id="builddata-title">Build data</h2>
      {byNode.size === 0 ? (
        <p class="hint">None recorded under this task (subtasks list their own).</p>
      ) : (
        <ul class="builddata">
          {[...byNode].map(([node, generators]) => (
            <li key={node}>
              <a href={href.node(node)}>{node}</a>: {[...new Set(generators)].join(', ')}
            </li>
          ))}
        </ul>
      )}
      <p class="hint">
        <a href={`/api/v1.0/tasks/${encodeURIComponent(props.taskId)}/builddata?verbosity=1`}>
          As JSON
        </a>
      </p>
    </section>
  );
}

function TreePanel(props: { root: TreeNode }) {
  return (
    <section class="panel tree-panel" aria-labelledby="tree-title">
      <h2 id="tree-title">Task tree</h2>
      <ul class="tree" data-testid="task-tree">
        <TreeItem node={props.root} />
      </ul>
    </section>
  );
}

function TreeItem(props: { node: TreeNode }) {
  const { task, children } = props.node;
  const [open, setOpen] = useState(true);
  const last = task.result.details.messageList.at(-1);
  const errors = task.result.details.errorCount;
  return (
    <li data-task-id={task.task_id} class={`tree-item status-row-${task.status}`}>
      <div class="tree-row">
        {children.length > 0 ? (
          <button
            type="button"
            class="toggle"
            aria-expanded={open}
            aria-label={`${open ? 'Collapse' : 'Expand'} ${plural(children.length, 'subtask')}`}
            onClick={() => setOpen(!open)}
          >
            {open ? '▾' : '▸'}
          </button>
        ) : (
          <span class="toggle-space" />
        )}
        <StatusBadge status={task.status} />
        <a href={href.task(task.task_id)} class="tree-action">
          {task.action}
        </a>
        <span class="mono id">{shortId(task.task_id)}</span>
        {nodeOf(task) ? <span class="node">{nodeOf(task)}</span> : null}
        {task.result.status !== 'incomplete' ? <ResultBadge status={task.result.status} /> : null}
        {task.result.successes.length > 0 ? (
          <span class="count-ok" title="successes">
            ✓ {task.result.successes.length}
          </span>
        ) : null}
        {task.result.failures.length > 0 ? (
          <span class="count-fail" title="failures">
            ✗ {task.result.failures.length}
          </span>
        ) : null}
        {errors > 0 ? <span class="count-fail">{plural(errors, 'error')}</span> : null}
        {last ? (
          <span class={`last-message ${last.error ? 'error' : ''}`} title={last.message}>
            {last.message}
          </span>
        ) : null}
      </div>
      {children.length > 0 && open ? (
        <ul>
          {children.map((child) => (
            <TreeItem key={child.task.task_id} node={child} />
          ))}
        </ul>
      ) : null}
    </li>
  );
}

function MessagesPanel(props: { tree: TaskTree }) {
  const messages = useMemo(() => treeMessages(props.tree), [props.tree]);
  const counts = useMemo(() => treeMessageCounts(props.tree), [props.tree]);
  const [errorsOnly, setErrorsOnly] = useState(false);
  const [all, setAll] = useState(false);
  // Messages already there when the page opened are not "new"; later ones are marked.
  const known = useRef<Set<string> | null>(null);
  const fresh = useMemo(() => {
    if (known.current === null) {
      known.current = new Set(messages.map((m) => m.key));
      return new Set<string>();
    }
    const added = new Set<string>();
    for (const m of messages) {
      if (!known.current.has(m.key)) {
        added.add(m.key);
        known.current.add(m.key);
      }
    }
    return added;
  }, [messages]);
  const newSince = useRef(new Set<string>());
  for (const key of fresh) newSince.current.add(key);

  const filtered = errorsOnly ? messages.filter((m) => m.error) : messages;
  const shown = all ? filtered : filtered.slice(-SHOWN_MESSAGES);
  return (
    <section class="panel messages-panel" aria-labelledby="messages-title">
      <div class="row">
        <h2 id="messages-title">Messages</h2>
        <span class="hint">
          {counts.total > messages.length
            ? `${messages.length.toLocaleString('en')} of ${plural(counts.total, 'message')} read (each task's first)`
            : plural(messages.length, 'message')}
          , {plural(counts.errors, 'error')} in the tree; live
        </span>
        <label class="check">
          <input
            type="checkbox"
            name="errors-only"
            checked={errorsOnly}
            onChange={(e) => setErrorsOnly(e.currentTarget.checked)}
          />
          Errors only
        </label>
        {filtered.length > SHOWN_MESSAGES ? (
          <button type="button" onClick={() => setAll(!all)}>
            {all ? `Show the last ${SHOWN_MESSAGES}` : `Show all ${filtered.length}`}
          </button>
        ) : null}
      </div>
      <div role="log" aria-label="Task messages" class="messages-log">
        <ol class="messages">
          {shown.map((m) => (
            <MessageRow key={m.key} message={m} isNew={newSince.current.has(m.key)} />
          ))}
        </ol>
      </div>
      {shown.length === 0 ? <p class="empty">No messages.</p> : null}
    </section>
  );
}

function MessageRow(props: { message: TreeMessage; isNew: boolean }) {
  const m = props.message;
  return (
    <li
      class={`message ${m.error ? 'error' : ''} ${props.isNew ? 'new' : ''}`}
      data-message-key={m.key}
    >
      <time dateTime={m.ts} title={m.ts}>
        {m.ts.slice(11, 19)}
      </time>
      {m.error ? <span class="badge error-badge">error</span> : null}
      <a href={href.task(m.taskId)} class="msg-task">
        {m.action}
      </a>
      <span class="msg-context">
        {m.context_type}:{m.context}
      </span>
      <span class="msg-text">{m.message}</span>
    </li>
  );
}
