import { createHash } from 'node:crypto';
import { tenantSchema, type Tenant, type TenantKey } from '../tenants/tenant';
import type { Metrics } from '../observability';
import { redisCall, type Redis } from './redis.client';

export interface TenantCacheOptions {
  keyPrefix: string;
  ttlSeconds: number;
}

/** Lookup result: a tenant, or `undefined` (not in the cache). */
export type CachedTenant = Tenant | undefined;

/**
 * Tenants cached in Redis by account id and by phone number id, with a TTL, under keys of a
 * fixed size (a hash of the id). Only tenants are written: ids no tenant owns are remembered by
 * each process in memory (TenantResolver), so a sender that is not Meta never writes to Redis.
 * Values hold secrets: Redis must be private to the service (AUTH, TLS, network policy).
 */
export class TenantCache {
  constructor(
    private readonly redis: Redis,
    private readonly metrics: Metrics,
    private readonly options: TenantCacheOptions,
  ) {}

  async get(key: TenantKey): Promise<CachedTenant> {
    return this.read(this.redisKey(key));
  }

  /** A cached tenant whose verify token is `token` (indexed by its hash), for subscription checks. */
  async getByVerifyToken(token: string): Promise<Tenant | undefined> {
    return this.read(this.verifyKey(token));
  }

  private async read(redisKey: string): Promise<CachedTenant> {
    const value = await redisCall('tenant cache read', () => this.redis.get(redisKey));
    if (value === null) {
      this.metrics.cacheMiss.inc({ cache: 'tenant' });
      return undefined;
    }
    this.metrics.cacheHit.inc({ cache: 'tenant' });
    const parsed = tenantSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  }

  /** Caches the tenant under every key it owns, plus the key it was asked by. */
  async set(keys: TenantKey[], tenant: Tenant): Promise<void> {
    const value = JSON.stringify(tenant);
    await redisCall('tenant cache write', async () => {
      const pipeline = this.redis.pipeline();
      for (const key of keys) pipeline.set(this.redisKey(key), value, 'EX', this.options.ttlSeconds);
      pipeline.set(this.verifyKey(tenant.verifyToken), value, 'EX', this.options.ttlSeconds);
      await pipeline.exec();
    });
  }

  /**
   * Deletes what Redis holds for one tenant (every key whose record is that tenant), or for all
   * tenants. Returns how many keys went.
   */
  async deleteTenant(tenantId: string | undefined): Promise<number> {
    const pattern = `${this.options.keyPrefix}tenant:*`;
    let deleted = 0;
    await redisCall('tenant cache invalidation', async () => {
      for await (const keys of this.redis.scanStream({ match: pattern, count: 500 }) as AsyncIterable<string[]>) {
        if (keys.length === 0) continue;
        const doomed = tenantId === undefined ? keys : await this.keysOf(keys, tenantId);
        if (doomed.length > 0) deleted += await this.redis.del(...doomed);
      }
    });
    return deleted;
  }

  private async keysOf(keys: string[], tenantId: string): Promise<string[]> {
    const values = await this.redis.mget(keys);
    return keys.filter((_, i) => {
      const value = values[i];
      if (!value) return false;
      try {
        return (JSON.parse(value) as { id?: unknown }).id === tenantId;
      } catch {
        return false;
      }
    });
  }

  async delete(keys: TenantKey[]): Promise<void> {
    if (keys.length === 0) return;
    await redisCall('tenant cache delete', () => this.redis.del(...keys.map((key) => this.redisKey(key))));
  }

  private verifyKey(token: string): string {
    return `${this.options.keyPrefix}tenant:verify:${digest(token)}`;
  }

  private redisKey(key: TenantKey): string {
    return `${this.options.keyPrefix}tenant:${key.by}:${digest(key.id)}`;
  }
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
