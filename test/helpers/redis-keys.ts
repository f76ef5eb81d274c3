import type { Redis } from 'ioredis';

/** Removes every key under `prefix` (a test's or a bench run's), so runs do not pile up keys for later ones to scan. */
export async function unlinkKeys(redis: Redis, prefix: string): Promise<void> {
  for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<string[]>) {
    if (keys.length > 0) await redis.unlink(...keys);
  }
}
