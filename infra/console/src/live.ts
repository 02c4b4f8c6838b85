import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/**
 * How the console learns that what it shows may have changed. While the service's event stream
 * (`GET /api/v1.0/events`, served by `npm start`) is open, a page reads its data again when an
 * event for its subject arrives, and polls only slowly (`STREAM_SAFETY_MS`) as a safety net.
 * Where there is no stream (the console through the CLI's proxy to AWS, whose events go to
 * EventBridge), each page's data is read again every `intervalMs` while the page is visible.
 * Either way it is also read at once when the page becomes visible again and after each action.
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
  /**
   * Which streamed events concern the page (default: every event); null for data no event
   * announces (build data), which keeps polling every `intervalMs`.
   */
  readonly concerns?: ((event: StreamEvent) => boolean) | null;
}

/** What the console reads of a streamed event (the service's event detail). */
export interface StreamEvent {
  readonly detailType: string;
  readonly taskId: string | null;
  readonly parentTaskId: string | null;
}

/** While the stream is open, pages poll this rarely, in case an event was missed. */
export const STREAM_SAFETY_MS = 30_000;
/** After the stream is refused (no stream here), it is tried again this much later. */
const STREAM_RETRY_REFUSED_MS = 60_000;
const STREAM_RETRY_MS = 2_000;

type StreamListener = (event: StreamEvent) => void;
const streamListeners = new Set<StreamListener>();
let streamOpen = false;
let streamStarted = false;

/** Parses the stream's frames and tells the listeners; resolves when the stream ends. */
async function readStream(body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (!data) continue;
      try {
        const parsed = JSON.parse(data) as {
          'detail-type'?: string;
          detail?: { task_id?: string | null; parent_task_id?: string | null };
        };
        const event: StreamEvent = {
          detailType: parsed['detail-type'] ?? '',
          taskId: parsed.detail?.task_id ?? null,
          parentTaskId: parsed.detail?.parent_task_id ?? null,
        };
        for (const listener of streamListeners) listener(event);
      } catch {
        // A frame that is not an event is ignored.
      }
    }
  }
}

/**
 * The one stream of the page, shared by every `useLive`: fetched (not `EventSource`) so the
 * request carries the console's header like every other read, reopened after a drop.
 */
function startStream(): void {
  if (streamStarted) return;
  streamStarted = true;
  const open = async () => {
    let retryMs = STREAM_RETRY_MS;
    try {
      const res = await window.fetch(`${window.location.origin}/api/v1.0/events?messages=true`, {
        headers: { 'X-Drydock-Console': '1', Accept: 'text/event-stream' },
      });
      const type = res.headers.get('content-type') ?? '';
      if (res.ok && res.body && type.startsWith('text/event-stream')) {
        streamOpen = true;
        // Whatever changed while the stream was down: every page reads again.
        for (const listener of streamListeners)
          listener({ detailType: 'open', taskId: null, parentTaskId: null });
        await readStream(res.body);
      } else {
        await res.body?.cancel();
        retryMs = STREAM_RETRY_REFUSED_MS;
      }
    } catch {
      // The server went away; reopened below.
    }
    streamOpen = false;
    setTimeout(() => void open(), retryMs);
  };
  void open();
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
  const concernsRef = useRef(options.concerns);
  concernsRef.current = options.concerns;
  const kick = useRef<() => void>(() => {});

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    let again = false;
    let latest: T | undefined;
    // After a failed read the page reads again at its own pace even while the stream is open:
    // no event will announce that the service answers again.
    let failed = false;
    const schedule = () => {
      if (stopped) return;
      clearTimeout(timer);
      const every = intervalRef.current;
      const ms = typeof every === 'function' ? every(latest) : every;
      const streamed = streamOpen && concernsRef.current !== null && !failed;
      timer = setTimeout(run, streamed ? Math.max(ms, STREAM_SAFETY_MS) : ms);
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
        failed = false;
        setState({ key: options.key, data, error: undefined, refreshedAt: Date.now() });
        report({ ok: true, at: Date.now() });
      } catch (error) {
        if (stopped) return;
        const err = error instanceof Error ? error : new Error(String(error));
        failed = true;
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
    const onEvent: StreamListener = (event) => {
      const concerns = concernsRef.current;
      if (concerns === null) return;
      if (event.detailType === 'open' || (concerns?.(event) ?? true)) void run();
    };
    streamListeners.add(onEvent);
    startStream();
    return () => {
      stopped = true;
      clearTimeout(timer);
      streamListeners.delete(onEvent);
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
