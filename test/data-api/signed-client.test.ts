import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AwsCallError, serviceEndpoint } from '#shared/aws/signed-json.ts';
import { createDataApiClient } from '#shared/db/data-api-client.ts';

/**
 * The own Data API client's wire format, checked against what the SDK would send: the emulator
 * accepts any signature, so here a server signs each request again with the SDK's own signer
 * (same credentials, date and signed headers) and compares.
 */
const CREDENTIALS = {
  accessKeyId: 'AKIDDATAAPITEST00001',
  secretAccessKey: 'data-api-test-secret/with+symbols',
  sessionToken: 'data-api-test-session-token',
};
const REGION = 'eu-central-1';
const TARGET = {
  resourceArn: 'arn:aws:rds:eu-central-1:123456789012:cluster:signed',
  secretArn: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:signed-AbCdEf',
};

interface Seen {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

let server: Server;
let endpoint: string;
const seen: Seen[] = [];
let answer: (res: ServerResponse) => void = (res) => res.end('{}');

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    seen.push({
      path: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    });
    answer(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  vi.unstubAllEnvs();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** The Authorization header the SDK's signer gives the same request at the same instant. */
async function sdkAuthorization(request: Seen): Promise<string> {
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(request.headers.authorization ?? '')?.[1];
  const headers: Record<string, string> = {};
  for (const name of (signedHeaders ?? '').split(';')) {
    if (name === 'x-amz-date' || name === 'x-amz-security-token') continue;
    headers[name] = String(request.headers[name]);
  }
  const amzDate = String(request.headers['x-amz-date']);
  const signer = new SignatureV4({
    service: 'rds-data',
    region: REGION,
    credentials: CREDENTIALS,
    sha256: Sha256,
    // The SDK also signs a payload hash header; the service does not require it, aws4fetch omits it.
    applyChecksum: false,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: request.path,
      headers,
      body: request.body,
    }),
    {
      signingDate: new Date(
        amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'),
      ),
    },
  );
  return String(signed.headers.authorization);
}

describe('the Data API client', () => {
  it('sends each call as a JSON POST signed exactly as the SDK signs it', async () => {
    seen.length = 0;
    answer = (res) => res.end(JSON.stringify({ records: [[{ longValue: 1 }]] }));
    const client = createDataApiClient({ endpoint, region: REGION, credentials: CREDENTIALS });
    const output = await client.executeStatement({ ...TARGET, database: 'd', sql: 'select 1' });
    expect(output.records).toEqual([[{ longValue: 1 }]]);
    const [request] = seen;
    if (!request) throw new Error('no request seen');
    expect(request.path).toBe('/Execute');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-amz-security-token']).toBe(CREDENTIALS.sessionToken);
    expect(JSON.parse(request.body)).toEqual({ ...TARGET, database: 'd', sql: 'select 1' });
    expect(request.headers.authorization).toMatch(
      new RegExp(`Credential=${CREDENTIALS.accessKeyId}/\\d{8}/${REGION}/rds-data/aws4_request`),
    );
    expect(request.headers.authorization).toBe(await sdkAuthorization(request));
  });

  it("reads the function's environment: region, credentials and the endpoint override", async () => {
    seen.length = 0;
    answer = (res) => res.end(JSON.stringify({ transactionId: 'tx-1' }));
    vi.stubEnv('AWS_REGION', REGION);
    vi.stubEnv('AWS_ACCESS_KEY_ID', CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', CREDENTIALS.secretAccessKey);
    vi.stubEnv('AWS_SESSION_TOKEN', CREDENTIALS.sessionToken);
    vi.stubEnv('AWS_ENDPOINT_URL_RDS_DATA', `${endpoint}/`);
    try {
      const client = createDataApiClient();
      expect(await client.beginTransaction(TARGET)).toEqual({ transactionId: 'tx-1' });
      const [request] = seen;
      if (!request) throw new Error('no request seen');
      expect(request.path).toBe('/BeginTransaction');
      expect(request.headers.authorization).toBe(await sdkAuthorization(request));
    } finally {
      vi.unstubAllEnvs();
    }
    expect(serviceEndpoint('RDS Data', 'rds-data', 'us-east-2', {})).toBe(
      'https://rds-data.us-east-2.amazonaws.com',
    );
  });

  it('names errors as the SDK does: the x-amzn-ErrorType header, then the body', async () => {
    const client = createDataApiClient({ endpoint, region: REGION, credentials: CREDENTIALS });
    const call = () => client.executeStatement({ ...TARGET, sql: 'select 1' }).catch((e) => e);
    answer = (res) => {
      res.statusCode = 400;
      res.setHeader('x-amzn-ErrorType', 'DatabaseResumingException:http://internal.amazon.com/');
      res.end(JSON.stringify({ message: 'resuming' }));
    };
    const resuming = await call();
    expect(resuming).toBeInstanceOf(AwsCallError);
    expect(resuming).toMatchObject({
      name: 'DatabaseResumingException',
      message: 'resuming',
      $metadata: { httpStatusCode: 400 },
    });
    answer = (res) => {
      res.statusCode = 429;
      res.end(JSON.stringify({ __type: 'aws.protocol#ThrottlingException', Message: 'slow down' }));
    };
    expect(await call()).toMatchObject({
      name: 'ThrottlingException',
      message: 'slow down',
      $metadata: { httpStatusCode: 429 },
    });
  });

  it('tells a caller deadline (AbortError) from the client timeout (TimeoutError)', async () => {
    answer = () => {}; // never answers
    const client = createDataApiClient({
      endpoint,
      region: REGION,
      credentials: CREDENTIALS,
      requestTimeoutMs: 100,
    });
    const call = (signal?: AbortSignal) =>
      client.executeStatement({ ...TARGET, sql: 'select 1' }, { signal }).catch((e) => e);
    expect(await call()).toMatchObject({ name: 'TimeoutError' });
    expect(await call(AbortSignal.timeout(20))).toMatchObject({ name: 'AbortError' });
  });
});
