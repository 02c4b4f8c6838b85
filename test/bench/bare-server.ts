// A bare Node HTTP server that answers every request with bytes captured from the real service,
// after reading the request body as the real one does: the yardstick for the cost of our stack.
// Usage: node test/bench/bare-server.ts <responses.json>
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Canned {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const file = process.argv[2];
if (!file) throw new Error('usage: bare-server.ts <responses.json>');
const canned = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Canned>;
const prepared = Object.fromEntries(
  Object.entries(canned).map(([method, c]) => {
    const body = Buffer.from(c.body, 'utf8');
    return [
      method,
      { status: c.status, headers: { ...c.headers, 'content-length': String(body.length) }, body },
    ];
  }),
);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const answer = prepared[req.method ?? 'GET'];
    if (!answer) {
      res.writeHead(405).end();
      return;
    }
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`listening on http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
