import { createHash, timingSafeEqual } from 'node:crypto';
import type { TenantCache } from '../cache/tenant.cache';
import type { EntryRef } from '../meta';
import type { Logger, Metrics } from '../observability';
import { keysOf, type Tenant, type TenantKey, type TenantSource } from './tenant';

/**
 * Finds the tenant that owns an account: Redis cache first, then the source (tenants file or
 * Tenant Service), remembering unknown ids for a while. When Redis is down the source answers
 * directly (counted as degraded); when the source cannot answer, its TransientError propagates
 * so the receiver answers 503 and Meta retries.
 */
export class TenantResolver {
  constructor(
    private readonly source: TenantSource,
    private readonly cache: TenantCache,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** The tenant of an `entry[]`: by its account id, else by a phone number id of its changes. */
  async resolveEntry(entry: EntryRef): Promise<Tenant | null> {
    const keys: TenantKey[] = [{ by: 'account', id: entry.accountId }, ...entry.phoneNumberIds.map((id): TenantKey => ({ by: 'phone', id }))];
    for (const key of keys) {
      const tenant = await this.resolve(key);
      if (tenant) return tenant;
    }
    return null;
  }

  async resolve(key: TenantKey): Promise<Tenant | null> {
    let cacheUsable = true;
    try {
      const cached = await this.cache.get(key);
      if (cached !== undefined) return cached;
    } catch (err) {
      cacheUsable = false;
      this.metrics.dependencyDegraded.inc({ dependency: 'redis', feature: 'tenant_cache' });
      this.logger.warn('tenant cache unavailable, asking the source directly', { source: this.source.name, cause: String(err) });
    }
    const tenant = await this.source.find(key);
    if (cacheUsable) {
      const write = tenant ? this.cache.set([key, ...keysOf(tenant)], tenant) : this.cache.setUnknown(key);
      write.catch((err: unknown) => this.logger.warn('tenant cache write failed', { cause: String(err) }));
    }
    return tenant;
  }

  /** The tenant as the source has it now, bypassing the cache (and refreshing it). */
  async reload(tenant: Tenant): Promise<Tenant | null> {
    const key: TenantKey = { by: 'account', id: tenant.businessAccountId };
    const fresh = await this.source.find(key);
    const write = fresh ? this.cache.set([key, ...keysOf(fresh)], fresh) : this.cache.delete(keysOf(tenant));
    await write.catch((err: unknown) => this.logger.warn('tenant cache write failed', { cause: String(err) }));
    return fresh;
  }

  /**
   * The tenant whose verify token matches (GET /webhook). Tenants the source can list are
   * compared in constant time; with a source that cannot list (Tenant Service), tenants
   * already cached (resolved or warmed) are found through a hash index.
   */
  async findByVerifyToken(token: string): Promise<Tenant | null> {
    const tenants = await this.source.list();
    if (tenants) return tenants.find((tenant) => sameSecret(tenant.verifyToken, token)) ?? null;
    try {
      return (await this.cache.getByVerifyToken(token)) ?? null;
    } catch {
      return null;
    }
  }
}

function sameSecret(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}
