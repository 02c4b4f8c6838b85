import { useState } from 'preact/hooks';
import type { Task, TaskAction, TaskStatus } from '#shared/client/api-client.ts';
import { TASK_STATUSES, USER_ACTIONS } from '#shared/domain.ts';
import { api } from '../api.ts';
import { ActionButton } from '../components/action-button.tsx';
import { LoadError, ResultBadge, TaskCells, When } from '../components/badges.tsx';
import { plural } from '../format.ts';
import { useLive, useNow } from '../live.ts';
import { href } from '../router.ts';

// The service's own lists (shared/domain.ts): the filter offers what the API accepts.
const STATUSES: readonly TaskStatus[] = TASK_STATUSES;
const AGES: { value: string; label: string; seconds: number | null }[] = [
  { value: '1h', label: 'last hour', seconds: 3600 },
  { value: '1d', label: 'last day', seconds: 86_400 },
  { value: '7d', label: 'last 7 days', seconds: 7 * 86_400 },
  { value: '30d', label: 'last 30 days', seconds: 30 * 86_400 },
  { value: 'all', label: 'any age', seconds: null },
];
const PAGE = 100;
/** Pages read at most per refresh: an age filter stops earlier. */
const MAX_PAGES = 10;

interface Filter {
  status: TaskStatus | '';
  action: TaskAction | '';
  age: string;
  topLevel: boolean;
}

function filterOf(query: URLSearchParams): Filter {
  const status = query.get('status') ?? '';
  const age = query.get('age') ?? '1d';
  return {
    status: (STATUSES as readonly string[]).includes(status) ? (status as TaskStatus) : '',
    action: (query.get('action') ?? '') as TaskAction | '',
    age: AGES.some((a) => a.value === age) ? age : '1d',
    topLevel: query.get('all') !== '1',
  };
}

function queryOf(filter: Filter): URLSearchParams {
  const query = new URLSearchParams();
  if (filter.status) query.set('status', filter.status);
  if (filter.action) query.set('action', filter.action);
  if (filter.age !== '1d') query.set('age', filter.age);
  if (!filter.topLevel) query.set('all', '1');
  return query;
}

/**
 * Tasks newest first, filtered by status, action and age. The API filters by status and action;
 * age is applied here while paging (the list is newest first, so paging stops at the first task
 * older than the bound).
 */
async function loadTasks(filter: Filter): Promise<{ tasks: Task[]; more: boolean }> {
  const seconds = AGES.find((a) => a.value === filter.age)?.seconds ?? null;
  const since = seconds === null ? null : Date.now() - seconds * 1000;
  const tasks: Task[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const answer = await api.listTasks({
      status: filter.status || undefined,
      action: filter.action || undefined,
      topLevel: filter.topLevel,
      limit: PAGE,
      cursor,
    });
    for (const task of answer.tasks) {
      if (since !== null && Date.parse(task.created) < since) return { tasks, more: false };
      tasks.push(task);
    }
    if (!answer.nextCursor) return { tasks, more: false };
    cursor = answer.nextCursor;
  }
  return { tasks, more: true };
}

export function TasksPage(props: { query: URLSearchParams }) {
  const filter = filterOf(props.query);
  const key = queryOf(filter).toString();
  const live = useLive(() => loadTasks(filter), { key, intervalMs: 3000 });
  const now = useNow();
  const [purgeDays, setPurgeDays] = useState(90);

  const go = (change: Partial<Filter>) => {
    window.location.hash = href.tasks(queryOf({ ...filter, ...change }));
  };

  return (
    <section aria-labelledby="tasks-title">
      <div class="page-head">
        <h1 id="tasks-title">Tasks</h1>
        <p class="hint">Newest first{filter.topLevel ? ', top-level only' : ''}.</p>
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select
            name="status"
            value={filter.status}
            onChange={(e) => go({ status: e.currentTarget.value as TaskStatus | '' })}
          >
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option value={s} key={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Action
          <select
            name="action"
            value={filter.action}
            onChange={(e) => go({ action: e.currentTarget.value as TaskAction | '' })}
          >
            <option value="">any</option>
            {USER_ACTIONS.map((a) => (
              <option value={a} key={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <label>
          Created
          <select
            name="age"
            value={filter.age}
            onChange={(e) => go({ age: e.currentTarget.value })}
          >
            {AGES.map((a) => (
              <option value={a.value} key={a.value}>
                {a.label}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input
            type="checkbox"
            name="top-level"
            checked={filter.topLevel}
            onChange={(e) => go({ topLevel: e.currentTarget.checked })}
          />
          Top-level only
        </label>
      </form>
      <LoadError error={live.error} what="the tasks" />
      {live.data ? (
        <>
          <p class="count" aria-live="polite">
            {plural(live.data.tasks.length, 'task')}
            {live.data.more ? ` (the newest ${MAX_PAGES * PAGE}; narrow the filter)` : ''}
          </p>
          <table class="tasks">
            <thead>
              <tr>
                <th scope="col">Task</th>
                <th scope="col">Action</th>
                <th scope="col">Status</th>
                <th scope="col">Result</th>
                <th scope="col" class="num">
                  Subtasks
                </th>
                <th scope="col" class="num">
                  Errors
                </th>
                <th scope="col">Created</th>
                <th scope="col">By</th>
              </tr>
            </thead>
            <tbody>
              {live.data.tasks.map((task) => (
                <tr key={task.task_id} data-task-id={task.task_id}>
                  <TaskCells task={task} />
                  <td>
                    <ResultBadge status={task.result.status} />
                  </td>
                  <td class="num">{task.subtask_id_list.length}</td>
                  <td class={`num ${task.result.details.errorCount > 0 ? 'has-errors' : ''}`}>
                    {task.result.details.errorCount}
                  </td>
                  <td>
                    <When iso={task.created} now={now} />
                  </td>
                  <td class="by" title={task.created_by ?? ''}>
                    {task.created_by?.split('/').at(-1) ?? '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {live.data.tasks.length === 0 ? <p class="empty">No task matches.</p> : null}
        </>
      ) : live.error ? null : (
        <p class="loading">Reading tasks…</p>
      )}
      <section class="panel purge" aria-labelledby="purge-title">
        <h2 id="purge-title">Purge old tasks</h2>
        <p class="hint">
          Deletes finished task trees (complete or terminated) older than the given age, with their
          messages; running tasks and build data are kept.
        </p>
        <div class="row">
          <label>
            Older than (days)
            <input
              type="number"
              name="purge-days"
              min={1}
              max={36500}
              value={purgeDays}
              onInput={(e) => setPurgeDays(Number(e.currentTarget.value))}
            />
          </label>
          <ActionButton
            label="Purge"
            title={`Purge finished tasks older than ${purgeDays} days?`}
            confirmLabel={`Purge tasks older than ${purgeDays} days`}
            danger
            disabled={!Number.isInteger(purgeDays) || purgeDays < 1 || purgeDays > 36500}
            disabledReason="Give a whole number of days from 1 to 36500"
            run={async () => {
              const done = await api.purgeTasks(purgeDays);
              return `Purged ${plural(done.deleted_tasks, 'task')}${done.more ? ' (more remain: purge again)' : ''}.`;
            }}
            onDone={live.refresh}
          >
            <p>
              Every complete or terminated top-level task last updated more than {purgeDays} days
              ago is deleted with its subtasks and messages. This cannot be undone.
            </p>
          </ActionButton>
        </div>
      </section>
    </section>
  );
}
