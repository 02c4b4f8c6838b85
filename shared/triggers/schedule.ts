import type { Context } from 'aws-lambda';
import * as z from '#shared/zod.ts';
import { type LeaseTick, runLeaseTick } from '../api/leader.ts';
import { runOutboxTick } from '../api/outbox-tick.ts';
import { addInvocationLogKeys, remainingTimeMs } from '../invocation.ts';
import { beforeDeadline, createLambdaKit, type KitOptions } from '../lambda-kit.ts';
import { validate } from '../validate.ts';

/**
 * What the EventBridge rule delivers. Only the fields used are checked; the rest of the envelope
 * (account, region, resources) is AWS's and may grow.
 */
export const ScheduledEventSchema = z.lazySchema(() =>
  z.looseObject({
    'detail-type': z.literal('Scheduled Event'),
    source: z.literal('aws.events'),
    id: z.string().check(z.minLength(1)),
    time: z.iso.datetime({ offset: true }),
  }),
);

export type ScheduledEvent = z.Parsed<typeof ScheduledEventSchema>;

export type ScheduleHandlerOptions = KitOptions;

/**
 * The one-minute lease schedule (see `runLeaseTick`): by default it holds no lease and keeps the
 * lease honest, recovering the work of dead epochs; with `LEASE_MODE=hold` it holds the lease for
 * `LEASE_INSTANCE_ID`, an orchestrator running inside it. Then the daily retention. An error
 * fails the invocation so it shows in the function's error metric; the next tick retries anyway.
 */
export function createLeaseScheduleHandler(
  options: ScheduleHandlerOptions = {},
): (event: unknown, context: Context) => Promise<LeaseTick> {
  const { loadDeps, logger, handler } = createLambdaKit(options);
  const tick = async (event: unknown): Promise<LeaseTick> => {
    const scheduled = validate(ScheduledEventSchema(), event, 'event');
    const deps = await loadDeps();
    // The tick's own lines only: the local server runs ticks beside requests on one logger, whose
    // appended keys every concurrent invocation would write.
    addInvocationLogKeys({ scheduleEventId: scheduled.id });
    const done = await runLeaseTick(deps, remainingTimeMs);
    logger.info('lease tick', { ...done });
    // Events and metrics after the lease's work: a failure here is logged and left to the next
    // tick, never turned into a failed lease tick.
    try {
      const outbox = await runOutboxTick(deps);
      logger.info('outbox tick', { ...outbox });
    } catch (error) {
      logger.warn('outbox tick failed', {
        errorName: (error as Error).name,
        reason: (error as Error).message,
      });
    }
    return done;
  };
  return handler((event, context) => beforeDeadline(tick(event), context));
}
