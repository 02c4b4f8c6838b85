import { formatRelative as relative, shortId } from '../format.ts';
import { href } from '../router.ts';

/** Status and result as text in a coloured box: the word carries the meaning, colour helps. */
export function StatusBadge(props: { status: string }) {
  return <span class={`badge status-${props.status}`}>{props.status}</span>;
}

export function ResultBadge(props: { status: string }) {
  return <span class={`badge result-${props.status}`}>{props.status.replace('_', ' ')}</span>;
}

/** A task's first cells in a table row: its id (linked to its page), action and status. */
export function TaskCells(props: { task: { task_id: string; action: string; status: string } }) {
  return (
    <>
      <td>
        <a href={href.task(props.task.task_id)} class="mono">
          {shortId(props.task.task_id)}
        </a>
      </td>
      <td>{props.task.action}</td>
      <td>
        <StatusBadge status={props.task.status} />
      </td>
    </>
  );
}

/** A figure with its label, for summaries. */
export function Figure(props: { label: string; value: string | number; warn?: boolean }) {
  return (
    <div class={`figure ${props.warn ? 'warn' : ''}`} data-figure={props.label}>
      <dt>{props.label}</dt>
      <dd>{typeof props.value === 'number' ? props.value.toLocaleString('en') : props.value}</dd>
    </div>
  );
}

/** A time shown relative, with the absolute time on hover and for assistive technology. */
export function When(props: { iso: string | null | undefined; now: number }) {
  if (!props.iso) return <span>—</span>;
  return (
    <time dateTime={props.iso} title={props.iso}>
      {relative(props.iso, props.now)}
    </time>
  );
}

/** What went wrong reading the page's data. */
export function LoadError(props: { error: Error | undefined; what: string }) {
  if (!props.error) return null;
  return (
    <p class="load-error" role="alert">
      Could not read {props.what}: {props.error.message}
    </p>
  );
}
