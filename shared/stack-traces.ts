// Stack traces of a Lambda bundle mapped to the TypeScript sources, read only when a stack is
// formatted. Every function bundle runs this first (esbuild's `inject`, in
// infra/constructs/service-function.ts) instead of starting Node with `--enable-source-maps`,
// which reads and parses the map of every file a cold start loads whether or not anything ever
// fails (about a quarter of a function's module init). The frames read as Node's own mapping
// writes them (`test/infra/stack-traces.test.ts` compares the two on the same errors).
import type { SourceMap } from 'node:module';

/** A map's entry as Node's `SourceMap.findEntry` returns it (`name` is not in its types). */
interface Entry {
  readonly originalSource?: string;
  readonly originalLine?: number;
  readonly originalColumn?: number;
  readonly name?: string;
}

// Per generated file: its map, or null when it has none (or it could not be read).
const maps = new Map<string, SourceMap | null>();

function mapOf(fileName: string): SourceMap | null {
  let map = maps.get(fileName);
  if (map === undefined) {
    try {
      map = readMap(fileName);
    } catch {
      // No readable map: this file's frames stay as V8 writes them.
      map = null;
    }
    maps.set(fileName, map);
  }
  return map;
}

/** The map a generated file links to (`//# sourceMappingURL=…`, its last line), if any. */
function readMap(fileName: string): SourceMap | null {
  if (!fileName.startsWith('file://')) return null;
  const fs = process.getBuiltinModule('node:fs');
  const { fileURLToPath } = process.getBuiltinModule('node:url');
  const { SourceMap: SourceMapClass } = process.getBuiltinModule('node:module');
  // The link is the file's last line: its tail is enough, not the whole bundle.
  const fd = fs.openSync(fileURLToPath(fileName), 'r');
  let tail: string;
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, 1024);
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, size - length);
    tail = buffer.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
  const link = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(tail)?.[1];
  if (link === undefined || link.startsWith('data:')) return null;
  const mapUrl = new URL(link, fileName);
  const payload = JSON.parse(fs.readFileSync(mapUrl, 'utf8')) as {
    sources?: string[];
    sourceRoot?: string;
  };
  // Sources as Node's own mapping names them: absolute, from the map's place and `sourceRoot`.
  const root = new URL(payload.sourceRoot ?? '', mapUrl);
  payload.sources = (payload.sources ?? []).map((source) => new URL(source, root).href);
  return new SourceMapClass(payload as never);
}

/**
 * The name Node's mapping gives a frame: the source's name of the enclosing function, else of
 * the call in the next frame when that is in the same file.
 */
function originalSymbolName(
  map: SourceMap,
  trace: readonly NodeJS.CallSite[],
  index: number,
): string | undefined {
  const site = trace[index] as NodeJS.CallSite;
  const enclosing = map.findEntry(
    (site.getEnclosingLineNumber() ?? 0) - 1,
    (site.getEnclosingColumnNumber() ?? 0) - 1,
  ) as Entry;
  if (enclosing.name) return enclosing.name;
  const next = trace[index + 1];
  if (next && next.getFileName() === site.getFileName()) {
    return (
      map.findEntry((next.getLineNumber() ?? 0) - 1, (next.getColumnNumber() ?? 0) - 1) as Entry
    ).name;
  }
  return undefined;
}

/** One frame, mapped when its file has a map with an entry for it, else as V8 writes it. */
function frame(trace: readonly NodeJS.CallSite[], index: number): string {
  const site = trace[index] as NodeJS.CallSite;
  const fileName = site.getFileName() ?? site.getEvalOrigin();
  const map = fileName ? mapOf(fileName) : null;
  if (map === null) return `${site}`;
  const { originalSource, originalLine, originalColumn } = map.findEntry(
    (site.getLineNumber() ?? 0) - 1,
    (site.getColumnNumber() ?? 0) - 1,
  ) as Entry;
  if (!originalSource || originalLine === undefined || originalColumn === undefined) {
    return `${site}`;
  }
  const name = originalSymbolName(map, trace, index);
  const functionName = site.getFunctionName() ?? site.getMethodName();
  const typeName = site.getTypeName();
  const originalName = `${typeName !== null && typeName !== 'global' ? `${typeName}.` : ''}${functionName || '<anonymous>'}`;
  const prefix = name && name !== originalName ? name : originalName;
  const source = originalSource.startsWith('file://')
    ? process.getBuiltinModule('node:url').fileURLToPath(originalSource)
    : originalSource;
  const kind = site.isAsync() ? 'async ' : site.isConstructor() ? 'new ' : '';
  return `${kind}${prefix} (${source}:${originalLine + 1}:${originalColumn + 1})`;
}

/**
 * The first line, as Node writes it: `Error.prototype.toString`, except for Node's own errors,
 * whose `toString` names their code. Never throws: where `name` or `message` throws (Node's own
 * formatting then throws out of `error.stack`), it says so as V8's own formatting does
 * (`<error: …>`), and a `code` that throws is read as none.
 */
function heading(error: Error): string {
  let plain: string;
  try {
    plain = Error.prototype.toString.call(error);
  } catch (thrown) {
    try {
      return `<error: ${Error.prototype.toString.call(thrown)}>`;
    } catch {
      return '<error>';
    }
  }
  try {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string') return plain;
    const coded = `${error.name} [${code}]: ${error.message}`;
    return String(error) === coded ? coded : plain;
  } catch {
    return plain;
  }
}

/** One frame as V8 writes it, or nothing to say when even that fails. */
function unmapped(site: NodeJS.CallSite): string {
  try {
    return `${site}`;
  } catch {
    return '<anonymous>';
  }
}

let formatting = false;

Error.prepareStackTrace = (error: Error, trace: NodeJS.CallSite[]): string => {
  // Reading a stack must never throw (an error handler reading one would fail in its turn).
  const text = heading(error);
  if (trace.length === 0) return text;
  // A failure while reading a map formats its own error's stack: that one stays unmapped.
  const mapped = !formatting;
  formatting = true;
  try {
    // Each frame on its own, as Node's mapping does: one that cannot be mapped stays as V8
    // writes it, the others are still mapped.
    const frames = trace.map((site, i) => {
      if (!mapped) return unmapped(site);
      try {
        return frame(trace, i);
      } catch {
        return unmapped(site);
      }
    });
    return `${text}\n    at ${frames.join('\n    at ')}`;
  } finally {
    if (mapped) formatting = false;
  }
};
