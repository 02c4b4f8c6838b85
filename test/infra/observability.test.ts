/**
 * Events and metrics in the CDK app: the event bus (the stack's own, or an existing one by name),
 * PutEvents and nothing else for the functions that publish, the example rule, the dashboard and
 * the alarms, with cdk-nag passing (`synthStage` throws on any finding).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveStageConfig } from '#infra/config/stage-config.ts';
import * as synth from './synth.ts';

const PUBLISHERS = ['Tasks', 'TaskEvents', 'Leader', 'LeaseSchedule'];

describe('observability, own bus (dev defaults)', () => {
  const dev = synth.synthesizedStage('dev', {
    context: {
      stuckRunningBounds: '{"deploy_nodes": 7200}',
      alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops',
    },
  });

  it('creates the bus and grants only events:PutEvents on it, to the publishing functions', () => {
    const t = dev.statelessTemplate;
    const buses = Object.values(synth.resourcesOf(t, 'AWS::Events::EventBus'));
    expect(buses.map((b) => b.Properties?.Name)).toEqual(['drydock-statemgmt-dev-events']);
    const eventStatements = synth
      .statementsOf(t)
      .filter((s) => s.Action.some((a) => a.startsWith('events:')));
    expect(eventStatements.length).toBe(PUBLISHERS.length);
    for (const statement of eventStatements) {
      expect(statement.Action).toEqual(['events:PutEvents']);
      expect(JSON.stringify(statement.Resource)).toContain('Bus');
      expect(JSON.stringify(statement.Resource)).not.toContain('*');
    }
    for (const id of PUBLISHERS) {
      const env = synth.environmentOf(synth.functionResource(t, id));
      expect(env).toMatchObject({
        EVENTS_SINK: 'eventbridge',
        METRICS: 'emf',
        METRICS_NAMESPACE: 'DrydockStatemgmt',
      });
      expect(env.EVENT_BUS_NAME).toBeDefined();
    }
    expect(synth.environmentOf(synth.functionResource(t, 'LeaseSchedule'))).toMatchObject({
      STUCK_RUNNING_SECONDS: '3600',
      STUCK_RUNNING_BOUNDS: '{"deploy_nodes":7200}',
    });
    expect(synth.environmentOf(synth.functionResource(t, 'Messages')).EVENTS_SINK).toBeUndefined();
    // No example rule without a topic to tell.
    const rules = Object.values(synth.resourcesOf(t, 'AWS::Events::Rule'));
    expect(
      rules.some((r) => JSON.stringify(r.Properties?.EventPattern ?? {}).includes('deploy_nodes')),
    ).toBe(false);
  });

  it('has the dashboard and the three alarms, wired to the alarm topic', () => {
    const t = dev.statelessTemplate;
    const dashboards = Object.values(synth.resourcesOf(t, 'AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties?.DashboardBody);
    for (const name of [
      'TasksCreated',
      'TasksClaimed',
      'TasksFinished',
      'ClaimLatency',
      'TaskDuration',
      'QueueDepth',
      'OldestQueuedAge',
      'StuckRunningTasks',
      'LeaseTakeovers',
      'TasksRequeued',
      'SqsRecordsFailed',
      'DesignFetchTime',
      'DesignFetchFailures',
      'EventsPending',
    ]) {
      expect(body).toContain(name);
    }
    const alarms = Object.values(synth.resourcesOf(t, 'AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties?.Namespace === 'DrydockStatemgmt',
    );
    const byMetric = Object.fromEntries(
      alarms.map((a) => [a.Properties?.MetricName, a.Properties]),
    );
    expect(Object.keys(byMetric).sort()).toEqual([
      'LeaseTakeovers',
      'OldestQueuedAge',
      'StuckRunningTasks',
    ]);
    expect(byMetric.OldestQueuedAge).toMatchObject({
      Threshold: 900,
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(byMetric.LeaseTakeovers).toMatchObject({ Threshold: 2, Statistic: 'Sum', Period: 900 });
    expect(byMetric.StuckRunningTasks).toMatchObject({ Threshold: 1, EvaluationPeriods: 3 });
    for (const alarm of alarms) {
      expect(alarm.Properties?.Dimensions).toEqual([
        { Name: 'service', Value: 'drydock-statemgmt' },
      ]);
      expect(JSON.stringify(alarm.Properties?.AlarmActions)).toContain(
        'arn:aws:sns:eu-west-1:123456789012:ops',
      );
    }
  });
});

describe('observability, the default bus and the example rule', () => {
  const dev = synth.synthesizedStage('dev', {
    context: {
      eventBusName: 'default',
      deployFailureTopicArn: 'arn:aws:sns:eu-west-1:123456789012:deploy-failures',
    },
  });

  it('puts to the named bus and tells SNS when a deploy_nodes fails', () => {
    const t = dev.statelessTemplate;
    expect(Object.keys(synth.resourcesOf(t, 'AWS::Events::EventBus'))).toHaveLength(0);
    const statement = synth.statementsOf(t).find((s) => s.Action.includes('events:PutEvents'));
    expect(JSON.stringify(statement?.Resource)).toContain(':event-bus/default');
    expect(synth.environmentOf(synth.functionResource(t, 'Tasks')).EVENT_BUS_NAME).toBe('default');
    const rule = Object.values(synth.resourcesOf(t, 'AWS::Events::Rule')).find((r) =>
      JSON.stringify(r.Properties?.EventPattern ?? {}).includes('deploy_nodes'),
    );
    expect(rule?.Properties?.EventPattern).toEqual({
      source: ['drydock.statemgmt'],
      'detail-type': ['Task Status Change'],
      detail: {
        action: ['deploy_nodes'],
        new_status: ['complete', 'terminated'],
        result_status: ['failure', 'partial_success'],
      },
    });
    expect(JSON.stringify(rule?.Properties?.Targets)).toContain('deploy-failures');
  });
});

describe('observability settings', () => {
  const read = (context: Record<string, unknown>) =>
    resolveStageConfig({ tryGetContext: (key: string) => context[key] });

  it('refuses bounds that are not actions or not seconds, and a topic that is not SNS', () => {
    expect(
      read({ stuckRunningBounds: { deploy_nodes: 600 } }).observability.stuckRunningBounds,
    ).toEqual({ deploy_nodes: 600 });
    expect(() => read({ stuckRunningBounds: '{"deploy_everything": 600}' })).toThrow(ConfigError);
    expect(() => read({ stuckRunningBounds: '{"deploy_nodes": 5}' })).toThrow(/60 to 604800/);
    expect(() => read({ stuckRunningBounds: 'nope' })).toThrow(ConfigError);
    expect(() => read({ deployFailureTopicArn: 'arn:aws:sqs:eu-west-1:123456789012:q' })).toThrow(
      /SNS/,
    );
    expect(() => read({ oldestQueuedAlarmSeconds: 10 })).toThrow(/at least 60/);
  });
});
