import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a real server that can be frozen: while frozen it keeps
 * every connection open and accepts new ones, but passes no byte either way — a database that
 * is not down, just silent (a hung host, a black-holed route). Thawed, it forwards again.
 */
export interface FreezableProxy {
  readonly port: number;
  freeze(): void;
  thaw(): void;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function startFreezableProxy(target: {
  host: string;
  port: number;
}): Promise<FreezableProxy> {
  let frozen = false;
  let accepted = 0;
  const sockets = new Set<Socket>();
  const pipes: { from: Socket; to: Socket; held: Buffer[] }[] = [];
  const forward = (pipe: (typeof pipes)[number]) => {
    pipe.from.on('data', (chunk: Buffer) => {
      if (frozen) pipe.held.push(chunk);
      else pipe.to.write(chunk);
    });
  };
  const server: Server = createServer((client) => {
    accepted += 1;
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    const up = { from: client, to: upstream, held: [] as Buffer[] };
    const down = { from: upstream, to: client, held: [] as Buffer[] };
    pipes.push(up, down);
    forward(up);
    forward(down);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    freeze() {
      frozen = true;
    },
    thaw() {
      frozen = false;
      for (const pipe of pipes) {
        for (const chunk of pipe.held.splice(0)) pipe.to.write(chunk);
      }
    },
    connections: () => accepted,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
