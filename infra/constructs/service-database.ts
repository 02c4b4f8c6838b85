/**
 * How a function reaches the database, as the stateless stack sees it: the environment the
 * composition root reads to pick and configure its `Db` adapter, and the grant that goes with it.
 * The stateful stack builds one of the two variants; functions never see which.
 */
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { IConstruct } from 'constructs';

/** The database as a function sees it. */
export interface ServiceDatabase {
  /** `DB_DRIVER` and the settings that driver reads. */
  readonly environment: Readonly<Record<string, string>>;
  /** Grants exactly what the driver needs, nothing account-wide. */
  grantAccess(grantee: iam.IGrantable): void;
  /** Constructs a deploy-time step must wait for (the cluster and its instances). */
  readonly dependables: readonly IConstruct[];
}

/**
 * Aurora through the RDS Data API: `grantDataApiAccess` allows the five statement and
 * transaction actions on this cluster's ARN only, and read access to this cluster's secret only.
 */
export function dataApiDatabase(
  cluster: rds.DatabaseCluster,
  secret: secretsmanager.ISecret,
  databaseName: string,
): ServiceDatabase {
  return {
    environment: {
      DB_DRIVER: 'data-api',
      DB_CLUSTER_ARN: cluster.clusterArn,
      DB_SECRET_ARN: secret.secretArn,
      DB_NAME: databaseName,
    },
    grantAccess: (grantee) => {
      cluster.grantDataApiAccess(grantee);
    },
    dependables: [cluster],
  };
}

/**
 * A Postgres server reached with the `pg` driver (the LocalStack stage): the URL lives in a
 * secret, so it never appears in the function configuration.
 */
export function postgresUrlDatabase(urlSecret: secretsmanager.ISecret): ServiceDatabase {
  return {
    environment: {
      DB_DRIVER: 'pg',
      DATABASE_SECRET_ARN: urlSecret.secretArn,
    },
    grantAccess: (grantee) => {
      urlSecret.grantRead(grantee);
    },
    dependables: [urlSecret],
  };
}
