import { Redis } from 'ioredis';
import { TransientError } from '../errors';

export type { Redis } from 'ioredis';

/**
 * A Redis client tuned for the webhook hot path: commands issued in the same tick share one
 * round trip (auto-pipelining), a command never waits for a reconnect (no offline queue: it
 * fails at once, and the caller degrades or retries), and none hangs longer than
 * `commandTimeoutMs`. Reconnection runs in the background forever.
 */
export function createRedis(url: string, options: { commandTimeoutMs?: number; name?: string } = {}): Redis {
  return new Redis(url, {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 1000,
    connectTimeout: 2000,
    connectionName: options.name,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  });
}

/** Resolves when the client is ready, or rejects after `timeoutMs` (the client keeps reconnecting). */
export function waitForRedis(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new TransientError('redis_unavailable', `Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/** Runs a Redis operation, turning any failure into a TransientError (`redis_unavailable`). */
export async function redisCall<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (cause) {
    throw new TransientError('redis_unavailable', `Redis ${operation} failed`, { cause });
  }
}

/** Closes the client, waiting for replies to commands already sent; idempotent. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
