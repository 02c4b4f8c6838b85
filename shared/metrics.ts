import { Metrics } from '@aws-lambda-powertools/metrics';
import type { OutboxEvent } from './store/outbox.ts';

/**
 * The service's operational figures. One interface, two outputs: CloudWatch EMF lines on stdout
 * in a Lambda (Powertools Metrics: no API call, CloudWatch Logs extracts them) and an in-memory
 * registry served as Prometheus text by the local server (`GET /api/v1.0/metrics`).
 */
export const METRICS = {
  TasksCreated: { unit: 'Count', kind: 'counter', help: 'Tasks created, per action' },
  TasksClaimed: {
    unit: 'Count',
    kind: 'counter',
    help: 'Queued tasks moved to running by a claim, per action',
  },
  TasksFinished: {
    unit: 'Count',
    kind: 'counter',
    help: 'Tasks that reached complete or terminated, per action and result',
  },
  TasksRequeued: {
    unit: 'Count',
    kind: 'counter',
    help: 'Running tasks of a dead lease epoch put back in the queue',
  },
  LeaseTakeovers: { unit: 'Count', kind: 'counter', help: 'Lease takeovers (a new epoch)' },
  SqsRecordsFailed: {
    unit: 'Count',
    kind: 'counter',
    help: 'SQS records that failed (redelivered, then dead-lettered)',
  },
  DesignFetchFailures: {
    unit: 'Count',
    kind: 'counter',
    help: 'Design references that could not be fetched',
  },
  ClaimLatency: {
    unit: 'Seconds',
    kind: 'summary',
    help: 'Seconds from a task being queued to its claim, per action',
  },
  TaskDuration: {
    unit: 'Seconds',
    kind: 'summary',
    help: 'Seconds from a task starting to it finishing, per action',
  },
  DesignFetchTime: {
    unit: 'Milliseconds',
    kind: 'summary',
    help: 'Milliseconds to fetch and parse a design',
  },
  QueueDepth: { unit: 'Count', kind: 'gauge', help: 'Queued tasks' },
  OldestQueuedAge: {
    unit: 'Seconds',
    kind: 'gauge',
    help: 'Age of the oldest queued task in seconds',
  },
  StuckRunningTasks: {
    unit: 'Count',
    kind: 'gauge',
    help: "Tasks running longer than their action's bound",
  },
  EventsPending: { unit: 'Count', kind: 'gauge', help: 'Outbox events not yet published' },
} as const;

export type MetricName = keyof typeof METRICS;
export type Dimensions = Readonly<Record<string, string>>;

export interface Telemetry {
  record(name: MetricName, value: number, dimensions?: Dimensions): void;
}

/** A telemetry that records nothing (tests that do not look, tools). */
export const NO_TELEMETRY: Telemetry = { record: () => {} };

const FINISHED = new Set(['complete', 'terminated']);

/**
 * The counts that follow from published events: every change of status is exactly one event, so
 * counting events counts changes once whichever statement made them (created, claimed, finished,
 * requeued, takeovers).
 */
export function recordEventCounts(telemetry: Telemetry, events: readonly OutboxEvent[]): void {
  for (const { detailType, detail } of events) {
    if (detailType === 'Lease Takeover') {
      telemetry.record('LeaseTakeovers', 1);
      continue;
    }
    if (detailType !== 'Task Status Change' || !detail.action) continue;
    const action = detail.action;
    if (detail.old_status === null) telemetry.record('TasksCreated', 1, { action });
    if (detail.old_status === detail.new_status) continue;
    if (detail.old_status === 'queued' && detail.new_status === 'running') {
      telemetry.record('TasksClaimed', 1, { action });
    }
    if (detail.old_status === 'running' && detail.new_status === 'queued') {
      telemetry.record('TasksRequeued', 1, { action });
    }
    if (FINISHED.has(detail.new_status ?? '') && !FINISHED.has(detail.old_status ?? '')) {
      telemetry.record('TasksFinished', 1, { action, result: detail.result_status ?? 'unknown' });
    }
  }
}

/** The seconds between two ISO timestamps (never negative). */
export function secondsBetween(from: string, to: string): number {
  return Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);
}

