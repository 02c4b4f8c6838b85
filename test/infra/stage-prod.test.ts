/**
 * The `prod` stage (bundling skipped; the dev test bundles the same entries), with design
 * sources configured by context to check that their grants reach the design function only.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import * as synth from './synth.ts';

const KEYSTONE_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:drydock/keystone-AbCdEf';
const HTTP_CREDENTIALS_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:drydock/http-credentials-GhIjKl';

const prod = synth.synthesizedStage('prod', {
  context: {
    designKeystoneSecretArn: KEYSTONE_ARN,
    designHttpCredentialsSecretArn: HTTP_CREDENTIALS_ARN,
    designS3Buckets: 'site-designs,shared-designs',
    designFileRoots: '/opt/designs',
    designAllowHosts: 'deckhand.internal,10.0.0.5',
  },
});

describe('prod stage: data is protected', () => {
  it('turns deletion protection on and retains the cluster', () => {
    prod.statefulTemplate.hasResource('AWS::RDS::DBCluster', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        DeletionProtection: true,
        StorageEncrypted: true,
        EnableHttpEndpoint: true,
        BackupRetentionPeriod: 14,
        ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 16 },
      }),
    });
  });

  it('retains the cluster secret with the cluster', () => {
    prod.statefulTemplate.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('adds a reader for failover and keeps log groups', () => {
    expect(
      Object.keys(synth.resourcesOf(prod.statefulTemplate, 'AWS::RDS::DBInstance')),
    ).toHaveLength(2);
    for (const template of [prod.statefulTemplate, prod.statelessTemplate]) {
      for (const group of Object.values(synth.resourcesOf(template, 'AWS::Logs::LogGroup'))) {
        expect(group.DeletionPolicy).toBe('Retain');
      }
    }
  });

  it('turns termination protection on for the stack that holds the database', () => {
    const protection = (id: string) => prod.assembly.getStackArtifact(id).terminationProtection;
    expect(protection(prod.stateful.artifactId)).toBe(true);
    // The stateless stack is meant to be replaced freely.
    expect(protection(prod.stateless.artifactId)).toBeFalsy();
  });

  it('logs at INFO and keeps logs a year', () => {
    for (const fn of Object.values(synth.serviceFunctions(prod.statelessTemplate))) {
      expect(synth.environmentOf(fn).LOG_LEVEL).toBe('INFO');
    }
    for (const group of Object.values(
      synth.resourcesOf(prod.statelessTemplate, 'AWS::Logs::LogGroup'),
    )) {
      expect(group.Properties?.RetentionInDays).toBe(365);
    }
  });
});

describe('prod stage: design sources configured by context', () => {
  // The design function, and the boot-action node function (it renders assets from the design).
  const READERS = ['Design', 'BootActionNodes'];

  it('passes the settings to the design readers only', () => {
    for (const id of READERS) {
      expect(synth.environmentOf(synth.functionResource(prod.statelessTemplate, id))).toMatchObject(
        {
          DESIGN_KEYSTONE_SECRET_ARN: KEYSTONE_ARN,
          DESIGN_HTTP_CREDENTIALS_SECRET_ARN: HTTP_CREDENTIALS_ARN,
          DESIGN_FILE_ROOTS: '/opt/designs',
          DESIGN_ALLOW_HOSTS: 'deckhand.internal,10.0.0.5',
        },
      );
    }
    for (const [logicalId, fn] of Object.entries(synth.serviceFunctions(prod.statelessTemplate))) {
      if (READERS.some((id) => logicalId.startsWith(id))) continue;
      expect(
        Object.keys(synth.environmentOf(fn)).filter((key) => key.startsWith('DESIGN_')),
      ).toEqual([]);
    }
  });

  it('grants the two secrets and read-only access to the two buckets to the design readers only', () => {
    const statements = synth.statementsOf(prod.statelessTemplate);
    const designSecrets = statements.filter((s) =>
      s.Resource.some((r) => r === KEYSTONE_ARN || r === HTTP_CREDENTIALS_ARN),
    );
    expect(designSecrets.length).toBeGreaterThan(0);
    const readerPolicy = /^(Design|BootActionNodes)RoleDefaultPolicy/;
    expect(new Set(designSecrets.map((s) => s.policy)).size).toBe(2);
    for (const statement of designSecrets) expect(statement.policy).toMatch(readerPolicy);
    // (The node function's statement also names the database secret it reads.)
    const named = (r: unknown) => r === KEYSTONE_ARN || r === HTTP_CREDENTIALS_ARN;
    expect(
      designSecrets
        .flatMap((s) => s.Resource)
        .filter(named)
        .sort(),
    ).toEqual([HTTP_CREDENTIALS_ARN, KEYSTONE_ARN, HTTP_CREDENTIALS_ARN, KEYSTONE_ARN].sort());
    const s3 = statements.filter((s) => s.Action.some((a) => a.startsWith('s3:')));
    expect(s3.length).toBeGreaterThan(0);
    for (const statement of s3) {
      expect(statement.policy).toMatch(readerPolicy);
      expect(statement.Action).toEqual(['s3:GetObject']);
    }
    const objects = s3.flatMap((s) => s.Resource).map((r) => JSON.stringify(r));
    expect(objects).toHaveLength(4);
    expect(objects.join()).toMatch(/:s3:::site-designs\/\*"/);
    expect(objects.join()).toMatch(/:s3:::shared-designs\/\*"/);
  });

  it('acknowledges the bucket object wildcards, each for its bucket', () => {
    const acks = synth.acknowledgementsOf(prod.app).filter((a) => a.ruleId.includes(':s3:::'));
    // One per bucket on each design reader's policy.
    expect(acks.map((a) => a.ruleId).sort()).toEqual([
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::shared-designs/*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::shared-designs/*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::site-designs/*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::site-designs/*]',
    ]);
  });
});

describe('prod stage: cdk-nag', () => {
  it('passes AwsSolutions with every acknowledgement silencing a real finding', () => {
    synth.expectEarnedAcknowledgements(prod.app);
  });
});
