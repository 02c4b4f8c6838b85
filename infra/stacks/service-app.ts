/**
 * Assembles the service on an app: the stage configuration from context, the stateful and the
 * stateless stack, tags, and the cdk-nag AwsSolutions checks as a synthesis-time validation (so
 * `cdk synth` and the tests fail on any unacknowledged finding).
 */
import { type App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { resolveStageConfig, SERVICE_NAME, type StageConfig } from '../config/stage-config.ts';
import { StatefulStack } from './stateful-stack.ts';
import { StatelessStack } from './stateless-stack.ts';

/** The stacks of one stage. */
export interface ServiceStacks {
  readonly config: StageConfig;
  readonly stateful: StatefulStack;
  readonly stateless: StatelessStack;
}

/**
 * Adds the service's stacks for the stage named by the `stage` context to `app`. Stacks are
 * environment-agnostic (account and region come from the deploying credentials), so synthesis
 * needs no credentials and no lookups.
 */
export function addServiceStacks(app: App): ServiceStacks {
  const config = resolveStageConfig(app.node);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));

  const stateful = new StatefulStack(app, 'Stateful', {
    stackName: `${config.prefix}-stateful`,
    description: `Drydock statemgmt (${config.stage}): ${config.isLocal ? 'database secret (LocalStack)' : 'VPC and Aurora PostgreSQL Serverless v2'}`,
    // A stack holding the database is never deleted by accident in prod.
    terminationProtection: config.isProd,
    config,
  });
  const stateless = new StatelessStack(app, 'Stateless', {
    stackName: `${config.prefix}-stateless`,
    description: `Drydock statemgmt (${config.stage}): functions, REST API, queues, schedule`,
    config,
    database: stateful.database,
  });
  stateless.addStackDependency(
    stateful,
    'the functions use the database and the migration runs against it',
  );

  Tags.of(app).add('service', SERVICE_NAME);
  Tags.of(app).add('stage', config.stage);
  return { config, stateful, stateless };
}
