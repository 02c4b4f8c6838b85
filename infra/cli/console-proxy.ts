import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { isApiPath, type StaticFiles } from '#infra/local/static-files.ts';
import type { Connection } from './connection.ts';

/** The header the console sends with every API call (see infra/console/src/api.ts). */
export const CONSOLE_HEADER = 'x-drydock-console';

/** Response headers not passed back: hop-by-hop ones, and what fetch already undid. */
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-encoding',
  'content-length',
  'set-cookie',
]);

const MAX_BODY_BYTES = 10 * 1024 * 1024;

function refuse(res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ type: 'error', message, retry: false });
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * Whether a request may be sent on with the operator's credentials. The proxy listens on
 * loopback only, but any web page the operator opens could still aim requests at it: the Host
 * must be the proxy's own (no DNS rebinding), and the request must come from the console
 * (its header, which a cross-site page cannot send without a preflight this proxy never
 * answers) or be a plain navigation of the operator's own (a link opened in a new tab).
 */
function isTrusted(req: IncomingMessage, port: number): boolean {
  const host = req.headers.host ?? '';
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return false;
  if (req.headers[CONSOLE_HEADER] === '1') return true;
  const site = req.headers['sec-fetch-site'];
  return (
    (req.method === 'GET' || req.method === 'HEAD') && (site === 'same-origin' || site === 'none')
  );
}

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function proxy(
  req: IncomingMessage,
  res: ServerResponse,
  connection: Connection,
): Promise<void> {
  const body = await readBody(req);
  if (body === null) {
    refuse(res, 413, 'Request body too large.');
    return;
  }
  const headers = new Headers();
  for (const name of ['accept', 'content-type', 'if-match', 'idempotency-key', 'last-event-id']) {
    const value = req.headers[name];
    if (typeof value === 'string') headers.set(name, value);
  }
  const method = req.method ?? 'GET';
  const target = `${connection.url}${req.url ?? '/'}`;
  let answer: Response;
  try {
    answer = await connection.fetch(
      new Request(target, {
        method,
        headers,
        ...(method === 'GET' || method === 'HEAD' || body.length === 0 ? {} : { body }),
      }),
    );
  } catch (error) {
    refuse(res, 502, `The API did not answer: ${(error as Error).message}`);
    return;
  }
  const out: Record<string, string> = {};
  answer.headers.forEach((value, name) => {
    if (!DROPPED_RESPONSE_HEADERS.has(name)) out[name] = value;
  });
  res.writeHead(answer.status, out);
  if (!answer.body) {
    res.end();
    return;
  }
  // Streamed, so a server-sent-events answer flows through as it arrives.
  Readable.fromWeb(answer.body as import('node:stream/web').ReadableStream).pipe(res);
}

/**
 * `drydock-state console`: the console's files and the API behind one loopback origin, each API
 * request signed as the connection says (SigV4 with the operator's AWS credentials, a Keystone
 * token, or nothing for a local server). Nothing new is exposed on the deployed side.
 */
export function createConsoleProxy(options: { connection: Connection; staticFiles: StaticFiles }): {
  server: Server;
  listen(port: number): Promise<string>;
} {
  let port = 0;
  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!isApiPath(pathname)) {
      options.staticFiles.serve(req, res).catch(() => refuse(res, 500, 'Console error.'));
      return;
    }
    if (!isTrusted(req, port)) {
      refuse(res, 403, 'Only the console on this origin may use this proxy.');
      return;
    }
    proxy(req, res, options.connection).catch((error: unknown) => {
      if (!res.headersSent) refuse(res, 502, `Proxy error: ${(error as Error).message}`);
      else res.destroy();
    });
  });
  return {
    server,
    listen: (wanted) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(wanted, '127.0.0.1', () => {
          port = (server.address() as AddressInfo).port;
          resolve(`http://127.0.0.1:${port}`);
        });
      }),
  };
}
