import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config';

/**
 * One S3 client for MinIO in production and s3rver locally. The AWS SDK (rather than the
 * `minio` package) because it streams uploads of unknown size as multipart against both
 * servers; the minio client's multipart path needs a listing s3rver does not implement.
 */
export type S3Connection = Pick<Config['s3'], 'endpoint' | 'port' | 'useSsl' | 'accessKey' | 'secretKey' | 'region'>;

export function createS3(config: S3Connection, options: { requestTimeoutMs?: number; endpoint?: string } = {}): S3Client {
  return new S3Client({
    endpoint: options.endpoint ?? `${config.useSsl ? 'https' : 'http'}://${config.endpoint}:${config.port}`,
    region: config.region,
    forcePathStyle: true,
    credentials: { accessKeyId: config.accessKey, secretAccessKey: config.secretKey },
    // Only the checksums S3 itself requires: MinIO and s3rver versions differ in the rest.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 2_000, requestTimeout: options.requestTimeoutMs ?? 30_000 },
  });
}
