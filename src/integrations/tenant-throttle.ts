import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { SLIDING_WINDOW_SCRIPT, type Redis } from '../cache';

/**
 * Each tenant's share of Meta's Graph API rate (~80 requests/s per app), counted in Redis over a
 * sliding one-second window so all workers share it; while Redis is away each worker keeps its
 * own count instead.
 */
export class TenantThrottle {
  private readonly limiter: RateLimiterRedis;

  constructor(redis: Redis, options: { perSecond: number; keyPrefix: string }) {
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      points: options.perSecond,
      duration: 1,
      keyPrefix: `${options.keyPrefix}graph-rate`,
      customIncrTtlLuaScript: SLIDING_WINDOW_SCRIPT,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ points: options.perSecond, duration: 1 }),
    });
  }

  /** Resolves when the tenant may make one more request. */
  async wait(tenantId: string): Promise<void> {
    for (;;) {
      try {
        await this.limiter.consume(tenantId);
        return;
      } catch (res) {
        if (!(res instanceof RateLimiterRes)) throw res;
        await new Promise((resolve) => setTimeout(resolve, Math.max(res.msBeforeNext, 5)));
      }
    }
  }
}
