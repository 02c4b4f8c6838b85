/**
 * Every bound the service puts on a request, once: the zod schemas, the store's own checks, the
 * design-reference parser and the configuration read them from here. Length bounds are generous
 * (Drydock's varchar limits broke real data, defect 21) but finite, so one request cannot ask
 * the database to store a 1 GB string; names are long enough for any real host, rack or
 * generator.
 */
export const LIMITS = {
  name: 1024,
  /** A design reference, wherever one is given (tasks, `/designs/resolve`, `/validatedesign`). */
  designRef: 2048,
  message: 65_536,
  contextType: 256,
  idempotencyKey: 256,
  /** A page of tasks, messages or stuck tasks. */
  listPage: 1000,
  layers: 100,
  /** Retention age in days (`DELETE /tasks?days=`, `RETENTION_DAYS`). */
  days: 36_500,
  /** Messages or build-data items in one write. */
  batch: 1000,
  /** Tasks claimed by one call. */
  claim: 100,
  /** A lease's grace period (`grace_seconds`, `LEASE_GRACE_SECONDS`). */
  graceSeconds: 86_400,
  /** Top-level tasks deleted per retention batch (`RETENTION_BATCH_SIZE`). */
  retentionBatch: 10_000,
} as const;
