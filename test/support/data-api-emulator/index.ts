import { type DataApiEmulator, startDataApiEmulator } from './server.ts';

export {
  type CallCounts,
  type DataApiEmulator,
  type DataApiEmulatorOptions,
  type EmulatedCluster,
  type EmulatedSecret,
  type FaultPlan,
  type OperationName,
  startDataApiEmulator,
} from './server.ts';

/** The region and account the tests' ARNs pretend to live in. */
export const TEST_REGION = 'us-east-1';
const ACCOUNT = '123456789012';

/** A cluster ARN for a test database (one per test schema). */
export function testClusterArn(name: string): string {
  return `arn:aws:rds:${TEST_REGION}:${ACCOUNT}:cluster:${name}`;
}

/** The secret every test cluster accepts; the emulator maps it to the test server's user. */
export const TEST_SECRET_ARN = `arn:aws:secretsmanager:${TEST_REGION}:${ACCOUNT}:secret:rds!cluster-drydock-test-AbCdEf`;

/** Dummy credentials: the emulator accepts any SigV4 signature. */
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'emulator' };

let shared: { emulator: Promise<DataApiEmulator>; users: number } | undefined;

/**
 * One emulator per test process, shared by every data-api test database in it, and closed when
 * the last one is released (so a test file leaves no server behind).
 */
export function acquireSharedEmulator(): Promise<DataApiEmulator> {
  if (!shared) {
    shared = {
      emulator: startDataApiEmulator({
        secrets: { [TEST_SECRET_ARN]: { username: 'postgres' } },
      }),
      users: 0,
    };
  }
  shared.users += 1;
  return shared.emulator;
}

/** Gives back what `acquireSharedEmulator` handed out. */
export async function releaseSharedEmulator(): Promise<void> {
  if (!shared) return;
  shared.users -= 1;
  if (shared.users > 0) return;
  const { emulator } = shared;
  shared = undefined;
  await (await emulator).close();
}
