import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DesignRefError } from '#shared/design-refs/errors.ts';
import { rejection, startServer, type TestServer, testResolver } from './servers.ts';

const DESIGN = 'apiVersion: drydock/v1\nkind: Region\nmetadata: {name: s3-site}\nspec: {}\n';
const objects = new Map<string, Buffer>([
  ['/site-designs/lab/site v1.yaml', Buffer.from(DESIGN)],
  ['/site-designs/huge.yaml', Buffer.alloc(100 * 1024, 0x61)],
]);

// A minimal S3-compatible endpoint: path-style GetObject, NoSuchKey and AccessDenied as XML.
let s3: TestServer;
beforeAll(async () => {
  s3 = await startServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const error = (status: number, code: string) => {
      res.statusCode = status;
      res.setHeader('content-type', 'application/xml');
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`,
      );
    };
    if (req.method !== 'GET') return error(405, 'MethodNotAllowed');
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256')) {
      return error(403, 'AccessDenied');
    }
    if (path.startsWith('/locked-bucket/')) return error(403, 'AccessDenied');
    const body = objects.get(path);
    if (!body) return error(404, 'NoSuchKey');
    res.setHeader('content-length', String(body.length));
    res.setHeader('content-type', 'application/x-yaml');
    res.end(body);
  });
});
afterAll(() => s3.close());

const client = () =>
  new S3Client({
    endpoint: s3.origin,
    forcePathStyle: true,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret-key' },
    maxAttempts: 1,
  });

describe('s3:// design references', () => {
  it('reads an object through the AWS SDK, path-style, with the key decoded', async () => {
    const r = testResolver({}, { s3Client: client });
    const got = await r.resolve('s3://site-designs/lab/site%20v1.yaml');
    expect(got.bytes.toString()).toBe(DESIGN);
    expect(got.scheme).toBe('s3');
    expect(s3.requests.at(-1)?.url).toMatch(/^\/site-designs\/lab\/site%20v1\.yaml/);
    await r.close();
  });

  it('maps NoSuchKey to not found and AccessDenied to rejected', async () => {
    const r = testResolver({}, { s3Client: client });
    const missing = (await rejection(() =>
      r.resolve('s3://site-designs/nope.yaml'),
    )) as DesignRefError;
    expect(missing).toBeInstanceOf(DesignRefError);
    expect([missing.failure, missing.status]).toEqual(['not_found', 400]);
    const denied = (await rejection(() =>
      r.resolve('s3://locked-bucket/site.yaml'),
    )) as DesignRefError;
    expect([denied.failure, denied.status]).toEqual(['rejected', 502]);
    expect(denied.message).toContain('AccessDenied');
    await r.close();
  });

  it('applies the size cap', async () => {
    const r = testResolver({ maxBytes: 64 * 1024 }, { s3Client: client });
    const e = (await rejection(() => r.resolve('s3://site-designs/huge.yaml'))) as DesignRefError;
    expect([e.failure, e.status]).toEqual(['too_large', 413]);
    await r.close();
  });
});
