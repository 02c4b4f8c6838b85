import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type * as z from '#shared/zod.ts';
import type { Deps } from '../deps.ts';
import { errorForLog } from '../error-log.ts';
import { AppError } from '../errors.ts';
import { parseJsonText } from '../input.ts';
import { withLogKeys } from '../invocation.ts';
import { beforeDeadline, createLambdaKit, type KitOptions } from '../lambda-kit.ts';
import { loadOnce } from '../load-once.ts';
import { validate } from '../validate.ts';

/** The Lambda handler type of every SQS consumer (with `ReportBatchItemFailures`). */
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** Applies one validated event; throws to fail that record alone. */
export type ApplyEvent<T> = (deps: Deps, event: T, record: SQSRecord) => Promise<void>;

export type SqsHandlerOptions = KitOptions;

/**
 * Builds an SQS consumer: each record is parsed and validated on its own, then applied; a record
 * that throws is reported in `batchItemFailures` (so SQS redelivers it and, after the queue's
 * maxReceiveCount, moves it to the DLQ) while the rest of the batch commits. Records run one
 * after another so messages for the same task keep their queue order. Idempotency is the
 * `apply` function's job (the SQS message id or the event's own key reaches the store), so a
 * redelivery of an applied record writes nothing.
 *
 * @example export const handler = createSqsHandler(MessageEventSchema, applyMessageEvent)
 */
export function createSqsHandler<T>(
  schema: z.LazySchema<z.ZodMiniType<T>>,
  apply: ApplyEvent<T>,
  options: SqsHandlerOptions = {},
): SqsHandler {
  // Powertools' batch processor loads with the first batch: the function's HTTP handler, in
  // the same bundle, never needs it.
  const batch = loadOnce(async () => {
    const { BatchProcessor, EventType, processPartialResponse } = await import(
      '@aws-lambda-powertools/batch'
    );
    return { processor: new BatchProcessor(EventType.SQS), processPartialResponse };
  });
  const { loadDeps, logger, handler } = createLambdaKit(options);

  const consume = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const [deps, { processor, processPartialResponse }] = await Promise.all([loadDeps(), batch()]);
    // Each record's lines carry its messageId through a log-key scope of its own
    // (`withLogKeys`), not `appendKeys` on the logger: that one is shared by every invocation the
    // process serves (the local server's), so a key appended for one record was on another
    // invocation's lines meanwhile, and its removal took it off this record's later lines.
    const recordHandler = (record: SQSRecord) =>
      withLogKeys({ messageId: record.messageId }, async () => {
        try {
          const body = validate(schema(), parseJsonText(record.body, 'event'), 'event');
          await apply(deps, body, record);
        } catch (error) {
          // The body is never logged: it may be large, and design references may carry secrets.
          // The messageId is named here too, for a logger that does not read the log keys.
          const known = error instanceof AppError;
          logger[known ? 'warn' : 'error']('SQS record failed', {
            messageId: record.messageId,
            errorName: (error as Error).name,
            reason: known ? (error as Error).message : undefined,
            error: known ? undefined : errorForLog(error),
          });
          throw error;
        }
      });
    const response = await processPartialResponse(event, recordHandler, processor, {
      context,
      processInParallel: false,
      throwOnFullBatchFailure: false,
    });
    if (response.batchItemFailures.length > 0) {
      deps.telemetry?.record('SqsRecordsFailed', response.batchItemFailures.length);
    }
    logger.info('SQS batch processed', {
      records: event.Records.length,
      failed: response.batchItemFailures.length,
    });
    return response;
  };
  return handler((event: SQSEvent, context: Context) =>
    beforeDeadline(consume(event, context), context),
  );
}
