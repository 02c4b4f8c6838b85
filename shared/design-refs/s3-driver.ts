import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DesignRef } from './design-ref.ts';
import { DesignRefError } from './errors.ts';

/**
 * Reads `s3://bucket/key` with the AWS SDK (the service's own IAM role; the SDK's standard
 * retries apply, bounded by the caller's deadline through the abort signal). The SSRF guard does
 * not apply: the endpoint is AWS's or one the operator configured, never taken from the reference.
 */
export function createS3Driver(options: { client: () => S3Client; maxBytes: number }) {
  return async (ref: DesignRef, signal: AbortSignal): Promise<Buffer> => {
    const bucket = ref.url.hostname;
    let key: string;
    try {
      key = decodeURIComponent(ref.url.pathname.slice(1));
    } catch {
      throw new DesignRefError('refused', `${ref.redacted}: the key is not valid percent-encoding`);
    }
    const tooLarge = () =>
      new DesignRefError(
        'too_large',
        `${ref.redacted}: the design is larger than ${options.maxBytes} bytes (DESIGN_MAX_BYTES)`,
      );
    try {
      const out = await options
        .client()
        .send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
      if ((out.ContentLength ?? 0) > options.maxBytes) {
        (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
        throw tooLarge();
      }
      const body = out.Body as AsyncIterable<Uint8Array> | undefined;
      if (!body) return Buffer.alloc(0);
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of body) {
        total += chunk.length;
        if (total > options.maxBytes) {
          (body as { destroy?: () => void }).destroy?.();
          throw tooLarge();
        }
        chunks.push(Buffer.from(chunk));
      }
      return Buffer.concat(chunks, total);
    } catch (error) {
      if (error instanceof DesignRefError) throw error;
      throw s3Error(error, ref.redacted, signal);
    }
  };
}

function s3Error(error: unknown, shown: string, signal: AbortSignal): DesignRefError {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  if (signal.aborted || e.name === 'AbortError' || e.name === 'TimeoutError') {
    return new DesignRefError('timeout', `${shown}: no complete response before the deadline`, {
      cause: error,
    });
  }
  if (e.name === 'NoSuchKey' || e.name === 'NoSuchBucket' || status === 404) {
    return new DesignRefError('not_found', `${shown}: no such object`);
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return new DesignRefError('rejected', `${shown}: S3 refused the request (${e.name ?? status})`);
  }
  return new DesignRefError('unavailable', `${shown}: S3 request failed (${e.name ?? 'error'})`, {
    cause: error,
  });
}
