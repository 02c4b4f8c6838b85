import { request as httpRequest } from 'node:http';

/** One request as written on the wire: the path is sent verbatim, headers may repeat. */
export interface RawRequest {
  readonly method: string;
  /** Sent as is: percent-escapes, `%00` and repeated parameters reach the server untouched. */
  readonly path: string;
  /** Header lines in order; a name may appear more than once. */
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: string | Buffer | undefined;
  /** The answer must be complete by then, else the request counts as stalled. */
  readonly timeoutMs?: number;
}

export interface RawAnswer {
  /** 0 when the request stalled (no complete answer before the timeout). */
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  /** The body parsed as JSON, else the text. */
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
  readonly body: any;
  readonly bytes: number;
  readonly stalled: boolean;
}

/**
 * Sends one HTTP/1.1 request over a fresh connection with full control of what goes on the wire
 * (fetch would normalise the path, merge repeated headers and refuse some names). Host and
 * Content-Length are added; everything else is the caller's.
 */
export function rawRequest(base: string, req: RawRequest): Promise<RawAnswer> {
  const url = new URL(base);
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  const lines: string[] = ['Host', url.host];
  if (body !== undefined) lines.push('Content-Length', String(body.length));
  for (const [name, value] of req.headers ?? []) lines.push(name, value);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: RawAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    const stalled = (): RawAnswer => ({
      status: 0,
      headers: {},
      text: '',
      body: undefined,
      bytes: 0,
      stalled: true,
    });
    const outgoing = httpRequest({
      host: url.hostname,
      port: url.port,
      method: req.method,
      path: req.path,
      agent: false,
      headers: lines as unknown as Record<string, string>,
    });
    const timer = setTimeout(() => {
      outgoing.destroy();
      finish(stalled());
    }, req.timeoutMs ?? 20_000);
    outgoing.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = raw.toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = text === '' ? undefined : JSON.parse(text);
        } catch {
          // Not JSON: kept as text so a failing assertion shows it.
        }
        finish({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          body: parsed,
          bytes: raw.length,
          stalled: false,
        });
      });
      res.on('error', () => finish(stalled()));
    });
    outgoing.on('error', () => finish(stalled()));
    outgoing.end(body);
  });
}
