import { PutBucketLifecycleConfigurationCommand, type LifecycleRule, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../observability';
import { FAILED_PREFIX, RAW_TAG } from './raw-payload.store';

export interface RetentionDays {
  /** Raw payloads (tagged `kind=raw`); 0 keeps them forever. */
  raw: number;
  /** Failed payloads (under `failed/`), kept longer so they can be replayed; 0 keeps them forever. */
  failed: number;
  /** Customer media (the whole media bucket); 0 keeps it forever. */
  media: number;
}

/** Lifecycle rules per bucket for the configured retention (a bucket with no rule is absent). */
export function retentionRules(days: RetentionDays): { raw: LifecycleRule[]; media: LifecycleRule[] } {
  const rule = (id: string, expireAfter: number, filter: LifecycleRule['Filter']): LifecycleRule[] =>
    expireAfter > 0
      ? [{ ID: id, Status: 'Enabled', Filter: filter, Expiration: { Days: expireAfter }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }]
      : [];
  return {
    raw: [
      ...rule('raw-payloads', days.raw, { Tag: { Key: RAW_TAG.key, Value: RAW_TAG.value } }),
      ...rule('failed-payloads', days.failed, { Prefix: FAILED_PREFIX }),
    ],
    media: rule('media', days.media, { Prefix: '' }),
  };
}

/**
 * Applies the retention rules at start (idempotent: the bucket's lifecycle configuration is
 * replaced by these rules). An object store without lifecycle support (s3rver, used locally)
 * keeps everything: that is logged, and the service runs on.
 */
export async function applyRetention(s3: S3Client, buckets: { raw: string; media: string }, days: RetentionDays, logger: Logger): Promise<void> {
  const rules = retentionRules(days);
  for (const [bucket, bucketRules] of [
    [buckets.raw, rules.raw],
    [buckets.media, rules.media],
  ] as const) {
    if (bucketRules.length === 0) continue;
    try {
      await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: bucketRules } }));
      logger.info('retention rules applied', { bucket, rules: bucketRules.map((r) => `${r.ID}: ${r.Expiration?.Days ?? '-'} days`) });
    } catch (err) {
      const notImplemented = (err as { name?: string }).name === 'NotImplemented';
      logger.warn(notImplemented ? 'object store has no lifecycle support: retention is not enforced' : 'retention rules could not be applied', {
        bucket,
        cause: String(err),
      });
    }
  }
}
