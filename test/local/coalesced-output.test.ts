import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COALESCE_MAX_CHARS, COALESCE_MS, coalesceWrites } from '#infra/local/coalesced-output.ts';

/** A stream that records each write it receives (what would be one system call each). */
function recordingStream() {
  const writes: (string | Uint8Array)[] = [];
  const stream = {
    fd: -1,
    write(chunk: string | Uint8Array, _encoding?: unknown, callback?: () => void) {
      writes.push(chunk);
      callback?.();
      return true;
    },
  };
  coalesceWrites(stream as unknown as NodeJS.WriteStream & { fd: number });
  return { stream: stream as unknown as NodeJS.WriteStream, writes };
}

describe("the local server's coalesced stdout", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes the lines of a few milliseconds in one write, in order, with their callbacks after it', () => {
    const { stream, writes } = recordingStream();
    const called: number[] = [];
    stream.write('one\n', () => called.push(1));
    vi.advanceTimersByTime(COALESCE_MS - 1);
    stream.write('two\n', 'utf8', () => called.push(2));
    stream.write('three\n');
    expect(writes).toEqual([]);
    expect(called).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(writes).toEqual(['one\ntwo\nthree\n']);
    expect(called).toEqual([1, 2]);
    // Nothing pending: no empty write later.
    vi.advanceTimersByTime(10 * COALESCE_MS);
    expect(writes).toHaveLength(1);
  });

  it('writes at once once the pending text is large, and keeps bytes after the text before them', () => {
    const { stream, writes } = recordingStream();
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < COALESCE_MAX_CHARS / line.length; i += 1) stream.write(line);
    expect(writes).toEqual([line.repeat(COALESCE_MAX_CHARS / line.length)]);
    stream.write('text\n');
    const bytes = Buffer.from('bytes\n');
    stream.write(bytes);
    expect(writes.slice(1)).toEqual(['text\n', bytes]);
  });
});
