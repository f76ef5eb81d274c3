import { CreateBucketCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Client as MinioClient } from 'minio';
import { TransientError } from '../errors';
import type { Metrics } from '../observability';

export interface StoredObject {
  body: Buffer;
  contentType: string | undefined;
  metadata: Record<string, string>;
}

export interface ListedObject {
  key: string;
  size: number;
  lastModified: Date | undefined;
}

/**
 * Buckets and objects, with every failure of the server (down, 5xx, timeout) as a TransientError.
 * Small PUTs go through the minio client (see createMinio: a third of the CPU), the rest through the AWS SDK.
 */
export class ObjectStore {
  constructor(
    private readonly s3: S3Client,
    private readonly writer: MinioClient,
    private readonly metrics: Metrics,
  ) {}

  async ensureBucket(bucket: string): Promise<void> {
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: bucket }));
      return;
    } catch (err) {
      if (!isNotFound(err)) throw unavailable('check bucket', err);
    }
    await call('create bucket', () => this.s3.send(new CreateBucketCommand({ Bucket: bucket }))).catch((err: unknown) => {
      if (!(err instanceof TransientError && /BucketAlready/.test(String(err.options.cause)))) throw err;
    });
  }

  async put(
    kind: string,
    bucket: string,
    key: string,
    body: Buffer,
    contentType: string,
    metadata: Record<string, string> = {},
    tags: Record<string, string> = {},
  ): Promise<void> {
    const started = performance.now();
    const headers: Record<string, string> = { 'content-type': contentType, 'content-length': String(body.length) };
    for (const [name, value] of Object.entries(metadata)) headers[`x-amz-meta-${name.toLowerCase()}`] = value;
    if (Object.keys(tags).length > 0) headers['x-amz-tagging'] = new URLSearchParams(tags).toString();
    await call('put', async () => {
      const response = await this.writer.makeRequestAsync({ method: 'PUT', bucketName: bucket, objectName: key, headers }, body, [200]);
      await drain(response);
    });
    this.metrics.minioUploadDuration.observe({ kind }, (performance.now() - started) / 1000);
  }

  /** The object, or null when there is none. */
  async get(bucket: string, key: string): Promise<StoredObject | null> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = await out.Body?.transformToByteArray();
      return { body: Buffer.from(bytes ?? []), contentType: out.ContentType, metadata: out.Metadata ?? {} };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw unavailable('get', err);
    }
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    return (await this.metadata(bucket, key)) !== null;
  }

  /** The object's metadata (HEAD), or null when there is none. */
  async metadata(bucket: string, key: string): Promise<Record<string, string> | null> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return out.Metadata ?? {};
    } catch (err) {
      if (isNotFound(err)) return null;
      throw unavailable('head', err);
    }
  }

  /** Every object under `prefix` (all pages), optionally only keys after `startAfter`. */
  async *list(bucket: string, prefix: string, startAfter?: string): AsyncGenerator<ListedObject> {
    let token: string | undefined;
    do {
      const page = await call('list', () =>
        this.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, StartAfter: token ? undefined : startAfter })),
      );
      for (const item of page.Contents ?? []) {
        if (item.Key) yield { key: item.Key, size: item.Size ?? 0, lastModified: item.LastModified };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Round trip to the server for readiness: the bucket must answer. */
  async ping(bucket: string): Promise<void> {
    await call('ping', () => this.s3.send(new HeadBucketCommand({ Bucket: bucket })));
  }
}

/** Reads the (empty) answer to the end, so its keep-alive connection serves the next request. */
function drain(response: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    response.on('error', reject).on('end', resolve).resume();
  });
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.name === 'NoSuchBucket' || e.$metadata?.httpStatusCode === 404;
}

function unavailable(operation: string, cause: unknown): TransientError {
  return new TransientError('object_store_unavailable', `Object store ${operation} failed`, { cause });
}

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw unavailable(operation, err);
  }
}
