import type { CachedTenantState, InvalidationBus, TenantCache, TokenCache } from '../cache';
import type { Logger } from '../observability';
import type { TenantResolver } from '../tenants';

export interface InvalidationResult {
  /** Redis keys deleted (tenant records by every id, unknown-id markers, access tokens). */
  keysDeleted: number;
  /** Instances that received the invalidation over pub/sub (including this one). */
  instancesNotified: number;
}

/**
 * Tenant and token caches under operator control: invalidation deletes what Redis holds and
 * tells every instance (pub/sub) to drop what it keeps in memory and to re-read a tenants file.
 * Use it after changing a tenant (secret, token, phone numbers) so no instance keeps the old one.
 */
export class CacheControl {
  constructor(
    private readonly tenants: TenantResolver,
    private readonly tenantCache: TenantCache,
    private readonly tokens: TokenCache,
    private readonly bus: InvalidationBus,
    private readonly logger: Logger,
  ) {}

  /** Every instance listens from start: an invalidation anywhere reaches all of them. */
  listen(): void {
    this.bus.subscribe(({ tenantId }) => {
      this.tenants.forget(tenantId);
      this.logger.info('tenant caches dropped on invalidation', { tenantId: tenantId ?? 'all' });
    });
  }

  /** The tenants Redis holds now, each with its number of keys and soonest expiry (the console's Tenants view). */
  async state(): Promise<{ tenants: CachedTenantState[]; complete: boolean }> {
    return this.tenantCache.cachedTenants();
  }

  async invalidate(tenantId?: string): Promise<InvalidationResult> {
    const keysDeleted =
      (await this.tenantCache.deleteTenant(tenantId)) + (tenantId === undefined ? await this.tokens.deleteAll() : await this.tokens.delete(tenantId));
    this.tenants.forget(tenantId);
    const instancesNotified = await this.bus.publish(tenantId === undefined ? {} : { tenantId });
    this.logger.info('tenant caches invalidated', { tenantId: tenantId ?? 'all', keysDeleted, instancesNotified });
    return { keysDeleted, instancesNotified };
  }

  /** Fills the shared cache (every tenant of the file, or the given account ids from the Tenant Service). */
  async warm(accountIds: readonly string[]): Promise<number> {
    const count = await this.tenants.warm(accountIds);
    this.logger.info('tenant cache warmed', { tenants: count });
    return count;
  }

  close(): void {
    this.bus.close();
  }
}
