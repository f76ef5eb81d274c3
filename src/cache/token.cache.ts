import { redisCall, type Redis } from './redis.client';

/**
 * Tenants' WhatsApp access tokens, cached in Redis (24 hours by default) so media downloads do
 * not need the tenant source. Invalidated when the tenant changes or Meta refuses the token.
 */
export class TokenCache {
  constructor(
    private readonly redis: Redis,
    private readonly options: { keyPrefix: string; ttlSeconds: number },
  ) {}

  async get(tenantId: string): Promise<string | null> {
    return redisCall('token cache read', () => this.redis.get(this.key(tenantId)));
  }

  async set(tenantId: string, token: string): Promise<void> {
    await redisCall('token cache write', () => this.redis.set(this.key(tenantId), token, 'EX', this.options.ttlSeconds));
  }

  async delete(tenantId: string): Promise<number> {
    return redisCall('token cache delete', () => this.redis.del(this.key(tenantId)));
  }

  /** Forgets every tenant's token; returns how many were cached. */
  async deleteAll(): Promise<number> {
    let deleted = 0;
    await redisCall('token cache invalidation', async () => {
      for await (const keys of this.redis.scanStream({ match: `${this.options.keyPrefix}token:*`, count: 500 }) as AsyncIterable<string[]>) {
        if (keys.length > 0) deleted += await this.redis.del(...keys);
      }
    });
    return deleted;
  }

  private key(tenantId: string): string {
    return `${this.options.keyPrefix}token:${tenantId}`;
  }
}
