import { Redis, type RedisOptions } from 'ioredis';
import { TransientError } from '../errors';

export type { Redis } from 'ioredis';

/** Where Redis is: one URL, or Sentinels that know which server is the master (the URL then gives credentials, db and TLS). */
export interface RedisTarget {
  url: string;
  sentinels?: { nodes: Array<{ host: string; port: number }>; name: string; password?: string };
}

/**
 * A Redis client tuned for the webhook hot path: commands issued in the same tick share one
 * round trip (auto-pipelining), a command never waits for a reconnect (no offline queue: it
 * fails at once, and the caller degrades or retries), and none hangs longer than
 * `commandTimeoutMs`. Reconnection runs in the background forever.
 */
export function createRedis(target: string | RedisTarget, options: { commandTimeoutMs?: number; name?: string } = {}): Redis {
  const { url, sentinels } = typeof target === 'string' ? { url: target, sentinels: undefined } : target;
  const tuning: RedisOptions = {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 1000,
    connectTimeout: 2000,
    connectionName: options.name,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  };
  if (!sentinels) return new Redis(url, tuning);
  const parsed = new URL(url);
  const tls = parsed.protocol === 'rediss:';
  return new Redis({
    ...tuning,
    sentinels: sentinels.nodes,
    name: sentinels.name,
    sentinelPassword: sentinels.password,
    username: decodeURIComponent(parsed.username) || undefined,
    password: decodeURIComponent(parsed.password) || undefined,
    db: Number(parsed.pathname.slice(1)) || 0,
    tls: tls ? {} : undefined,
    enableTLSForSentinelMode: tls,
    // Subscribes to the Sentinels' +switch-master: a promoted replica is used at once, not after the old master's connection times out.
    failoverDetector: true,
    sentinelRetryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    sentinelCommandTimeout: 1000,
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
    // closed below either way
  }
  // With Sentinels, quit() leaves the failover detector's connections to them open (ioredis 6).
  redis.disconnect();
}
