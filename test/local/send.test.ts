import { createServer, request as httpRequest, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { send } from '#infra/local/app.ts';

/** Listeners a response holds once its answer is written, and the bytes the client read. */
async function sendThroughServer(body: string, highWaterMark: number) {
  let sent!: (held: { close: number; error: number; drain: number }) => void;
  const listeners = new Promise<{ close: number; error: number; drain: number }>((resolve) => {
    sent = resolve;
  });
  const server: Server = createServer({ highWaterMark }, (_req, res: ServerResponse) => {
    void send(res, { statusCode: 200, body, headers: { 'Content-Type': 'text/plain' } }).then(() =>
      sent({
        close: res.listenerCount('close'),
        error: res.listenerCount('error'),
        drain: res.listenerCount('drain'),
      }),
    );
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const received = await new Promise<number>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/' }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on('end', () => resolve(bytes));
    });
    req.on('error', reject);
    req.end();
  });
  return { received, held: await listeners };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => new Promise((resolve) => s.close(() => resolve(undefined)))),
  );
});

describe("the local server's answer writer", () => {
  it('writes a large answer a slice at a time without leaving listeners on the response', async () => {
    // 16 slices of 256 Ki characters, and a socket buffer so small that every slice waits for
    // 'drain': the leak this guards against left one 'close' and one 'error' listener per slice
    // (Node warns at 11: MaxListenersExceededWarning).
    const body = 'x'.repeat(16 * 256 * 1024);
    const { received, held } = await sendThroughServer(body, 1024);
    expect(received).toBe(body.length);
    // What Node's own response keeps (its socket bookkeeping), never one per slice.
    expect(held.close).toBeLessThanOrEqual(1);
    expect(held.error).toBeLessThanOrEqual(1);
    expect(held.drain).toBe(0);
  });
});
