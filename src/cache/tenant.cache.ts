import { createHash } from 'node:crypto';
import { tenantSchema, type Tenant, type TenantKey } from '../tenants/tenant';
import type { Metrics } from '../observability';
import { redisCall, type Redis } from './redis.client';

export interface TenantCacheOptions {
  keyPrefix: string;
  ttlSeconds: number;
}

/** A tenant as the Redis cache holds it: how many of its keys, and the soonest one expires (null: no TTL). */
export interface CachedTenantState {
  tenantId: string;
  keys: number;
  expiresInSeconds: number | null;
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

  /**
   * What Redis holds, per tenant: how many keys (its account, phone number and verify-token keys)
   * and when the first of them expires. Reads at most `maxKeys` keys (an operator's view, not a
   * job): `complete` is false when there were more.
   */
  async cachedTenants(maxKeys = 10_000): Promise<{ tenants: CachedTenantState[]; complete: boolean }> {
    const byTenant = new Map<string, CachedTenantState>();
    let read = 0;
    let complete = true;
    await redisCall('tenant cache listing', async () => {
      for await (const keys of this.redis.scanStream({ match: `${this.options.keyPrefix}tenant:*`, count: 500 }) as AsyncIterable<string[]>) {
        if (keys.length === 0) continue;
        if (read >= maxKeys) {
          complete = false;
          break;
        }
        read += keys.length;
        const [values, ttls] = await Promise.all([this.redis.mget(keys), Promise.all(keys.map((k) => this.redis.pttl(k)))]);
        keys.forEach((_, i) => {
          const id = idOf(values[i]);
          if (id === undefined) return;
          const state = byTenant.get(id) ?? { tenantId: id, keys: 0, expiresInSeconds: null };
          byTenant.set(id, state);
          state.keys += 1;
          const ttl = ttls[i]!;
          if (ttl > 0) state.expiresInSeconds = Math.min(state.expiresInSeconds ?? Infinity, Math.ceil(ttl / 1000));
        });
      }
    });
    return { tenants: [...byTenant.values()].sort((a, b) => (a.tenantId < b.tenantId ? -1 : 1)), complete };
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

/** The tenant id of a cached value, or undefined (not JSON, not a tenant). */
function idOf(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const id = (JSON.parse(value) as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
