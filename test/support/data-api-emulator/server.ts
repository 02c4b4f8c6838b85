import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { databaseError, EmulatedError, type ExceptionName, pgjdbcMessage } from './errors.ts';
import { toPositional } from './named-params.ts';
import { columnMetadata, encodeRecords, formatJson, resultOptions } from './results.ts';
import { bindParameters, toField } from './values.ts';

/**
 * A local RDS Data API (restJson1) over a real Postgres server, for tests only: the unchanged
 * `RDSDataClient` reaches it through `endpoint` or `AWS_ENDPOINT_URL_RDS_DATA`, with any
 * credentials (SigV4 is accepted, not checked). Behaviour follows reference/aws.md §1.11.
 */

/** A cluster the emulator answers for. */
export interface EmulatedCluster {
  /** Where its database lives; the secret's user and the request's `database` override it. */
  readonly connectionString: string;
  /** false → every call answers HttpEndpointNotEnabledException. */
  readonly httpEndpointEnabled?: boolean;
  /** Pool size per (database, user) for autocommit calls and transactions together. */
  readonly maxConnections?: number;
}

/** What a secret holds (the same keys as an RDS-managed secret). */
export interface EmulatedSecret {
  readonly username: string;
  readonly password?: string;
}

export interface DataApiEmulatorOptions {
  readonly clusters?: Readonly<Record<string, EmulatedCluster>>;
  readonly secrets?: Readonly<Record<string, EmulatedSecret>>;
  /** A transaction no call used for this long is rolled back (AWS: 3 min). */
  readonly transactionIdleMs?: number;
  /** A transaction older than this is rolled back (AWS: 24 h). */
  readonly transactionMaxMs?: number;
  /** The per-call statement limit (AWS: 45 s). */
  readonly statementTimeoutMs?: number;
  /** `records` larger than this (as JSON) fail (AWS: 1 MiB). */
  readonly maxResponseBytes?: number;
  /** A row larger than this fails (AWS: 64 KB). */
  readonly maxRowBytes?: number;
  /** A request body larger than this fails (AWS: 4 MiB). */
  readonly maxRequestBytes?: number;
  /** `formattedRecords` larger than this fail (AWS: 10 MB). */
  readonly maxFormattedBytes?: number;
  /**
   * The emulator's time: transaction lifetimes, the call timeout and fault windows follow it.
   * Default: the real clock; a test passes `manualClock()` and moves it instead of sleeping.
   */
  readonly clock?: EmulatorClock;
}

/** Time as the emulator sees it. */
export interface EmulatorClock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `callback` once `ms` have passed on this clock; the function returned cancels it. */
  after(ms: number, callback: () => void): () => void;
}

