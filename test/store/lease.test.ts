import { beforeEach, describe, expect, it } from 'vitest';
import { sql, statement } from '#shared/db/sql.ts';
import { LeaseLostError, ValidationError } from '#shared/errors.ts';
import { checkDatabase } from '#shared/store/health.ts';
import {
  abdicateLease,
  claimLease,
  claimMaintenance,
  readLease,
  renewLease,
} from '#shared/store/lease.ts';
import { ageLease, ageMaintenance, resetTables } from '#test/support/store-fixtures.ts';
import { TEST_DRIVERS, testDatabase } from '#test/support/test-db.ts';

describe.each(TEST_DRIVERS)('lease on %s', (driver) => {
  const t = testDatabase(driver);
  beforeEach(async () => resetTables(t.db));

  it('grants the first claim, refuses others while it is live, and refreshes a re-entrant claim', async () => {
    expect(await readLease(t.db)).toBeNull();
    const a = await claimLease(t.db, { instanceId: 'a', graceSeconds: 60 });
    expect(a).toMatchObject({ holder: 'a', epoch: 1, held: true, active: true });
    const b = await claimLease(t.db, { instanceId: 'b', graceSeconds: 60 });
    expect(b).toMatchObject({ holder: 'a', epoch: 1, held: false });
    await ageLease(t.db, 10);
    const aged = await readLease(t.db);
    const again = await claimLease(t.db, { instanceId: 'a', graceSeconds: 60 });
    expect(again).toMatchObject({
      holder: 'a',
      epoch: 1,
      held: true,
      acquiredAt: aged?.acquiredAt,
    });
    // Drydock's re-entrant claim never refreshed: this one moves the expiry by the time gone by.
    expect(Date.parse(again.expiresAt) - Date.parse(aged?.expiresAt ?? '')).toBeGreaterThanOrEqual(
      10_000,
    );
  });

  it('lets another instance take over only after the grace period, bumping the epoch', async () => {
    await claimLease(t.db, { instanceId: 'a', graceSeconds: 1 });
    expect((await claimLease(t.db, { instanceId: 'b', graceSeconds: 1 })).held).toBe(false);
    await ageLease(t.db, 1);
    const b = await claimLease(t.db, { instanceId: 'b', graceSeconds: 60 });
    expect(b).toMatchObject({ holder: 'b', epoch: 2, held: true });
    await expect(
      renewLease(t.db, { instanceId: 'a', epoch: 1, graceSeconds: 60 }),
    ).rejects.toBeInstanceOf(LeaseLostError);
  });

  it('renews only the live lease of its holder at its epoch', async () => {
    const a = await claimLease(t.db, { instanceId: 'a', graceSeconds: 1 });
    const renewed = await renewLease(t.db, { instanceId: 'a', epoch: a.epoch, graceSeconds: 60 });
    expect(renewed.expiresAt > a.expiresAt).toBe(true);
    await expect(
      renewLease(t.db, { instanceId: 'a', epoch: a.epoch + 1, graceSeconds: 60 }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    await expect(
      renewLease(t.db, { instanceId: 'b', epoch: a.epoch, graceSeconds: 60 }),
    ).rejects.toBeInstanceOf(LeaseLostError);
  });

  it("treats the holder's own claim after a lapse as a takeover with a new epoch", async () => {
    await claimLease(t.db, { instanceId: 'a', graceSeconds: 1 });
    await ageLease(t.db, 1);
    await expect(
      renewLease(t.db, { instanceId: 'a', epoch: 1, graceSeconds: 60 }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    expect(await claimLease(t.db, { instanceId: 'a', graceSeconds: 60 })).toMatchObject({
      epoch: 2,
      held: true,
    });
  });

  it('abdicates at once and keeps the epoch growing', async () => {
    const a = await claimLease(t.db, { instanceId: 'a', graceSeconds: 300 });
    await expect(abdicateLease(t.db, { instanceId: 'b', epoch: a.epoch })).rejects.toBeInstanceOf(
      LeaseLostError,
    );
    await abdicateLease(t.db, { instanceId: 'a', epoch: a.epoch });
    expect((await readLease(t.db))?.active).toBe(false);
    expect(await claimLease(t.db, { instanceId: 'b', graceSeconds: 300 })).toMatchObject({
      held: true,
      epoch: 2,
    });
  });

  it('refuses a nonsensical grace period', async () => {
    await expect(claimLease(t.db, { instanceId: 'a', graceSeconds: 0 })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('claims a maintenance job once per interval', async () => {
    expect(await claimMaintenance(t.db, { job: 'retention', intervalSeconds: 86_400 })).toBe(true);
    expect(await claimMaintenance(t.db, { job: 'retention', intervalSeconds: 86_400 })).toBe(false);
    expect(await claimMaintenance(t.db, { job: 'other', intervalSeconds: 86_400 })).toBe(true);
    // A run 30 s ago: too recent for an hourly job, due for one every 30 s.
    await ageMaintenance(t.db, 'retention', 30);
    expect(await claimMaintenance(t.db, { job: 'retention', intervalSeconds: 3_600 })).toBe(false);
    expect(await claimMaintenance(t.db, { job: 'retention', intervalSeconds: 30 })).toBe(true);
    expect(await claimMaintenance(t.db, { job: 'retention', intervalSeconds: 30 })).toBe(false);
  });

  it('reads the database clock for health without writing', async () => {
    const { dbNow } = await checkDatabase(t.db);
    expect(Math.abs(Date.parse(dbNow) - Date.now())).toBeLessThan(60_000);
  });
});

// Drydock stored the heartbeat in a naive timestamp and compared it with now(): under Berlin a
// live leader was usurped at once, under Chicago a dead one was never replaced.
describe.runIf(TEST_DRIVERS.includes('pg'))('lease under non-UTC session time zones', () => {
  const t = testDatabase('pg');

  it.each(['Europe/Berlin', 'America/Chicago', 'Pacific/Kiritimati'])(
    'holds under %s',
    async (zone) => {
      await resetTables(t.db);
      const db = t.connect({ TimeZone: zone }, 2);
      const [session] = await db.query(
        statement({ zone: 'text' }, sql`select current_setting('TimeZone') as zone`),
      );
      expect(session?.zone).toBe(zone);
      const a = await claimLease(db, { instanceId: 'a', graceSeconds: 2 });
      expect(a.held).toBe(true);
      expect(a.expiresAt.endsWith('Z')).toBe(true);
      expect(Date.parse(a.expiresAt) - Date.parse(a.acquiredAt)).toBe(2_000);
      expect((await claimLease(db, { instanceId: 'b', graceSeconds: 2 })).held).toBe(false); // no split brain
      await ageLease(db, 2); // the holder fell silent for its whole grace period
      expect(await claimLease(db, { instanceId: 'b', graceSeconds: 2 })).toMatchObject({
        held: true,
        epoch: 2,
      }); // no stuck leader
    },
  );
});
