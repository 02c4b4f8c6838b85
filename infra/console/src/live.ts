import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/**
 * How the console learns that what it shows may have changed: the one place to change when the
 * service's event stream is used instead of polling. Today each page's data is read again every
 * `intervalMs` while the page is visible (and at once when it becomes visible again, and after
 * each action). With the stream, `useLive` would keep the same signature and read again when an
 * event for the page's subject arrives, keeping a slow poll only as a safety net.
 */
export interface Live<T> {
  readonly data: T | undefined;
  readonly error: Error | undefined;
  /** When the data was last read (ms since the epoch). */
  readonly refreshedAt: number | undefined;
  /** Read again now (after an action). */
  refresh(): void;
}

export interface LiveOptions<T> {
  /** A new key starts afresh (another task, another filter). */
  readonly key: string;
  /** Milliseconds between reads; may depend on the data (a finished task changes rarely). */
  readonly intervalMs: number | ((data: T | undefined) => number);
}

type Listener = (state: ConnectionState) => void;
export interface ConnectionState {
  readonly ok: boolean;
  readonly at: number;
  readonly message?: string;
}
let connection: ConnectionState = { ok: true, at: 0 };
const listeners = new Set<Listener>();

/** Whether the API answered the last read, for the header's indicator. */
export function subscribeConnection(listener: Listener): () => void {
  listeners.add(listener);
  listener(connection);
  return () => listeners.delete(listener);
}

function report(state: ConnectionState): void {
  connection = state;
  for (const listener of listeners) listener(state);
}

export function useLive<T>(load: () => Promise<T>, options: LiveOptions<T>): Live<T> {
  const [state, setState] = useState<{
    key: string;
    data: T | undefined;
    error: Error | undefined;
    refreshedAt: number | undefined;
  }>({ key: options.key, data: undefined, error: undefined, refreshedAt: undefined });
  const loadRef = useRef(load);
  loadRef.current = load;
  const intervalRef = useRef(options.intervalMs);
  intervalRef.current = options.intervalMs;
  const kick = useRef<() => void>(() => {});

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    let again = false;
    let latest: T | undefined;
    const schedule = () => {
      if (stopped) return;
      clearTimeout(timer);
      const every = intervalRef.current;
      const ms = typeof every === 'function' ? every(latest) : every;
      timer = setTimeout(run, ms);
    };
    const run = async () => {
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      if (document.visibilityState === 'hidden') {
        schedule();
        return;
      }
      running = true;
      try {
        const data = await loadRef.current();
        if (stopped) return;
        latest = data;
        setState({ key: options.key, data, error: undefined, refreshedAt: Date.now() });
        report({ ok: true, at: Date.now() });
      } catch (error) {
        if (stopped) return;
        const err = error instanceof Error ? error : new Error(String(error));
        setState((old) => ({ ...old, key: options.key, error: err }));
        // A 4xx is the page's business (a task that does not exist); no answer at all, or a
        // 5xx, is the connection's.
        const status = (err as { status?: number }).status;
        if (status === undefined || status >= 500) {
          report({ ok: false, at: Date.now(), message: err.message });
        }
      } finally {
        running = false;
      }
      if (again) {
        again = false;
        void run();
      } else {
        schedule();
      }
    };
    const onVisible = () => {
      if (document.visibilityState === 'visible') void run();
    };
    kick.current = () => void run();
    setState({ key: options.key, data: undefined, error: undefined, refreshedAt: undefined });
    void run();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [options.key]);

  const refresh = useCallback(() => kick.current(), []);
  const current = state.key === options.key;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    refreshedAt: current ? state.refreshedAt : undefined,
    refresh,
  };
}

/** The current time, ticking every `ms`, for "5 min ago" texts. */
export function useNow(ms = 5000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}