export const REAL_EMULATOR_CLOCK: EmulatorClock = {
  now: () => Date.now(),
  after(ms, callback) {
    const timer = setTimeout(callback, ms);
    // Nothing the emulator schedules keeps a test process alive on its own.
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** A clock that moves only when told to: `advance(ms)` runs the timers falling due, in order. */
export interface ManualClock extends EmulatorClock {
  advance(ms: number): void;
}

export function manualClock(start = Date.now()): ManualClock {
  let now = start;
  let next = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  return {
    now: () => now,
    after(ms, callback) {
      const id = next++;
      timers.set(id, { at: now + ms, callback });
      return () => timers.delete(id);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        let due: [number, { at: number; callback: () => void }] | undefined;
        for (const entry of timers) {
          if (entry[1].at <= until && (!due || entry[1].at < due[1].at)) due = entry;
        }
        if (!due) break;
        timers.delete(due[0]);
        now = Math.max(now, due[1].at);
        due[1].callback();
      }
      now = until;
    },
  };
}

export type OperationName =
  | 'ExecuteStatement'
  | 'BatchExecuteStatement'
  | 'BeginTransaction'
  | 'CommitTransaction'
  | 'RollbackTransaction'
  | 'ExecuteSql';

/** Calls received, per operation and in total (faulted calls included: a call is a call). */
export type CallCounts = Record<OperationName | 'total', number>;

export interface FaultPlan {
  /** The next N calls answer DatabaseResumingException. */
  readonly resumingCalls?: number;
  /** Calls in the next N ms answer DatabaseResumingException (a cluster waking from 0 ACU). */
  readonly resumingForMs?: number;
  /** The next N calls answer 503 ServiceUnavailableError or 504 DatabaseUnavailableException. */
  readonly unavailableCalls?: number;
  readonly unavailableStatus?: 503 | 504;
}

export interface DataApiEmulator {
  /** `http://127.0.0.1:<port>`, for `endpoint` or `AWS_ENDPOINT_URL_RDS_DATA`. */
  readonly endpoint: string;
  addCluster(resourceArn: string, cluster: EmulatedCluster): void;
  /** Forgets a cluster: rolls back its transactions and closes its connections. */
  removeCluster(resourceArn: string): Promise<void>;
  addSecret(secretArn: string, secret: EmulatedSecret): void;
  /** Calls received for one cluster, or for all. */
  calls(resourceArn?: string): CallCounts;
  resetCalls(resourceArn?: string): void;
  injectFaults(plan: FaultPlan): void;
  clearFaults(): void;
  /** Transactions currently open (for "nothing was left open" assertions). */
  openTransactions(resourceArn?: string): number;
  /**
   * Resolves once every statement started so far has ended on the server, including one that
   * outlived its answer (cancelled at the timeout, or run on with `continueAfterTimeout`).
   */
  settled(): Promise<void>;
  /** Statements the server is running now (a test waits for one to start before moving time). */
  runningStatements(): number;
  close(): Promise<void>;
}

const ROUTES: Record<string, OperationName> = {
  '/Execute': 'ExecuteStatement',
  '/BatchExecute': 'BatchExecuteStatement',
  '/BeginTransaction': 'BeginTransaction',
  '/CommitTransaction': 'CommitTransaction',
  '/RollbackTransaction': 'RollbackTransaction',
  '/ExecuteSql': 'ExecuteSql',
};

const emptyCounts = (): CallCounts => ({
  total: 0,
  ExecuteStatement: 0,
  BatchExecuteStatement: 0,
  BeginTransaction: 0,
  CommitTransaction: 0,
  RollbackTransaction: 0,
  ExecuteSql: 0,
});

interface Transaction {
  readonly id: string;
  readonly resourceArn: string;
  readonly client: pg.PoolClient;
  busy: boolean;
  /** Cancel the idle and the lifetime limits' timers. */
  cancelIdle: () => void;
  readonly cancelMax: () => void;
}

type Body = Record<string, unknown>;

const TIMEOUT = Symbol('timeout');
const badRequest = (message: string) => new EmulatedError('BadRequestException', message);
const rawText = (value: string) => value;

function requireString(body: Body, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '') {
    throw badRequest(
      `1 validation error detected: Value null at '${key}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

/** Starts the emulator on 127.0.0.1 at a random port. */
export async function startDataApiEmulator(
  options: DataApiEmulatorOptions = {},
): Promise<DataApiEmulator> {
  const settings = {
    transactionIdleMs: options.transactionIdleMs ?? 3 * 60_000,
    transactionMaxMs: options.transactionMaxMs ?? 24 * 3_600_000,
    statementTimeoutMs: options.statementTimeoutMs ?? 45_000,
    maxResponseBytes: options.maxResponseBytes ?? 1024 * 1024,
    maxRowBytes: options.maxRowBytes ?? 64 * 1024,
    maxRequestBytes: options.maxRequestBytes ?? 4 * 1024 * 1024,
    maxFormattedBytes: options.maxFormattedBytes ?? 10 * 1024 * 1024,
  };
  const clock = options.clock ?? REAL_EMULATOR_CLOCK;
  const clusters = new Map<string, EmulatedCluster>(Object.entries(options.clusters ?? {}));
  const secrets = new Map<string, EmulatedSecret>(Object.entries(options.secrets ?? {}));
  const pools = new Map<string, { resourceArn: string; pool: pg.Pool; url: string }>();
  const transactions = new Map<string, Transaction>();
  /** Statements the server has not finished yet (see `settled`). */
  const inFlight = new Set<Promise<unknown>>();
  const counts = new Map<string, CallCounts>();
  const allCounts = emptyCounts();
  let faults = { resumingCalls: 0, resumingUntil: 0, unavailableCalls: 0, unavailableStatus: 503 };

  function poolFor(
    resourceArn: string,
    cluster: EmulatedCluster,
    secret: EmulatedSecret,
    database: unknown,
  ) {
    const url = new URL(cluster.connectionString);
    url.username = secret.username;
    if (secret.password !== undefined) url.password = secret.password;
    if (typeof database === 'string' && database !== '') url.pathname = `/${database}`;
    const key = `${resourceArn}\n${url}`;
    let entry = pools.get(key);
    if (!entry) {
      const pool = new pg.Pool({
        connectionString: url.toString(),
        max: cluster.maxConnections ?? 20,
        idleTimeoutMillis: 10_000,
        connectionTimeoutMillis: 10_000,
      });
      pool.on('error', () => {});
      entry = { resourceArn, pool, url: url.toString() };
      pools.set(key, entry);
    }
    return entry;
  }

  async function cancelBackend(url: string, pid: number): Promise<void> {
    const admin = new pg.Client({ connectionString: url });
    try {
      await admin.connect();
      await admin.query('select pg_cancel_backend($1)', [pid]);
    } catch {
      // The statement may have finished meanwhile; nothing to cancel then.
    } finally {
      await admin.end().catch(() => {});
    }
  }

  function endTransaction(tx: Transaction, how: 'rollback' | 'forget'): Promise<void> {
    transactions.delete(tx.id);
    tx.cancelIdle();
    tx.cancelMax();
    if (how === 'forget') return Promise.resolve();
    return tx.client.query('rollback').then(
      () => tx.client.release(),
      (error: Error) => tx.client.release(error),
    );
  }

  function expireAfter(tx: Pick<Transaction, 'id'>, ms: number): () => void {
    return clock.after(ms, () => {
      const live = transactions.get(tx.id);
      // A transaction busy with a statement expires once that statement ends (touch resets).
      if (live && !live.busy) void endTransaction(live, 'rollback');
    });
  }

  function transactionFor(body: Body, resourceArn: string): Transaction {
    const id = requireString(body, 'transactionId');
    const tx = transactions.get(id);
    if (!tx || tx.resourceArn !== resourceArn) {
      throw new EmulatedError('TransactionNotFoundException', `Transaction ${id} is not found`);
    }
    if (tx.busy) {
      throw new EmulatedError('DatabaseErrorException', 'Transaction is still running a query');
    }
    return tx;
  }

  function touch(tx: Transaction): void {
    tx.cancelIdle();
    tx.cancelIdle = expireAfter(tx, settings.transactionIdleMs);
  }

  /**
   * Runs one statement (its text, and its bound values with their OIDs) under the call timeout.
   * `run.settled` resolves once the server is done with it, which after a timeout is later than
   * this function's answer.
   */
  async function runStatement(
    client: pg.PoolClient,
    url: string,
    text: string,
    { oids, values }: { readonly oids: number[]; readonly values: unknown[] },
    run: { settled: Promise<unknown>; readonly continueAfterTimeout?: boolean },
  ): Promise<pg.QueryResult<unknown[]>> {
    const continueAfterTimeout = run.continueAfterTimeout === true;
    // The parameter OIDs go in the Parse message (pg sends `types` there) and the same object
    // serves as the result type parser, keeping every value as the server's text.
    const types = Object.assign([...oids], { getTypeParser: () => rawText });
    const pending = client.query({
      // Named, so each connection plans a statement once, as pgjdbc does after a few executions
      // (the real service runs on it); the parameter types are part of the identity.
      name: `dapi_${createHash('sha1')
        .update(`${oids.join(',')}\n${text}`)
        .digest('base64url')}`,
      text,
      values,
      types,
      rowMode: 'array',
      // Extended protocol even without parameters: it refuses several statements in one call.
      queryMode: 'extended',
    } as unknown as pg.QueryConfig) as unknown as Promise<pg.QueryResult<unknown[]>>;
    run.settled = pending.catch(() => {});
    inFlight.add(run.settled);
    void run.settled.then(() => inFlight.delete(run.settled));
    let cancelTimeout = () => {};
    const timeout = new Promise<typeof TIMEOUT>((resolve) => {
      cancelTimeout = clock.after(settings.statementTimeoutMs, () => resolve(TIMEOUT));
    });
    try {
      const outcome = await Promise.race([pending, timeout]);
      if (outcome === TIMEOUT) {
        const pid = (client as unknown as { processID: number }).processID;
        if (!continueAfterTimeout) await cancelBackend(url, pid);
        throw new EmulatedError(
          'StatementTimeoutException',
          `The statement has exceeded the ${Math.round(settings.statementTimeoutMs / 1000)} second call timeout`,
          { dbConnectionId: pid },
        );
      }
      return outcome;
    } catch (error) {
      if (error instanceof EmulatedError) throw error;
      throw databaseError(error);
    } finally {
      cancelTimeout();
    }
  }

  function resolveTarget(body: Body, arnKey = 'resourceArn', secretKey = 'secretArn') {
    const resourceArn = requireString(body, arnKey);
    const secretArn = requireString(body, secretKey);
    const cluster = clusters.get(resourceArn);
    if (!cluster) {
      throw badRequest(
        `Invalid resource ARN: no DB cluster ${resourceArn} in this account and region`,
      );
    }
    if (cluster.httpEndpointEnabled === false) {
      throw new EmulatedError(
        'HttpEndpointNotEnabledException',
        `HTTP endpoint is not enabled for ${resourceArn}`,
      );
    }
    const secret = secrets.get(secretArn);
    if (!secret) {
      throw new EmulatedError(
        'SecretsErrorException',
        'Secrets Manager cannot find the specified secret',
      );
    }
    return { resourceArn, cluster, secret };
  }

  function checkResuming(resourceArn: string): void {
    if (faults.resumingCalls > 0 || clock.now() < faults.resumingUntil) {
      if (faults.resumingCalls > 0) faults.resumingCalls -= 1;
      const name = resourceArn.split(':').at(-1) ?? 'cluster';
      throw new EmulatedError(
        'DatabaseResumingException',
        `The Aurora DB instance ${name}-instance-1 is resuming after being auto-paused. Please wait a few seconds and try again.`,
      );
    }
  }

  async function executeStatement(body: Body): Promise<Body> {
    const { resourceArn, cluster, secret } = resolveTarget(body);
    const sql = requireString(body, 'sql');
    checkResuming(resourceArn);
    const continueAfterTimeout = body.continueAfterTimeout === true;
    if (continueAfterTimeout && body.transactionId !== undefined) {
      throw badRequest('continueAfterTimeout is not supported for statements in a transaction');
    }
    const positional = toPositional(sql);
    const bound = bindParameters(positional.names, body.parameters);
    const options = resultOptions(body);
    const entry = poolFor(resourceArn, cluster, secret, body.database);

    let client: pg.PoolClient;
    let release: () => void;
    let tx: Transaction | undefined;
    if (body.transactionId !== undefined) {
      tx = transactionFor(body, resourceArn);
      const held = tx;
      held.busy = true;
      client = held.client;
      release = () => {
        held.busy = false;
        if (transactions.has(held.id)) touch(held);
      };
    } else {
      client = await connect(entry.pool);
      release = () => client.release();
    }
    const run = { settled: Promise.resolve() as Promise<unknown>, continueAfterTimeout };
    try {
      const result = await runStatement(client, entry.url, positional.text, bound, run);
      const isDml = /^(INSERT|UPDATE|DELETE|MERGE)$/.test(result.command ?? '');
      const out: Body = {
        numberOfRecordsUpdated: isDml && result.fields.length === 0 ? (result.rowCount ?? 0) : 0,
      };
      if (result.fields.length > 0) {
        if (body.formatRecordsAs === 'JSON')
          out.formattedRecords = formatJson(
            result,
            options,
            settings.maxFormattedBytes,
            settings.maxRowBytes,
          );
        else {
          out.records = encodeRecords(result, options, settings);
          if (body.includeResultMetadata === true) {
            out.columnMetadata = await columnMetadata(client, result.fields);
          }
        }
      }
      return out;
    } catch (error) {
      // Observed on AWS: a result over the size limit also ends the transaction it ran in.
      if (tx && error instanceof EmulatedError && /size limit/.test(error.message)) {
        tx.busy = false;
        await endTransaction(tx, 'rollback');
        tx = undefined;
        release = () => {};
      }
      throw error;
    } finally {
      // The connection goes back (or the transaction becomes usable) only once the server is
      // done, which after a timeout with continueAfterTimeout is long after this answer.
      const done = release;
      void run.settled.then(done);
    }
  }

  async function connect(pool: pg.Pool): Promise<pg.PoolClient> {
    try {
      return await pool.connect();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('08') && !code.startsWith('57')) {
        throw databaseError(error);
      }
      throw new EmulatedError('DatabaseUnavailableException', 'The database is unavailable');
    }
  }

  async function batchExecute(body: Body): Promise<Body> {
    const { resourceArn, cluster, secret } = resolveTarget(body);
    const sql = requireString(body, 'sql');
    checkResuming(resourceArn);
    const positional = toPositional(sql);
    const sets = Array.isArray(body.parameterSets) ? (body.parameterSets as unknown[]) : [];
    const boundSets = (sets.length > 0 ? sets : [[]]).map((set) =>
      bindParameters(positional.names, set),
    );
    const entry = poolFor(resourceArn, cluster, secret, body.database);
    const inTransaction = body.transactionId !== undefined;
    const tx = inTransaction ? transactionFor(body, resourceArn) : undefined;
    const client = tx ? tx.client : await connect(entry.pool);
    if (tx) tx.busy = true;
    const updateResults: Body[] = [];
    try {
      // Outside a caller's transaction the sets run in one of their own: all or nothing.
      if (!tx) await client.query('begin');
      for (const bound of boundSets) {
        const run = { settled: Promise.resolve() as Promise<unknown> };
        const result = await runStatement(client, entry.url, positional.text, bound, run);
        const first = result.rows[0];
        updateResults.push({
          generatedFields: first
            ? first.map((v, i) =>
                toField(result.fields[i]?.dataTypeID ?? 0, v as string | null, resultOptions(body)),
              )
            : [],
        });
      }
      if (!tx) await client.query('commit');
    } catch (error) {
      if (!tx) await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      if (tx) {
        tx.busy = false;
        touch(tx);
      } else client.release();
    }
    return sets.length > 0 ? { updateResults } : { updateResults: [] };
  }

  async function beginTransaction(body: Body): Promise<Body> {
    const { resourceArn, cluster, secret } = resolveTarget(body);
    checkResuming(resourceArn);
    const entry = poolFor(resourceArn, cluster, secret, body.database);
    const client = await connect(entry.pool);
    try {
      await client.query('begin');
    } catch (error) {
      client.release(error as Error);
      throw databaseError(error);
    }
    const id = randomBytes(96).toString('base64');
    const tx: Transaction = {
      id,
      resourceArn,
      client,
      busy: false,
      cancelIdle: expireAfter({ id }, settings.transactionIdleMs),
      cancelMax: expireAfter({ id }, settings.transactionMaxMs),
    };
    transactions.set(id, tx);
    return { transactionId: id };
  }

  async function finishTransaction(body: Body, how: 'commit' | 'rollback'): Promise<Body> {
    const { resourceArn } = resolveTarget(body);
    checkResuming(resourceArn);
    const tx = transactionFor(body, resourceArn);
    if (how === 'rollback') {
      await endTransaction(tx, 'rollback');
      return { transactionStatus: 'Rollback Complete' };
    }
    await endTransaction(tx, 'forget');
    try {
      const result = await tx.client.query('commit');
      tx.client.release();
      if (result.command === 'ROLLBACK') {
        // Postgres answers COMMIT of an aborted transaction with ROLLBACK; JDBC reports it.
        throw new EmulatedError(
          'DatabaseErrorException',
          pgjdbcMessage({
            message: 'The database returned ROLLBACK, so the transaction cannot be committed',
            code: '25P02',
          }),
        );
      }
    } catch (error) {
      if (error instanceof EmulatedError) throw error;
      tx.client.release(error as Error);
      throw databaseError(error);
    }
    return { transactionStatus: 'Transaction Committed' };
  }

  async function dispatch(operation: OperationName, body: Body): Promise<Body> {
    switch (operation) {
      case 'ExecuteStatement':
        return executeStatement(body);
      case 'BatchExecuteStatement':
        return batchExecute(body);
      case 'BeginTransaction':
        return beginTransaction(body);
      case 'CommitTransaction':
        return finishTransaction(body, 'commit');
      case 'RollbackTransaction':
        return finishTransaction(body, 'rollback');
      case 'ExecuteSql':
        throw badRequest(
          'ExecuteSql is not supported for Aurora Serverless v2 and provisioned clusters; use ExecuteStatement',
        );
    }
  }

  function count(operation: OperationName, resourceArn: unknown): void {
    allCounts[operation] += 1;
    allCounts.total += 1;
    if (typeof resourceArn !== 'string') return;
    let c = counts.get(resourceArn);
    if (!c) {
      c = emptyCounts();
      counts.set(resourceArn, c);
    }
    c[operation] += 1;
    c.total += 1;
  }

  function send(
    res: ServerResponse,
    status: number,
    body: Body,
    errorType?: ExceptionName | string,
  ) {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
    });
    res.end(text);
  }

  async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    // An oversized body is still read to its end (and dropped), so the client gets the answer
    // instead of a reset connection.
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size <= settings.maxRequestBytes) chunks.push(chunk as Buffer);
    }
    return size > settings.maxRequestBytes ? undefined : Buffer.concat(chunks);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const operation = ROUTES[path];
    if (req.method !== 'POST' || !operation) {
      send(
        res,
        404,
        { message: `No operation at ${req.method} ${path}` },
        'UnknownOperationException',
      );
      return;
    }
    const raw = await readBody(req);
    let body: Body = {};
    try {
      if (raw === undefined) {
        count(operation, undefined);
        throw badRequest(`Request size exceeds the ${settings.maxRequestBytes} byte limit`);
      }
      body = raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as Body) : {};
      count(operation, body.resourceArn ?? body.dbClusterOrInstanceArn);
      if (faults.unavailableCalls > 0) {
        faults.unavailableCalls -= 1;
        throw faults.unavailableStatus === 504
          ? new EmulatedError('DatabaseUnavailableException', 'The writer instance is unavailable')
          : new EmulatedError('ServiceUnavailableError', 'Service unavailable');
      }
      send(res, 200, await dispatch(operation, body));
    } catch (error) {
      if (error instanceof SyntaxError) {
        send(res, 400, { message: 'Request body is not valid JSON' }, 'SerializationException');
      } else if (error instanceof EmulatedError) {
        send(res, error.status, { message: error.message, ...error.extra }, error.type);
      } else {
        send(
          res,
          500,
          { message: `Internal error: ${(error as Error)?.message}` },
          'InternalServerErrorException',
        );
      }
    }
  }

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  async function closePools(resourceArn?: string): Promise<void> {
    const ending: Promise<void>[] = [];
    for (const tx of [...transactions.values()]) {
      if (resourceArn === undefined || tx.resourceArn === resourceArn) {
        ending.push(endTransaction(tx, 'rollback').catch(() => {}));
      }
    }
    await Promise.all(ending);
    for (const [key, entry] of [...pools]) {
      if (resourceArn === undefined || entry.resourceArn === resourceArn) {
        pools.delete(key);
        await entry.pool.end().catch(() => {});
      }
    }
  }

  return {
    endpoint: `http://127.0.0.1:${port}`,
    addCluster(resourceArn, cluster) {
      clusters.set(resourceArn, cluster);
    },
    async removeCluster(resourceArn) {
      clusters.delete(resourceArn);
      await closePools(resourceArn);
    },
    addSecret(secretArn, secret) {
      secrets.set(secretArn, secret);
    },
    calls(resourceArn) {
      return {
        ...(resourceArn === undefined ? allCounts : (counts.get(resourceArn) ?? emptyCounts())),
      };
    },
    resetCalls(resourceArn) {
      if (resourceArn === undefined) {
        counts.clear();
        Object.assign(allCounts, emptyCounts());
      } else counts.delete(resourceArn);
    },
    injectFaults(plan) {
      faults = {
        resumingCalls: plan.resumingCalls ?? 0,
        resumingUntil: plan.resumingForMs ? clock.now() + plan.resumingForMs : 0,
        unavailableCalls: plan.unavailableCalls ?? 0,
        unavailableStatus: plan.unavailableStatus ?? 503,
      };
    },
    clearFaults() {
      faults = { resumingCalls: 0, resumingUntil: 0, unavailableCalls: 0, unavailableStatus: 503 };
    },
    openTransactions(resourceArn) {
      return [...transactions.values()].filter(
        (tx) => resourceArn === undefined || tx.resourceArn === resourceArn,
      ).length;
    },
    async settled() {
      await Promise.all([...inFlight]);
    },
    runningStatements() {
      return inFlight.size;
    },
    async close() {
      await closePools();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
