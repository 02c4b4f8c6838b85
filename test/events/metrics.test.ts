import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createEmfTelemetry,
  PrometheusRegistry,
  recordEventCounts,
  timedResolver,
} from '#shared/metrics.ts';
import type { OutboxEvent } from '#shared/store/outbox.ts';

/** The EMF lines written to stdout while `work` runs, parsed. */
function emfLines(work: () => void): Record<string, unknown>[] {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    work();
  } finally {
    spy.mockRestore();
  }
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const event = (
  detail: Partial<OutboxEvent['detail']>,
  detailType: OutboxEvent['detailType'] = 'Task Status Change',
): OutboxEvent => ({
  eventId: 1,
  detailType,
  detail: {
    task_id: 'a',
    parent_task_id: null,
    action: 'deploy_nodes',
    old_status: null,
    new_status: 'queued',
    result_status: 'incomplete',
    epoch: null,
    version: 1,
    time: '2026-11-30T12:00:00.000Z',
    ...detail,
  },
});

const CHANGES = [
  event({}),
  event({ old_status: 'queued', new_status: 'running', version: 2 }),
  event({ old_status: 'running', new_status: 'running', result_status: 'failure', version: 3 }),
  event({ old_status: 'running', new_status: 'complete', result_status: 'failure', version: 4 }),
  event({ old_status: 'running', new_status: 'queued', action: 'verify_site' }),
  event({ task_id: null, action: null, new_status: null, epoch: 3 }, 'Lease Takeover'),
];

describe('metrics', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes one EMF line per figure: namespace, dimensions, unit, value', () => {
    const telemetry = createEmfTelemetry({
      namespace: 'DrydockTest',
      serviceName: 'drydock-statemgmt',
    });
    const lines = emfLines(() => {
      recordEventCounts(telemetry, CHANGES);
      telemetry.record('ClaimLatency', 1.5, { action: 'deploy_nodes' });
      telemetry.record('OldestQueuedAge', 42);
    });
    const byName = new Map<string, Record<string, unknown>[]>();
    for (const line of lines) {
      const aws = line._aws as {
        Timestamp: number;
        CloudWatchMetrics: {
          Namespace: string;
          Dimensions: string[][];
          Metrics: { Name: string; Unit: string }[];
        }[];
      };
      expect(aws.CloudWatchMetrics).toHaveLength(1);
      const [directive] = aws.CloudWatchMetrics;
      expect(directive?.Namespace).toBe('DrydockTest');
      const name = directive?.Metrics[0]?.Name ?? '';
      byName.set(name, [
        ...(byName.get(name) ?? []),
        { ...line, unit: directive?.Metrics[0]?.Unit, dims: directive?.Dimensions[0] },
      ]);
    }
    expect(byName.get('TasksCreated')?.[0]).toMatchObject({
      TasksCreated: 1,
      action: 'deploy_nodes',
      service: 'drydock-statemgmt',
      unit: 'Count',
    });
    expect(byName.get('TasksClaimed')).toHaveLength(1);
    expect(byName.get('TasksFinished')?.[0]).toMatchObject({
      action: 'deploy_nodes',
      result: 'failure',
      TasksFinished: 1,
    });
    expect(
      [...((byName.get('TasksFinished')?.[0]?.dims as string[] | undefined) ?? [])].sort(),
    ).toEqual(['action', 'result', 'service']);
    expect(byName.get('TasksRequeued')?.[0]).toMatchObject({ action: 'verify_site' });
    expect(byName.get('LeaseTakeovers')?.[0]).toMatchObject({ LeaseTakeovers: 1, unit: 'Count' });
    expect(byName.get('ClaimLatency')?.[0]).toMatchObject({ ClaimLatency: 1.5, unit: 'Seconds' });
    expect(byName.get('OldestQueuedAge')?.[0]).toMatchObject({
      OldestQueuedAge: 42,
      dims: ['service'],
    });
    expect(lines).toHaveLength(7);
  });

  it('renders counters, summaries and gauges as Prometheus text', async () => {
    const registry = new PrometheusRegistry();
    recordEventCounts(registry, CHANGES);
    registry.record('ClaimLatency', 2, { action: 'deploy_nodes' });
    registry.record('ClaimLatency', 3, { action: 'deploy_nodes' });
    registry.record('QueueDepth', 5);
    registry.record('QueueDepth', 4);
    registry.record('TasksCreated', 1, { action: 'a"b\\c' });
    const resolver = timedResolver(
      { resolve: async (ref: string) => ref, close: async () => {} },
      () => registry,
    );
    await resolver.resolve('x');
    await expect(
      timedResolver(
        { resolve: async () => Promise.reject(new Error('down')) },
        () => registry,
      ).resolve(),
    ).rejects.toThrow('down');
    const text = registry.render();
    expect(text).toContain('# TYPE drydock_tasks_created_total counter\n');
    expect(text).toContain('drydock_tasks_created_total{action="deploy_nodes"} 1\n');
    expect(text).toContain('drydock_tasks_created_total{action="a\\"b\\\\c"} 1\n');
    expect(text).toContain(
      'drydock_tasks_finished_total{action="deploy_nodes",result="failure"} 1\n',
    );
    expect(text).toContain('drydock_claim_latency_seconds_sum{action="deploy_nodes"} 5\n');
    expect(text).toContain('drydock_claim_latency_seconds_count{action="deploy_nodes"} 2\n');
    expect(text).toContain('drydock_queue_depth 4\n');
    expect(text).toContain('drydock_design_fetch_milliseconds_count 1\n');
    expect(text).toContain('drydock_design_fetch_failures_total 1\n');
    expect(text).toContain('drydock_lease_takeovers_total 1\n');
  });
});
