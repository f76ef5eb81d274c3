import type { TokenCache } from '../../cache';
import type { Logger } from '../../observability';
import type { Tenant, TenantResolver } from '../../tenants';

/** A tenant's access token: from the token cache, else from its record; re-read from the source after a 401. */
export class AccessTokens {
  constructor(
    private readonly cache: TokenCache,
    private readonly tenants: TenantResolver,
    private readonly logger: Logger,
  ) {}

  async get(tenant: Tenant): Promise<string> {
    const cached = await this.cache.get(tenant.id).catch(() => null);
    if (cached) return cached;
    this.cache.set(tenant.id, tenant.accessToken).catch((err: unknown) => this.logger.warn('token cache write failed', { cause: String(err) }));
    return tenant.accessToken;
  }

  /** After Meta refused the token: forget it and read the tenant again, once. */
  async refresh(tenant: Tenant): Promise<string | null> {
    await this.cache.delete(tenant.id).catch(() => undefined);
    const fresh = await this.tenants.reload(tenant);
    if (!fresh) return null;
    await this.cache.set(fresh.id, fresh.accessToken).catch(() => undefined);
    return fresh.accessToken;
  }
}