// ---------------------------------------------------------------------------------------------
// EMF (Lambda)

/**
 * Powertools Metrics: each figure is one EMF line on stdout, written at once (a single metric),
 * so nothing is lost when a Lambda freezes after answering and no flush is needed.
 */
export function createEmfTelemetry(options: { namespace: string; serviceName: string }): Telemetry {
  const metrics = new Metrics({ namespace: options.namespace, serviceName: options.serviceName });
  return {
    record(name, value, dimensions = {}) {
      const single = metrics.singleMetric();
      for (const [key, dim] of Object.entries(dimensions)) single.addDimension(key, dim);
      single.addMetric(name, METRICS[name].unit, value);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Prometheus (local)

const PROM_NAMES: Record<MetricName, string> = {
  TasksCreated: 'drydock_tasks_created_total',
  TasksClaimed: 'drydock_tasks_claimed_total',
  TasksFinished: 'drydock_tasks_finished_total',
  TasksRequeued: 'drydock_tasks_requeued_total',
  LeaseTakeovers: 'drydock_lease_takeovers_total',
  SqsRecordsFailed: 'drydock_sqs_records_failed_total',
  DesignFetchFailures: 'drydock_design_fetch_failures_total',
  ClaimLatency: 'drydock_claim_latency_seconds',
  TaskDuration: 'drydock_task_duration_seconds',
  DesignFetchTime: 'drydock_design_fetch_milliseconds',
  QueueDepth: 'drydock_queue_depth',
  OldestQueuedAge: 'drydock_oldest_queued_age_seconds',
  StuckRunningTasks: 'drydock_stuck_running_tasks',
  EventsPending: 'drydock_events_pending',
};

/** Label values escaped as the text format asks (backslash, quote, newline). */
function labels(dimensions: Dimensions): string {
  const entries = Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return '';
  const body = entries
    .map(
      ([k, v]) =>
        `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`,
    )
    .join(',');
  return `{${body}}`;
}

/** The local registry: counters, summaries (sum and count) and gauges, by name and labels. */
export class PrometheusRegistry implements Telemetry {
  readonly #series = new Map<MetricName, Map<string, { sum: number; count: number }>>();

  record(name: MetricName, value: number, dimensions: Dimensions = {}): void {
    let series = this.#series.get(name);
    if (!series) {
      series = new Map();
      this.#series.set(name, series);
    }
    const key = labels(dimensions);
    const cell = series.get(key) ?? { sum: 0, count: 0 };
    if (METRICS[name].kind === 'gauge') {
      cell.sum = value;
      cell.count = 1;
    } else {
      cell.sum += value;
      cell.count += 1;
    }
    series.set(key, cell);
  }

  /** The Prometheus text exposition format (version 0.0.4). */
  render(): string {
    const lines: string[] = [];
    for (const name of Object.keys(METRICS) as MetricName[]) {
      const meta = METRICS[name];
      const prom = PROM_NAMES[name];
      lines.push(`# HELP ${prom} ${meta.help}`);
      lines.push(`# TYPE ${prom} ${meta.kind}`);
      for (const [key, cell] of this.#series.get(name) ?? []) {
        if (meta.kind === 'summary') {
          lines.push(`${prom}_sum${key} ${cell.sum}`, `${prom}_count${key} ${cell.count}`);
        } else lines.push(`${prom}${key} ${cell.sum}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

/**
 * A design resolver that records each fetch's time (cache hits included: what a caller waits
 * for) and each failure (a refused reference, an unreachable or slow source).
 */
export function timedResolver<R extends { resolve(...args: never[]): Promise<unknown> }>(
  inner: R,
  telemetry: () => Telemetry,
): R {
  const resolve = (async (...args: Parameters<R['resolve']>) => {
    const start = performance.now();
    try {
      const resolved = await inner.resolve(...args);
      telemetry().record('DesignFetchTime', performance.now() - start);
      return resolved;
    } catch (error) {
      telemetry().record('DesignFetchFailures', 1);
      throw error;
    }
  }) as R['resolve'];
  return Object.assign(Object.create(inner) as R, { resolve });
}
