import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from './redis.client';
import { SLIDING_WINDOW_SCRIPT } from './sliding-window';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the current window ends (when a request over the limit may be tried again). */
  resetSeconds: number;
  /** False when Redis was unavailable and this instance counted on its own. */
  shared: boolean;
}

/**
 * Requests per minute per tenant, counted in Redis so every receiver shares one budget. While
 * Redis is unavailable each instance counts in memory (fixed window, same limit), so a flood is
 * still held back per instance and the webhook path never waits for Redis.
 */
export class TenantRateLimiter {
  private readonly limiters = new Map<number, { shared: RateLimiterRedis; local: RateLimiterMemory }>();

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    /** The window; requests are counted per minute in the service (tests use shorter ones). */
    private readonly windowSeconds = 60,
  ) {
    // The first limiter defines its Lua command on the client. Done here, before any traffic:
    // defined later, it would be missing from an auto-pipeline already being filled in the same
    // tick, and ioredis then fails the whole pipeline (and throws from its callback).
    this.limiterFor(1);
  }

  async consume(tenantId: string, perMinute: number): Promise<RateDecision> {
    const { shared } = this.limiterFor(perMinute);
    let res: RateLimiterRes;
    try {
      // The tenant as a hash tag: the sliding window's script derives its per-window keys from this one.
      res = await shared.consume(`{${tenantId}}`);
    } catch (rejected) {
      if (!(rejected instanceof RateLimiterRes)) throw rejected;
      res = rejected;
    }
    return {
      allowed: res.consumedPoints <= perMinute,
      limit: perMinute,
      remaining: Math.max(0, perMinute - res.consumedPoints),
      resetSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
      shared: this.redis.status === 'ready',
    };
  }

  private limiterFor(perMinute: number): { shared: RateLimiterRedis; local: RateLimiterMemory } {
    let limiter = this.limiters.get(perMinute);
    if (!limiter) {
      const local = new RateLimiterMemory({ points: perMinute, duration: this.windowSeconds });
      const shared = new RateLimiterRedis({
        storeClient: this.redis,
        points: perMinute,
        duration: this.windowSeconds,
        keyPrefix: `${this.keyPrefix}rate:${perMinute}`,
        customIncrTtlLuaScript: SLIDING_WINDOW_SCRIPT,
        rejectIfRedisNotReady: true,
        insuranceLimiter: local,
      });
      limiter = { shared, local };
      this.limiters.set(perMinute, limiter);
    }
    return limiter;
  }
}
