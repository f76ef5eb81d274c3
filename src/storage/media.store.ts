import type { Readable } from 'node:stream';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AppError, TransientError } from '../errors';
import type { Metrics } from '../observability';

/** S3's smallest multipart part; with two parts in flight an upload holds at most ~10 MiB. */
const PART_SIZE = 5 * 1024 * 1024;

/**
 * The media bucket: uploads streamed as multipart (the size is not known in advance and the
 * file is never held whole), presigned GET URLs for consumers, and deletion of a copy that
 * failed verification. Failures of the store itself are TransientError
 * (`object_store_unavailable`); errors raised by the body stream (limits, mismatches) pass through.
 */
export class MediaStore {
  constructor(
    private readonly s3: S3Client,
    /** Signs URLs for consumers; a client on the public endpoint when that differs. */
    private readonly signer: S3Client,
    readonly bucket: string,
    private readonly metrics: Metrics,
  ) {}

  async upload(key: string, body: Readable, contentType: string, metadata: Record<string, string>): Promise<void> {
    const started = performance.now();
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType, Metadata: metadata },
      partSize: PART_SIZE,
      queueSize: 2,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      body.destroy();
      if (err instanceof AppError) throw err;
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof AppError) throw cause;
      throw new TransientError('object_store_unavailable', 'Media upload failed', { cause: err });
    }
    this.metrics.minioUploadDuration.observe({ kind: 'media' }, (performance.now() - started) / 1000);
  }

  /** Rewrites the object's metadata (used when the digest is only known after the upload). */
  async setMetadata(key: string, contentType: string, metadata: Record<string, string>): Promise<void> {
    await this.call('metadata', () =>
      this.s3.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: key,
          CopySource: `${this.bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`,
          MetadataDirective: 'REPLACE',
          ContentType: contentType,
          Metadata: metadata,
        }),
      ),
    );
  }

  async delete(key: string): Promise<void> {
    await this.call('delete', () => this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  async presign(key: string, expiresInSeconds: number): Promise<{ url: string; expiresAt: string }> {
    const url = await getSignedUrl(this.signer, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresInSeconds });
    return { url, expiresAt: new Date(Date.now() + expiresInSeconds * 1000).toISOString() };
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      throw new TransientError('object_store_unavailable', `Media ${operation} failed`, { cause });
    }
  }
}
