import { writeSync } from 'node:fs';

type WriteCallback = (error?: Error | null) => void;

/** How long text waits to be written with what follows it, at most. */
export const COALESCE_MS = 10;
/** Pending text of this many characters is written at once, without waiting. */
export const COALESCE_MAX_CHARS = 64 * 1024;

/**
 * Makes a process stream (the local server's stdout) write what `COALESCE_MS` produced in one
 * system call. Every request the local server serves logs its access line (`request served`);
 * written one by one, each line costs a system call and, on a pipe, wakes the reader: a
 * measurable share of a small request. Writing once per turn of the event loop was not enough:
 * under load most requests finish in a turn of their own (about 0.8 writes a request, counted
 * with strace). Text is kept in order and written before any bytes written after it; what is
 * pending when the process exits is written synchronously first. Lambdas keep the runtime's own
 * stdout.
 */
export function coalesceWrites(stream: NodeJS.WriteStream & { readonly fd: number }): void {
  const original = stream.write;
  const write = (chunk: string | Uint8Array, encoding?: BufferEncoding, callback?: WriteCallback) =>
    original.call(stream, chunk, encoding ?? 'utf8', callback);
  let pending: string[] = [];
  let pendingChars = 0;
  let callbacks: WriteCallback[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const text = pending.join('');
    const waiting = callbacks;
    pending = [];
    pendingChars = 0;
    callbacks = [];
    write(text, 'utf8', (error) => {
      for (const callback of waiting) callback(error);
    });
  };
  stream.write = ((
    chunk: string | Uint8Array,
    encoding?: BufferEncoding | WriteCallback,
    callback?: WriteCallback,
  ): boolean => {
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof chunk !== 'string' || (typeof encoding === 'string' && encoding !== 'utf8')) {
      flush();
      return write(chunk, typeof encoding === 'string' ? encoding : undefined, done);
    }
    pending.push(chunk);
    pendingChars += chunk.length;
    if (done) callbacks.push(done);
    if (pendingChars >= COALESCE_MAX_CHARS) flush();
    // Never what keeps the process alive: an exit writes what is pending (below).
    else if (timer === undefined) timer = setTimeout(flush, COALESCE_MS).unref();
    return true;
  }) as typeof stream.write;
  process.on('exit', () => {
    clearTimeout(timer);
    if (pending.length > 0) writeSync(stream.fd, pending.join(''));
    pending = [];
  });
}
