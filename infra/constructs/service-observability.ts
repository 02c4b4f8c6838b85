/**
 * Events and operational metrics on AWS: the event bus the outbox publisher puts to (its own, or
 * an existing one such as `default` by name), `events:PutEvents` for the functions that write
 * task status, an example rule (an SNS topic told when a `deploy_nodes` task fails), the
 * CloudWatch dashboard of the EMF metrics the functions write, and alarms on the oldest queued
 * task's age, lease takeovers and tasks stuck running.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '#shared/notify/sinks.ts';
import type { ObservabilityConfig } from '../config/stage-config.ts';
import type { ServiceFunction } from './service-function.ts';

/** The EMF namespace the functions write to (`METRICS_NAMESPACE`). */
export const METRICS_NAMESPACE = 'DrydockStatemgmt';

export interface ServiceObservabilityProps {
  readonly prefix: string;
  readonly serviceName: string;
  readonly config: ObservabilityConfig;
  /** Functions whose writes publish outbox events (they get PutEvents and the bus name). */
  readonly publishers: readonly ServiceFunction[];
  /** The scheduled function that publishes the queue figures (it gets the stuck bounds). */
  readonly schedule: ServiceFunction;
  readonly alarmAction: cloudwatch.IAlarmAction | undefined;
}

/** The example rule's pattern: a `deploy_nodes` task that finished with a failure. */
export const DEPLOY_FAILED_PATTERN: events.EventPattern = {
  source: [EVENT_SOURCE],
  detailType: ['Task Status Change'],
  detail: {
    action: ['deploy_nodes'],
    new_status: ['complete', 'terminated'],
    result_status: ['failure', 'partial_success'],
  },
};

export class ServiceObservability extends Construct {
  readonly bus: events.IEventBus;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: {
    readonly oldestQueued: cloudwatch.Alarm;
    readonly takeovers: cloudwatch.Alarm;
    readonly stuck: cloudwatch.Alarm;
  };
  readonly #service: string;

  constructor(scope: Construct, id: string, props: ServiceObservabilityProps) {
    super(scope, id);
    const { config } = props;
    this.#service = props.serviceName;
    this.bus = config.eventBusName
      ? events.EventBus.fromEventBusName(this, 'Bus', config.eventBusName)
      : new events.EventBus(this, 'Bus', { eventBusName: `${props.prefix}-events` });
    for (const fn of props.publishers) {
      // PutEvents on this bus only: the functions read nothing from EventBridge.
      this.bus.grantPutEventsTo(fn);
      fn.addEnvironment('EVENTS_SINK', 'eventbridge');
      fn.addEnvironment('EVENT_BUS_NAME', this.bus.eventBusName);
    }
    for (const fn of new Set([...props.publishers, props.schedule])) {
      fn.addEnvironment('METRICS', 'emf');
      fn.addEnvironment('METRICS_NAMESPACE', METRICS_NAMESPACE);
    }
    props.schedule.addEnvironment('STUCK_RUNNING_SECONDS', String(config.stuckRunningSeconds));
    if (Object.keys(config.stuckRunningBounds).length > 0) {
      props.schedule.addEnvironment(
        'STUCK_RUNNING_BOUNDS',
        JSON.stringify(config.stuckRunningBounds),
      );
    }
    if (config.deployFailureTopicArn) {
      new events.Rule(this, 'DeployFailedRule', {
        description: `${props.prefix}: a deploy_nodes task failed (example rule)`,
        eventBus: this.bus,
        eventPattern: DEPLOY_FAILED_PATTERN,
        targets: [
          new eventsTargets.SnsTopic(
            sns.Topic.fromTopicArn(this, 'DeployFailedTopic', config.deployFailureTopicArn),
          ),
        ],
      });
    }
    this.alarms = this.createAlarms(props);
    this.dashboard = this.createDashboard(props);
  }

