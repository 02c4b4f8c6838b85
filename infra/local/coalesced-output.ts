import { writeSync } from 'node:fs';

type WriteCallback = (error?: Error | null) => void;

/**
 * Makes a process stream (the local server's stdout) write what one turn of the event loop
 * produced in one system call. Every request the local server serves logs its access line
 * (`request served`); written one by one, each line costs a system call and, on a pipe, wakes
 * the reader: a measurable share of a small request. Text is kept in order and written at the
 * end of the turn (setImmediate), before any bytes written after it; what is pending when the
 * process exits is written synchronously first. Lambdas keep the runtime's own stdout.
 */
export function coalesceWrites(stream: NodeJS.WriteStream & { readonly fd: number }): void {
  const original = stream.write;
  const write = (chunk: string | Uint8Array, encoding?: BufferEncoding, callback?: WriteCallback) =>
    original.call(stream, chunk, encoding ?? 'utf8', callback);
  let pending: string[] = [];
  let callbacks: WriteCallback[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join('');
    const waiting = callbacks;
    pending = [];
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
    if (pending.length === 0) setImmediate(flush);
    pending.push(chunk);
    if (done) callbacks.push(done);
    return true;
  }) as typeof stream.write;
  process.on('exit', () => {
    if (pending.length > 0) writeSync(stream.fd, pending.join(''));
    pending = [];
  });
}
