import { formatRelative as relative } from '../format.ts';

/** Status and result as text in a coloured box: the word carries the meaning, colour helps. */
export function StatusBadge(props: { status: string }) {
  return <span class={`badge status-${props.status}`}>{props.status}</span>;
}

export function ResultBadge(props: { status: string }) {
  return <span class={`badge result-${props.status}`}>{props.status.replace('_', ' ')}</span>;
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
