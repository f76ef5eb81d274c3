import { createHash, timingSafeEqual } from 'node:crypto';
import type { TenantCache } from '../cache/tenant.cache';
import type { EntryRef } from '../meta';
import { LogThrottle, type Logger, type Metrics } from '../observability';
import { keysOf, type Tenant, type TenantKey, type TenantSource } from './tenant';

export interface TenantResolverOptions {
  /** How long a lookup is kept in this process (0 disables). Invalidations clear it everywhere at once. */
  memoryTtlMs: number;
  /** Bound on lookups kept in memory; the oldest go first. @default 10000 */
  memoryMaxEntries?: number;
}

/**
 * Finds the tenant that owns an account, through two caches: this process's memory (short TTL,
 * cleared on invalidation), then Redis (shared), then the source (tenants file or Tenant
 * Service), remembering unknown ids for a while. When Redis is down the source answers
 * directly (counted as degraded); when the source cannot answer, its TransientError propagates
 * so the receiver answers 503 and Meta retries.
 */
export class TenantResolver {
  private readonly memory = new Map<string, { tenant: Tenant | null; expiresAt: number }>();
  private readonly throttle = new LogThrottle();

  constructor(
    private readonly source: TenantSource,
    private readonly cache: TenantCache,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly options: TenantResolverOptions = { memoryTtlMs: 0 },
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
    const memoryKey = `${key.by}:${key.id}`;
    const remembered = this.memory.get(memoryKey);
    if (remembered && remembered.expiresAt > Date.now()) {
      this.metrics.cacheHit.inc({ cache: 'tenant_memory' });
      return remembered.tenant;
    }
    if (this.options.memoryTtlMs > 0) this.metrics.cacheMiss.inc({ cache: 'tenant_memory' });
    const tenant = await this.resolveShared(key);
    this.remember(memoryKey, tenant);
    return tenant;
  }

  /** The tenant as the source has it now, bypassing the caches (and refreshing them). */
  async reload(tenant: Tenant): Promise<Tenant | null> {
    const key: TenantKey = { by: 'account', id: tenant.businessAccountId };
    this.forget(tenant.id);
    const fresh = await this.source.find(key);
    const write = fresh ? this.cache.set([key, ...keysOf(fresh)], fresh) : this.cache.delete(keysOf(tenant));
    await write.catch((err: unknown) => this.logger.warn('tenant cache write failed', { cause: String(err) }));
    return fresh;
  }

  /**
   * Drops what this process remembers of a tenant (or of all tenants), including ids remembered
   * as unknown, and re-reads a file source. Called on every instance by a cache invalidation.
   */
  forget(tenantId?: string): void {
    for (const [key, entry] of this.memory) {
      if (tenantId === undefined || entry.tenant === null || entry.tenant.id === tenantId) this.memory.delete(key);
    }
    try {
      this.source.reload?.();
    } catch (err) {
      this.logger.error('tenants file could not be reloaded; keeping the tenants read before', { cause: String(err) });
    }
  }

  /**
   * Fills the Redis cache at start: every tenant of a source that can list them (the file), or
   * the given account ids (Tenant Service). Returns how many tenants were cached.
   */
  async warm(accountIds: readonly string[] = []): Promise<number> {
    const listed = await this.source.list();
    if (listed) {
      await Promise.all(listed.map((tenant) => this.cache.set(keysOf(tenant), tenant)));
      return listed.length;
    }
    const found = await Promise.all(accountIds.map((id) => this.resolve({ by: 'account', id })));
    return found.filter(Boolean).length;
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

  private async resolveShared(key: TenantKey): Promise<Tenant | null> {
    let cacheUsable = true;
    try {
      const cached = await this.cache.get(key);
      if (cached !== undefined) return cached;
    } catch (err) {
      cacheUsable = false;
      this.metrics.dependencyDegraded.inc({ dependency: 'redis', feature: 'tenant_cache' });
      this.throttle.run('redis', (suppressed) =>
        this.logger.warn('tenant cache unavailable, asking the source directly', { source: this.source.name, cause: String(err), suppressed }),
      );
    }
    const tenant = await this.source.find(key);
    if (cacheUsable) {
      const write = tenant ? this.cache.set([key, ...keysOf(tenant)], tenant) : this.cache.setUnknown(key);
      write.catch((err: unknown) => this.logger.warn('tenant cache write failed', { cause: String(err) }));
    }
    return tenant;
  }

  private remember(key: string, tenant: Tenant | null): void {
    if (this.options.memoryTtlMs <= 0) return;
    this.memory.delete(key);
    this.memory.set(key, { tenant, expiresAt: Date.now() + this.options.memoryTtlMs });
    const max = this.options.memoryMaxEntries ?? 10_000;
    if (this.memory.size > max) {
      const oldest = this.memory.keys().next().value;
      if (oldest !== undefined) this.memory.delete(oldest);
    }
  }
}

function sameSecret(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}
