import { createHash, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { TenantCache } from '../cache/tenant.cache';
import { LogThrottle, type Logger, type Metrics } from '../observability';
import { keysOf, type Tenant, type TenantKey, type TenantSource } from './tenant';

export interface TenantResolverOptions {
  /** How long a lookup is kept in this process (0 disables). Invalidations clear it everywhere at once. */
  memoryTtlMs: number;
  /** Bound on lookups kept in memory; the least recently used go first. @default 10000 */
  memoryMaxEntries?: number;
  /** Bound on the bytes those lookups hold (keys are fixed-size hashes, records counted as JSON). @default 8 MiB */
  memoryMaxBytes?: number;
  /**
   * How long an id no tenant owns is remembered as unknown, in this process only: an unsigned
   * sender's ids are never written to Redis. @default 30000
   */
  negativeTtlMs?: number;
}

/** What the resolver looks an entry up by: its account id, then its phone number ids. */
export interface AccountRef {
  accountId: string;
  phoneNumberIds: readonly string[];
}

/** Phone number ids tried for one account that is not known by its own id. */
const MAX_PHONE_LOOKUPS = 4;
const UNKNOWN_MAX_ENTRIES = 10_000;

/**
 * Finds the tenant that owns an account, through two caches: this process's memory (short TTL,
 * cleared on invalidation), then Redis (shared), then the source (tenants file or Tenant
 * Service), remembering unknown ids for a while. When Redis is down the source answers
 * directly (counted as degraded); when the source cannot answer, its TransientError propagates
 * so the receiver answers 503 and Meta retries.
 */
export class TenantResolver {
  private readonly memory: LRUCache<string, Tenant> | undefined;
  private readonly unknown: LRUCache<string, true>;
  private readonly throttle = new LogThrottle();

  constructor(
    private readonly source: TenantSource,
    private readonly cache: TenantCache,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    options: TenantResolverOptions = { memoryTtlMs: 0 },
  ) {
    if (options.memoryTtlMs > 0) {
      this.memory = new LRUCache<string, Tenant>({
        max: options.memoryMaxEntries ?? 10_000,
        maxSize: options.memoryMaxBytes ?? 8 * 1024 * 1024,
        sizeCalculation: (tenant, key) => key.length + JSON.stringify(tenant).length,
        ttl: options.memoryTtlMs,
      });
    }
    this.unknown = new LRUCache<string, true>({ max: UNKNOWN_MAX_ENTRIES, ttl: options.negativeTtlMs ?? 30_000 });
  }

  /**
   * The tenant of an `entry[]` (or of all entries of one account): by its account id, else by
   * the first of its phone number ids (at most four are tried) that a tenant owns.
   */
  async resolveEntry(entry: AccountRef): Promise<Tenant | null> {
    const keys: TenantKey[] = [
      { by: 'account', id: entry.accountId },
      ...entry.phoneNumberIds.slice(0, MAX_PHONE_LOOKUPS).map((id): TenantKey => ({ by: 'phone', id })),
    ];
    for (const key of keys) {
      const tenant = await this.resolve(key);
      if (tenant) return tenant;
    }
    return null;
  }

  async resolve(key: TenantKey): Promise<Tenant | null> {
    const memoryKey = memoryKeyOf(key);
    const remembered = this.memory?.get(memoryKey);
    if (remembered) {
      this.metrics.cacheHit.inc({ cache: 'tenant_memory' });
      return remembered;
    }
    if (this.unknown.has(memoryKey)) {
      this.metrics.cacheHit.inc({ cache: 'tenant_unknown' });
      return null;
    }
    if (this.memory) this.metrics.cacheMiss.inc({ cache: 'tenant_memory' });
    const tenant = await this.resolveShared(key);
    if (tenant) this.memory?.set(memoryKey, tenant);
    else this.unknown.set(memoryKey, true);
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
    this.unknown.clear();
    for (const [key, tenant] of this.memory?.entries() ?? []) {
      if (tenantId === undefined || tenant.id === tenantId) this.memory?.delete(key);
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
   * Whether a tenant with this id exists: true or false for a source that can list its tenants
   * (the file), undefined for one that cannot (the Tenant Service looks tenants up by account only).
   */
  async knows(tenantId: string): Promise<boolean | undefined> {
    const tenants = await this.source.list();
    return tenants ? tenants.some((tenant) => tenant.id === tenantId) : undefined;
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
    // Only tenants are written to Redis (a bounded set): an unknown id stays in this process's memory.
    if (cacheUsable && tenant) {
      this.cache.set([key, ...keysOf(tenant)], tenant).catch((err: unknown) => this.logger.warn('tenant cache write failed', { cause: String(err) }));
    }
    return tenant;
  }
}

/** A fixed-size key whatever the id's length. */
function memoryKeyOf(key: TenantKey): string {
  return `${key.by}:${createHash('sha256').update(key.id).digest('base64url')}`;
}

function sameSecret(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}
