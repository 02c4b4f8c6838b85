import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataApiEmulator } from '#test/support/data-api-emulator/index.ts';
import { TEST_DRIVERS } from '#test/support/test-db.ts';
import { answer, apiEvent, type LoadedService, lambdaContext, loadService } from './harness.ts';

/**
 * The Data API adapter is built once per container, but its resume retries must end with the
 * invocation that is waiting for them: a waking cluster answers 503 before the Lambda times out.
 */
describe.runIf(TEST_DRIVERS.includes('data-api'))(
  'Data API retries inside the invocation deadline',
  () => {
    let service: LoadedService;
    let emulator: DataApiEmulator;
    beforeAll(async () => {
      service = await loadService('data-api');
      const dataApi = service.dataApi;
      if (!dataApi) throw new Error('a data-api service has its cluster');
      emulator = dataApi.emulator;
    });
    afterAll(async () => {
      emulator?.clearFaults();
      await service?.close();
    });

    it('answers 503 (retry) within the remaining time while the cluster keeps resuming', async () => {
      emulator.injectFaults({ resumingForMs: 60_000 });
      const context = lambdaContext();
      const deadline = Date.now() + 4_000;
      context.getRemainingTimeInMillis = () => deadline - Date.now();
      const started = Date.now();
      const res = answer(
        await service.fns.tasks.handler(
          apiEvent({ method: 'GET', path: '/api/v1.0/tasks' }),
          context,
        ),
      );
      const elapsed = Date.now() - started;
      emulator.clearFaults();
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ type: 'error', retry: true });
      // Without the deadline the adapter's own budget is 40 s.
      expect(elapsed).toBeLessThan(4_000);
    });

    it('rides out a short resume within the same invocation', async () => {
      emulator.injectFaults({ resumingCalls: 2 });
      const res = answer(
        await service.fns.tasks.handler(
          apiEvent({ method: 'GET', path: '/api/v1.0/tasks' }),
          lambdaContext(),
        ),
      );
      expect(res.status).toBe(200);
    });
  },
);
