/**
 * What holds data and must outlive a redeploy of the code: the network and the Aurora cluster
 * (or, for LocalStack, the secret that points at a Postgres server). Kept apart from the
 * functions so that deploying code never puts the database at risk.
 */
import {
  Duration,
  RemovalPolicy,
  SecretValue,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config/stage-config.ts';
import {
  dataApiDatabase,
  postgresUrlDatabase,
  type ServiceDatabase,
} from '../constructs/service-database.ts';
import { toRetention } from '../constructs/service-function.ts';

/** Aurora PostgreSQL 17 has the Data API for Serverless v2 and supports auto-pause (0 ACU). */
export const ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_17_9;

/** Options of {@link StatefulStack}. */
export interface StatefulStackProps extends StackProps {
  readonly config: StageConfig;
}

/** The VPC and the Aurora Serverless v2 cluster, or the LocalStack database secret. */
export class StatefulStack extends Stack {
  /** How functions reach the database. */
  readonly database: ServiceDatabase;
  /** The cluster; undefined in the `local` stage. */
  readonly cluster: rds.DatabaseCluster | undefined;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { config } = props;
    if (config.isLocal) {
      this.cluster = undefined;
      this.database = postgresUrlDatabase(this.localDatabaseSecret(config));
      return;
    }
    const cluster = this.auroraCluster(config);
    this.cluster = cluster;
    // fromGeneratedSecret always attaches a secret; the guard only satisfies the type.
    if (!cluster.secret) throw new Error('the cluster has no generated secret');
    this.database = dataApiDatabase(cluster, cluster.secret, config.database.name);
  }

  private auroraCluster(config: StageConfig): rds.DatabaseCluster {
    const { database: db } = config;
    const removalPolicy = config.isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // Isolated subnets only: the functions reach the database over the Data API, an AWS
    // endpoint, so nothing needs a route out and no NAT gateway is paid for.
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [
        { name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
    });
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: toRetention(config.logRetentionDays),
      removalPolicy,
    });
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });

    // Named so the PostgreSQL log group below can be created (with a retention) before RDS
    // creates it without one.
    const clusterIdentifier = `${config.prefix}-db`;
    const postgresLogs = new logs.LogGroup(this, 'PostgresLogs', {
      logGroupName: `/aws/rds/cluster/${clusterIdentifier}/postgresql`,
      retention: toRetention(config.logRetentionDays),
      removalPolicy,
    });

    const autoPause = db.minCapacity === 0;
    const readers = Array.from({ length: db.readers }, (_, index) =>
      rds.ClusterInstance.serverlessV2(`reader${index + 1}`, {
        // Tier 0/1 readers scale with the writer, so a failover lands on a warm instance.
        scaleWithWriter: true,
        publiclyAccessible: false,
      }),
    );
    const cluster = new rds.DatabaseCluster(this, 'Cluster', {
      clusterIdentifier,
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: ENGINE_VERSION }),
      writer: rds.ClusterInstance.serverlessV2('writer', { publiclyAccessible: false }),
      readers,
      serverlessV2MinCapacity: db.minCapacity,
      serverlessV2MaxCapacity: db.maxCapacity,
      ...(autoPause
        ? { serverlessV2AutoPauseDuration: Duration.minutes(db.autoPauseMinutes) }
        : {}),
      credentials: rds.Credentials.fromGeneratedSecret('drydock_admin'),
      defaultDatabaseName: db.name,
      enableDataApi: true,
      storageEncrypted: true,
      iamAuthentication: true,
      backup: { retention: Duration.days(db.backupRetentionDays) },
      cloudwatchLogsExports: ['postgresql'],
      copyTagsToSnapshot: true,
      deletionProtection: config.isProd,
      // Production keeps the cluster when the stack goes; a dev stack leaves a final snapshot.
      removalPolicy: config.isProd ? RemovalPolicy.RETAIN : RemovalPolicy.SNAPSHOT,
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    });
    cluster.node.addDependency(postgresLogs);

    if (!config.isProd) {
      Validations.of(cluster).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason:
          'Deletion protection is on in prod; dev clusters are disposable and removed with a final snapshot (RemovalPolicy.SNAPSHOT).',
      });
    }
    // The generated secret construct (`cluster.secret` is its attachment to the cluster).
    const secret = cluster.node.findChild('Secret') as secretsmanager.Secret;
    // A retained prod cluster keeps the credentials that open it.
    secret.applyRemovalPolicy(removalPolicy);
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Single-user rotation needs a rotation Lambda inside the VPC plus a Secrets Manager interface endpoint, which this NAT-less VPC deliberately does not have; only the database functions can read the secret (grantDataApiAccess), and rotation can be added with cluster.addRotationSingleUser() once an endpoint is paid for.',
    });
    return cluster;
  }

  /**
   * LocalStack's RDS and Data API are paid features, so the `local` stage points the `pg` driver
   * at a Postgres server; the URL goes into a secret so the function environment holds only ARNs.
   */
  private localDatabaseSecret(config: StageConfig): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, 'DatabaseUrl', {
      description: `${config.prefix}: Postgres URL for the pg driver (LocalStack stage)`,
      // The URL is a deploy input for a local emulator, not a generated credential; in an AWS
      // stage the cluster secret is generated and never appears in a template.
      secretStringValue: SecretValue.unsafePlainText(config.databaseUrl),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'LocalStack stage only: the secret holds the URL of a developer Postgres server that no rotation Lambda could change.',
    });
    return secret;
  }
}
