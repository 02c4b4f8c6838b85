// A bare Node HTTP server that answers GET /api/v1.0/tasks/{id} and POST …/messages with the
// store calls the service makes (pg adapter, pool of 2 as in a Lambda container) and plain
// JSON.stringify: no API Gateway event, no handler kit, no zod, no logger. Between the bare server and
// the service, it splits the cost of the database from the cost of our HTTP stack.
// Usage: DATABASE_URL=postgres://… node test/bench/store-server.ts
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPgDb } from '#shared/db/pg.ts';
import { appendMessages } from '#shared/store/messages.ts';
import { getTask } from '#shared/store/tasks.ts';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL is required');
const db = createPgDb({ connectionString: url, maxConnections: 2 });
const TASK = /^\/api\/v1\.0\/tasks\/([0-9a-f-]{36})(\/messages)?$/;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const match = TASK.exec(req.url ?? '');
    const answer = async (): Promise<[number, unknown]> => {
      if (!match) return [404, { message: 'not found' }];
      const taskId = match[1] as string;
      if (req.method === 'GET' && !match[2]) return [200, await getTask(db, taskId)];
      if (req.method === 'POST' && match[2]) {
        const m = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        const result = await appendMessages(db, taskId, [
          {
            message: String(m.message),
            error: m.error === true,
            contextType: String(m.context_type),
            context: String(m.context),
          },
        ]);
        return [201, result];
      }
      return [405, { message: 'method not allowed' }];
    };
    answer().then(
      ([status, body]) => {
        const text = JSON.stringify(body);
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
        });
        res.end(text);
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: String(error) }));
      },
    );
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`listening on http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => {
  server.close(() => {
    void db.close().finally(() => process.exit(0));
  });
});
