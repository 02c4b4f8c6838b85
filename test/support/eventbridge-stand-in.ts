import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One entry PutEvents received. */
export interface PutEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  EventBusName: string;
  Time?: number;
}

/**
 * An EventBridge stand-in: `PutEvents` over the SDK's JSON 1.1 protocol, nothing else. Entries
 * whose detail type is in `refuse` get an entry error, as EventBridge reports a throttled or
 * malformed entry while accepting the rest.
 */
export interface EventBridgeStandIn {
  /** For `AWS_ENDPOINT_URL_EVENTBRIDGE` or a client's `endpoint`. */
  readonly endpoint: string;
  readonly entries: PutEntry[];
  /** PutEvents calls received. */
  calls: number;
  refuse: Set<string>;
  close(): Promise<void>;
}

export async function startEventBridgeStandIn(): Promise<EventBridgeStandIn> {
  const state = { calls: 0, refuse: new Set<string>(), entries: [] as PutEntry[] };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (req.headers['x-amz-target'] !== 'AWSEvents.PutEvents') {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'UnknownOperationException', message: 'PutEvents only' }));
        return;
      }
      state.calls += 1;
      const { Entries } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        Entries: PutEntry[];
      };
      let failed = 0;
      const answers = Entries.map((entry, i) => {
        if (state.refuse.has(entry.DetailType)) {
          failed += 1;
          return { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' };
        }
        state.entries.push(entry);
        return { EventId: `e-${state.calls}-${i}` };
      });
      res.end(JSON.stringify({ FailedEntryCount: failed, Entries: answers }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get entries() {
      return state.entries;
    },
    get calls() {
      return state.calls;
    },
    set calls(value: number) {
      state.calls = value;
    },
    get refuse() {
      return state.refuse;
    },
    set refuse(value: Set<string>) {
      state.refuse = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
