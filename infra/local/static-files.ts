import { readFile, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

/** Content types of what a Vite build emits; anything else is served as bytes. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The console is a static single-page app calling the API on the same origin: scripts, styles
 * and requests only from here, never framed.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Serves the files of one folder (a built single-page app) over GET and HEAD. */
export interface StaticFiles {
  /** Answers the request; the caller has already decided the path is not an API route. */
  serve(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export interface StaticFilesOptions {
  /**
   * The folder to serve, resolved when the first request needs it (the console may still be
   * building); rejects when there is nothing to serve, and the request gets a 503 saying why.
   */
  readonly root: () => Promise<string>;
}

function answer(res: ServerResponse, status: number, text: string, headers = {}): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/**
 * The file a URL path names inside `root`, or null when the path is not a plain file name:
 * `..` or `.` segments, dot-files, backslashes, NUL, encoded slashes and malformed escapes are
 * all refused rather than normalised, so no spelling of a path reaches outside the folder.
 */
export function fileOf(root: string, pathname: string): string | null {
  const segments = pathname === '/' ? ['index.html'] : pathname.split('/').slice(1);
  const names: string[] = [];
  for (const raw of segments) {
    let name: string;
    try {
      name = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (name === '' || name.startsWith('.') || /[/\\\0]/.test(name)) return null;
    names.push(name);
  }
  const base = resolve(root);
  const file = resolve(join(base, ...names));
  return file.startsWith(base + sep) ? file : null;
}

/**
 * Static files for the local server: GET and HEAD only, correct content types, hashed assets
 * cached for a year, `index.html` revalidated, and symlinks that lead out of the folder refused.
 */
export function createStaticFiles(options: StaticFilesOptions): StaticFiles {
  return {
    async serve(req, res) {
      const method = (req.method ?? 'GET').toUpperCase();
      if (method !== 'GET' && method !== 'HEAD') {
        answer(res, 405, 'Method not allowed.\n', { Allow: 'GET, HEAD' });
        return;
      }
      let root: string;
      try {
        root = await realpath(await options.root());
      } catch (error) {
        answer(res, 503, `The console is not available: ${(error as Error).message}\n`, {
          'Retry-After': '5',
        });
        return;
      }
      const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
      const file = fileOf(root, pathname);
      if (!file) {
        answer(res, 404, 'Not found.\n');
        return;
      }
      let body: Buffer;
      try {
        const real = await realpath(file);
        if (!real.startsWith(root + sep) || !(await stat(real)).isFile()) throw new Error('no');
        body = await readFile(real);
      } catch {
        answer(res, 404, 'Not found.\n');
        return;
      }
      const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
      const immutable = pathname.startsWith('/assets/');
      res.writeHead(200, {
        'Content-Type': type,
        'Content-Length': body.length,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        ...(type.startsWith('text/html')
          ? { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'Referrer-Policy': 'no-referrer' }
          : {}),
      });
      res.end(method === 'HEAD' ? undefined : body);
    },
  };
}

/** Whether a path belongs to the API (served by the functions) rather than the console. */
export function isApiPath(pathname: string): boolean {
  return pathname === '/versions' || pathname === '/api' || pathname.startsWith('/api/');
}
