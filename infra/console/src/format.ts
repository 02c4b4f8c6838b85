/** Text for times and sizes, the same on every page. */

const UNITS: [number, string][] = [
  [86_400, 'd'],
  [3600, 'h'],
  [60, 'min'],
  [1, 's'],
];

/** `3 h 12 min` for a number of seconds: the largest unit and the next one, if not zero. */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const index = UNITS.findIndex(([size]) => total >= size);
  if (index === -1) return '0 s';
  const [size, unit] = UNITS[index] as [number, string];
  const whole = `${Math.floor(total / size)} ${unit}`;
  const next = UNITS[index + 1];
  if (!next) return whole;
  const rest = Math.floor((total % size) / next[0]);
  return rest === 0 ? whole : `${whole} ${rest} ${next[1]}`;
}

/** `5 min ago` / `in 2 min` relative to `now`. */
export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const seconds = (now - then) / 1000;
  if (Math.abs(seconds) < 1) return 'now';
  return seconds >= 0 ? `${formatDuration(seconds)} ago` : `in ${formatDuration(-seconds)}`;
}

/** `2026-11-24 20:00:00 UTC`: absolute, for titles and tables. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** The first 8 characters of an id, enough to tell tasks apart on a page. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** Only http(s) links are followed; anything else (javascript:, data:) is shown as text. */
export function safeHref(href: string): string | null {
  try {
    const url = new URL(href, window.location.href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}
