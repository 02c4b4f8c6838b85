import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { Figure, LoadError, TaskCells, When } from '../components/badges.tsx';
import { formatDuration, shortId } from '../format.ts';
import { useLive, useNow } from '../live.ts';
import { href } from '../router.ts';

const STALE_BOUNDS = [300, 900, 1800, 3600, 7200, 21_600];

/** Queue depth, the oldest queued task, and running tasks that look stuck (GET /queue). */
export function QueuePage() {
  const [staleAfter, setStaleAfter] = useState(1800);
  const live = useLive(() => api.getQueueHealth({ staleAfterSeconds: staleAfter }), {
    key: String(staleAfter),
    intervalMs: 3000,
  });
  const now = useNow();
  const health = live.data;
  return (
    <section aria-labelledby="queue-title">
      <div class="page-head">
        <h1 id="queue-title">Queue health</h1>
        <p class="hint">
          Read in one statement on the database clock. Stale: running with no change or message for
          the bound. Stranded: claimed under a lease epoch that is not the live one.
        </p>
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Stale after
          <select
            name="stale-after"
            value={String(staleAfter)}
            onChange={(e) => setStaleAfter(Number(e.currentTarget.value))}
          >
            {STALE_BOUNDS.map((s) => (
              <option key={s} value={String(s)}>
                {formatDuration(s)}
              </option>
            ))}
          </select>
        </label>
      </form>
      <LoadError error={live.error} what="queue health" />
      {health ? (
        <>
          <dl class="figures big" data-testid="queue-figures">
            <Figure label="Queued" value={health.queued} />
            <Figure
              label="Oldest queued"
              value={health.oldest_queued ? formatDuration(health.oldest_queued.age_seconds) : '—'}
              warn={(health.oldest_queued?.age_seconds ?? 0) > 300}
            />
            <Figure label="Running" value={health.running} />
            <Figure label="Stale" value={health.stale} warn={health.stale > 0} />
            <Figure label="Stranded" value={health.stranded} warn={health.stranded > 0} />
            <Figure
              label="Lease epoch"
              value={health.lease_epoch === null ? 'no leader' : health.lease_epoch}
              warn={health.lease_epoch === null && health.queued > 0}
            />
          </dl>
          {health.oldest_queued ? (
            <p>
              Oldest queued:{' '}
              <a href={href.task(health.oldest_queued.task_id)} class="mono">
                {shortId(health.oldest_queued.task_id)}
              </a>{' '}
              {health.oldest_queued.action}, created{' '}
              <When iso={health.oldest_queued.created} now={now} />.
            </p>
          ) : null}
          {health.lease_epoch === null && health.queued > 0 ? (
            <p class="load-error" role="alert">
              Tasks are waiting and no orchestrator holds the lease: nothing will claim them.
            </p>
          ) : null}
          <section class="panel" aria-labelledby="stuck-title">
            <h2 id="stuck-title">Stuck running tasks</h2>
            {health.stuck.length === 0 ? (
              <p class="empty">None.</p>
            ) : (
              <table class="stuck">
                <thead>
                  <tr>
                    <th scope="col">Task</th>
                    <th scope="col">Action</th>
                    <th scope="col">Status</th>
                    <th scope="col">Why</th>
                    <th scope="col">Idle for</th>
                    <th scope="col">Claimed epoch</th>
                    <th scope="col">Parent</th>
                  </tr>
                </thead>
                <tbody>
                  {health.stuck.map((task) => (
                    <tr key={task.task_id}>
                      <TaskCells task={task} />
                      <td>
                        {[task.stranded ? 'stranded' : '', task.stale ? 'stale' : '']
                          .filter(Boolean)
                          .join(', ')}
                      </td>
                      <td>{formatDuration(task.idle_seconds)}</td>
                      <td>{task.claimed_epoch ?? '—'}</td>
                      <td>
                        {task.parent_task_id ? (
                          <a href={href.task(task.parent_task_id)} class="mono">
                            {shortId(task.parent_task_id)}
                          </a>
                        ) : (
                          '—'
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </>
      ) : live.error ? null : (
        <p class="loading">Reading queue health…</p>
      )}
    </section>
  );
}
