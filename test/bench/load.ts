import { Pool } from 'undici';
import { nowMs, quantile } from './stats.ts';

export interface LoadRequest {
  readonly method: 'GET' | 'POST';
  /** Path for the i-th request (lets POSTs spread over several tasks). */
  readonly path: (i: number) => string;
  readonly body?: string;
}

export interface LoadResult {
  readonly requests: number;
  readonly failures: number;
  readonly elapsedMs: number;
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
}

/**
 * Closed-loop load: `connections` keep-alive connections, each sending its next request as soon
 * as the previous answer's body has been read, for `seconds`. Latency is measured per request from
 * send to the last byte of the body. A non-2xx answer counts as a failure (and is reported).
 */
export async function runLoad(
  origin: string,
  request: LoadRequest,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const pool = new Pool(origin, { connections, pipelining: 1 });
  const latencies: number[] = [];
  let failures = 0;
  let sent = 0;
  const headers = request.body ? { 'content-type': 'application/json' } : {};
  const start = nowMs();
  const deadline = start + seconds * 1000;
  const loop = async () => {
    while (nowMs() < deadline) {
      const i = sent++;
      const t0 = nowMs();
      const response = await pool.request({
        origin,
        path: request.path(i),
        method: request.method,
        headers,
        ...(request.body ? { body: request.body } : {}),
      });
      await response.body.arrayBuffer();
      latencies.push(nowMs() - t0);
      if (response.statusCode < 200 || response.statusCode > 299) failures += 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, loop));
  } finally {
    await pool.close();
  }
  const elapsedMs = nowMs() - start;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    failures,
    elapsedMs,
    requestsPerSec: (latencies.length / elapsedMs) * 1000,
    p50Ms: quantile(latencies, 0.5),
    p95Ms: quantile(latencies, 0.95),
    p99Ms: quantile(latencies, 0.99),
  };
}
