import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** A Secrets Manager stand-in: `GetSecretValue` over the SDK's JSON protocol, nothing else. */
export interface SecretsManagerStandIn {
  /** For `AWS_ENDPOINT_URL_SECRETS_MANAGER` or a client's `endpoint`. */
  readonly endpoint: string;
  /** Secret ids asked for, in order. */
  readonly reads: string[];
  set(arn: string, value: string): void;
  close(): Promise<void>;
}

/**
 * The SDK's own Secrets Manager client pointed at a stand-in's `endpoint` (this one, or a test
 * server playing it): test credentials, one attempt, so a refusal shows at once.
 */
export function secretsManagerClientAt(endpoint: string): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret-key' },
    maxAttempts: 1,
  });
}

/** Starts the stand-in on 127.0.0.1 with the given secrets (ARN → secret string). */
export async function startSecretsManagerStandIn(
  secrets: Record<string, string>,
): Promise<SecretsManagerStandIn> {
  const values = new Map(Object.entries(secrets));
  const reads: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const { SecretId } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        SecretId: string;
      };
      reads.push(SecretId);
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      const value = values.get(SecretId);
      if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue' || value === undefined) {
        res.statusCode = 400;
        res.end(
          JSON.stringify({
            __type: 'ResourceNotFoundException',
            message: "Secrets Manager can't find the specified secret.",
          }),
        );
        return;
      }
      res.end(JSON.stringify({ ARN: SecretId, Name: 'keystone', SecretString: value }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    reads,
    set: (arn, value) => values.set(arn, value),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
