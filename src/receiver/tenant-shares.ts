import { UnknownTenantError } from '../errors';
import type { EntryRef } from '../meta';
import { setContextTenant } from '../observability';
import type { TenantResolver } from '../tenants';
import type { TenantShare } from './webhook-intake';

/**
 * Groups a payload's entries by the tenant that owns them. Every entry must belong to a known
 * tenant: an unknown account is refused (404) rather than half-processed, and Meta retries it
 * for days, long enough to add the tenant.
 */
export async function tenantShares(resolver: TenantResolver, entries: readonly EntryRef[]): Promise<TenantShare[]> {
  const resolved = await Promise.all(entries.map(async (entry) => ({ entry, tenant: await resolver.resolveEntry(entry) })));
  const unknown = resolved.filter((r) => r.tenant === null).map((r) => r.entry.accountId);
  if (unknown.length > 0) {
    throw new UnknownTenantError('unknown_account', 'No tenant owns this WhatsApp Business Account', {
      details: { accountIds: [...new Set(unknown)] },
    });
  }
  const shares = new Map<string, TenantShare>();
  for (const { entry, tenant } of resolved) {
    if (!tenant) continue;
    const share = shares.get(tenant.id) ?? { tenant, entries: [] };
    share.entries.push(entry);
    shares.set(tenant.id, share);
  }
  const first = shares.values().next().value;
  if (first) setContextTenant(first.tenant.id);
  return [...shares.values()];
}