  /** A metric with the service dimension only (the aggregate figures). */
  metric(name: string, statistic: string, period = Duration.minutes(5)): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { service: this.#service },
      statistic,
      period,
    });
  }

  /** The sum over every action (and result) of a per-action metric. */
  private perAction(name: string, statistic: string, dims = 'service,action'): cloudwatch.IMetric {
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{${METRICS_NAMESPACE},${dims}} MetricName="${name}"', '${statistic}', 300)`,
      label: name,
      period: Duration.minutes(5),
    });
  }

  private createAlarms(props: ServiceObservabilityProps): ServiceObservability['alarms'] {
    const { config, prefix } = props;
    const oldestQueued = new cloudwatch.Alarm(this, 'OldestQueuedAlarm', {
      alarmDescription: `${prefix}: a task has waited in the queue over ${config.oldestQueuedAlarmSeconds} s (is an orchestrator claiming?)`,
      metric: this.metric('OldestQueuedAge', 'Maximum'),
      threshold: config.oldestQueuedAlarmSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const takeovers = new cloudwatch.Alarm(this, 'LeaseTakeoverAlarm', {
      alarmDescription: `${prefix}: ${config.takeoverAlarmCount} or more lease takeovers in 15 minutes (orchestrators failing over)`,
      metric: this.metric('LeaseTakeovers', 'Sum', Duration.minutes(15)),
      threshold: config.takeoverAlarmCount,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const stuck = new cloudwatch.Alarm(this, 'StuckRunningAlarm', {
      alarmDescription: `${prefix}: tasks running longer than their action's bound (default ${config.stuckRunningSeconds} s) for 15 minutes`,
      metric: this.metric('StuckRunningTasks', 'Minimum'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [oldestQueued, takeovers, stuck]) {
      if (props.alarmAction) alarm.addAlarmAction(props.alarmAction);
    }
    return { oldestQueued, takeovers, stuck };
  }

  private createDashboard(props: ServiceObservabilityProps): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.prefix,
      defaultInterval: Duration.hours(6),
    });
    const graph = (title: string, left: cloudwatch.IMetric[]) =>
      new cloudwatch.GraphWidget({ title, left, width: 8 });
    dashboard.addWidgets(
      graph('Tasks created, claimed, finished', [
        this.perAction('TasksCreated', 'Sum'),
        this.perAction('TasksClaimed', 'Sum'),
        this.perAction('TasksFinished', 'Sum', 'service,action,result'),
      ]),
      graph('Claim latency p90 (s), per action', [this.perAction('ClaimLatency', 'p90')]),
      graph('Task duration p90 (s), per action', [this.perAction('TaskDuration', 'p90')]),
    );
    dashboard.addWidgets(
      graph('Queue depth and stuck tasks', [
        this.metric('QueueDepth', 'Maximum'),
        this.metric('StuckRunningTasks', 'Maximum'),
      ]),
      new cloudwatch.GraphWidget({
        title: 'Oldest queued task (s)',
        left: [this.metric('OldestQueuedAge', 'Maximum')],
        leftAnnotations: [{ value: props.config.oldestQueuedAlarmSeconds, label: 'alarm' }],
        width: 8,
      }),
      graph('Takeovers, requeued tasks, failed SQS records', [
        this.metric('LeaseTakeovers', 'Sum'),
        this.perAction('TasksRequeued', 'Sum'),
        this.metric('SqsRecordsFailed', 'Sum'),
      ]),
    );
    dashboard.addWidgets(
      graph('Design fetch time p90 (ms) and failures', [
        this.metric('DesignFetchTime', 'p90'),
        this.metric('DesignFetchFailures', 'Sum'),
      ]),
      graph('Outbox events pending', [this.metric('EventsPending', 'Maximum')]),
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: [this.alarms.oldestQueued, this.alarms.takeovers, this.alarms.stuck],
        width: 8,
      }),
    );
    return dashboard;
  }
}
