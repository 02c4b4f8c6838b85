/**
 * An SQS queue as this service uses them: encrypted at rest, TLS-only, with a dead-letter queue
 * that keeps poison messages for the retention maximum and an alarm as soon as one lands there.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Options of {@link ServiceQueue}. */
export interface ServiceQueueProps {
  /** What the queue carries, for descriptions and alarm texts. */
  readonly purpose: string;
  /** At least six times the consumer's timeout, so a slow batch is not delivered twice. */
  readonly visibilityTimeout: Duration;
  /** Receives before a message moves to the DLQ. @default 5 */
  readonly maxReceiveCount?: number;
  /** Where the DLQ alarm notifies, if anywhere. */
  readonly alarmAction?: cloudwatch.IAlarmAction | undefined;
}

/** A work queue, its dead-letter queue and the DLQ depth alarm. */
export class ServiceQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly deadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ServiceQueueProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'Dlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The maximum: a poison message is evidence, someone has to look at it.
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.deadLetterAlarm = deadLetterAlarm(this, 'DlqAlarm', this.deadLetterQueue, props.purpose);
    if (props.alarmAction) this.deadLetterAlarm.addAlarmAction(props.alarmAction);
  }
}

/** Alarms when any message is visible in a dead-letter queue. */
export function deadLetterAlarm(
  scope: Construct,
  id: string,
  dlq: sqs.IQueue,
  purpose: string,
): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    alarmDescription: `Messages in the dead-letter queue of ${purpose}: they failed every retry`,
    metric: dlq.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: cloudwatch.Stats.MAXIMUM,
    }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}
