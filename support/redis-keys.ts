import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Removes every key under `prefix` (a test's or a bench run's), so runs do not pile up keys for later ones to scan. */
export async function unlinkKeys(redis: Redis, prefix: string): Promise<void> {
  for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<string[]>) {
    if (keys.length > 0) await redis.unlink(...keys);
  }
}

/** The Redis key under which the tenant cache keeps a lookup (a hash of the id: fixed size whatever the id). */
export function tenantCacheKey(prefix: string, by: 'account' | 'phone', id: string): string {
  return `${prefix}tenant:${by}:${createHash('sha256').update(id).digest('base64url')}`;
}
