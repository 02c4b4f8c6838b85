import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '#shared/config.ts';

describe('configuration', () => {
  it('defaults to PGlite in .data/pglite with the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      db: { driver: 'pglite', dataDir: '.data/pglite' },
      lease: { graceSeconds: 300, mode: 'watch' },
      retention: { days: 90, batchSize: 500 },
      log: { level: 'INFO', serviceName: 'drydock-statemgmt' },
      http: { maxBodyBytes: 1_048_576 },
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.db)).toBe(true);
  });

  it('reads each driver’s settings', () => {
    expect(loadConfig({ DB_DRIVER: 'pg', DATABASE_URL: 'postgres://u@h/db' }).db).toEqual({
      driver: 'pg',
      url: 'postgres://u@h/db',
      statementTimeoutMs: 25_000,
    });
    const secret = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-url-AbCdEf';
    expect(
      loadConfig({ DB_DRIVER: 'pg', DATABASE_SECRET_ARN: secret, DB_STATEMENT_TIMEOUT_MS: '9000' })
        .db,
    ).toEqual({
      driver: 'pg',
      urlSecretArn: secret,
      statementTimeoutMs: 9_000,
    });
    expect(
      loadConfig({
        DB_DRIVER: 'data-api',
        DB_CLUSTER_ARN: 'arn:aws:rds:eu-west-1:123456789012:cluster:drydock',
        DB_SECRET_ARN: secret,
        DB_NAME: 'drydock',
      }).db,
    ).toMatchObject({ driver: 'data-api', database: 'drydock' });
  });

  it('parses the numbers, lists and design options', () => {
    const config = loadConfig({
      LEASE_GRACE_SECONDS: '2',
      LEASE_MODE: 'hold',
      LEASE_INSTANCE_ID: 'orch-1',
      RETENTION_DAYS: '30',
      RETENTION_BATCH_SIZE: '50',
      LOG_LEVEL: 'debug',
      MAX_BODY_BYTES: '4096',
      DESIGN_FILE_ROOTS: '/srv/designs, /etc/drydock ,',
      DESIGN_ALLOW_HOSTS: 'deckhand.local',
      DESIGN_HTTP_RETRIES: '0',
    });
    expect(config.lease).toEqual({ graceSeconds: 2, mode: 'hold', instanceId: 'orch-1' });
    expect(config.retention).toEqual({ days: 30, batchSize: 50 });
    expect(config.log.level).toBe('DEBUG');
    expect(config.design).toMatchObject({
      fileRoots: ['/srv/designs', '/etc/drydock'],
      allowHosts: ['deckhand.local'],
      httpRetries: 0,
      maxBytes: 4 * 1024 * 1024,
      cacheTtlSeconds: 180,
    });
    expect(() => loadConfig({ DESIGN_FILE_ROOTS: 'designs' })).toThrow(/DESIGN_FILE_ROOTS/);
  });

  it('holds the lease in the schedule only as an explicit mode, with its instance id', () => {
    expect(loadConfig({}).lease).toEqual({ graceSeconds: 300, mode: 'watch' });
    expect(() => loadConfig({ LEASE_MODE: 'hold' })).toThrow(/LEASE_INSTANCE_ID/);
    expect(() => loadConfig({ LEASE_INSTANCE_ID: 'orch-1' })).toThrow(/LEASE_MODE=hold/);
    expect(() => loadConfig({ LEASE_MODE: 'always' })).toThrow(/LEASE_MODE/);
  });

  it('fails the cold start naming every bad variable, never echoing values', () => {
    const attempt = () =>
      loadConfig({
        DB_DRIVER: 'data-api',
        LEASE_GRACE_SECONDS: '1e3',
        RETENTION_DAYS: '0',
        DATABASE_URL: 'mysql://root:hunter2@db',
      });
    expect(attempt).toThrow(ConfigError);
    const message = (() => {
      try {
        attempt();
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    for (const name of [
      'LEASE_GRACE_SECONDS',
      'RETENTION_DAYS',
      'DATABASE_URL',
      'DB_CLUSTER_ARN',
    ]) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain('hunter2');
    expect(() => loadConfig({ DB_DRIVER: 'pg' })).toThrow(/DATABASE_URL or DATABASE_SECRET_ARN/);
    expect(() => loadConfig({ DB_DRIVER: 'sqlite' })).toThrow(ConfigError);
  });
});
