import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];

/**
 * Human output: colour only on a terminal (styleText checks the stream and honours NO_COLOR and
 * FORCE_COLOR), tables padded to their widest cell. Scripts use `--json` instead.
 */
export class Output {
  readonly json: boolean;
  private readonly out: NodeJS.WriteStream;
  private readonly err: NodeJS.WriteStream;

  constructor(options: { json: boolean; out?: NodeJS.WriteStream; err?: NodeJS.WriteStream }) {
    this.json = options.json;
    this.out = options.out ?? process.stdout;
    this.err = options.err ?? process.stderr;
  }

  style(format: Style, text: string, stream: 'out' | 'err' = 'out'): string {
    return styleText(format, text, { stream: stream === 'out' ? this.out : this.err });
  }

  line(text = ''): void {
    this.out.write(`${text}\n`);
  }

  /** One JSON document (or one line of NDJSON for streams). */
  data(value: unknown, pretty = true): void {
    this.out.write(`${JSON.stringify(value, null, pretty ? 2 : undefined)}\n`);
  }

  /** A note for the person: on stderr, so stdout stays the command's answer. */
  note(text: string): void {
    this.err.write(`${text}\n`);
  }

  /**
   * The progress line while waiting: rewritten in place on a terminal; elsewhere (a CI log)
   * printed only when it changes.
   */
  progress(text: string): void {
    if (this.err.isTTY) {
      this.err.write(`\r\x1b[2K${text}`);
    } else if (text !== this.lastProgress) {
      this.err.write(`${text}\n`);
    }
    this.lastProgress = text;
  }

  endProgress(): void {
    if (this.err.isTTY && this.lastProgress !== undefined) this.err.write('\n');
    this.lastProgress = undefined;
  }

  private lastProgress: string | undefined;

  /** A table: header row, then rows; cells may carry colour (padding ignores escape codes). */
  table(headers: readonly string[], rows: readonly (readonly string[])[]): void {
    const width = (text: string) => stripAnsi(text).length;
    const widths = headers.map((h, i) =>
      Math.max(width(h), ...rows.map((row) => width(row[i] ?? ''))),
    );
    const render = (cells: readonly string[]) =>
      cells
        .map((cell, i) =>
          i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - width(cell)),
        )
        .join('  ')
        .trimEnd();
    this.line(this.style('bold', render(headers)));
    for (const row of rows) this.line(render(row));
  }

  /** `key: value` lines, keys aligned. */
  facts(pairs: readonly (readonly [string, string])[]): void {
    const width = Math.max(...pairs.map(([k]) => k.length));
    for (const [key, value] of pairs) {
      this.line(`${this.style('dim', `${key}:`.padEnd(width + 1))} ${value}`);
    }
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal escape codes is the point
const ANSI = /\x1b\[[0-9;]*m/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** Colour of a task status or result, for human output. */
export function statusStyle(status: string): Style {
  switch (status) {
    case 'success':
    case 'complete':
      return 'green';
    case 'failure':
      return 'red';
    case 'partial_success':
    case 'terminating':
    case 'terminated':
      return 'yellow';
    case 'running':
      return 'cyan';
    default:
      return 'dim';
  }
}
