import { UnknownTenantError, ValidationError } from '../errors';
import { sameAccounts, type Envelope, type EntryRef } from '../meta';
import { setContextTenant } from '../observability';
import type { TenantResolver } from '../tenants';
import type { TenantShare } from './webhook-intake';

/**
 * Groups a payload's entries by the tenant that owns them. Each distinct account is looked up
 * once (the envelope bounds keep them few), never each entry. Every entry must belong to a known
 * tenant: an unknown account is refused (404) rather than half-processed, and Meta retries it
 * for days, long enough to add the tenant.
 */
export async function tenantShares(resolver: TenantResolver, entries: readonly EntryRef[]): Promise<TenantShare[]> {
  const byAccount = new Map<string, { entries: EntryRef[]; phoneNumberIds: Set<string> }>();
  for (const entry of entries) {
    const account = byAccount.get(entry.accountId) ?? { entries: [], phoneNumberIds: new Set<string>() };
    account.entries.push(entry);
    for (const id of entry.phoneNumberIds) account.phoneNumberIds.add(id);
    byAccount.set(entry.accountId, account);
  }
  const resolved = await Promise.all(
    [...byAccount].map(async ([accountId, account]) => ({
      accountId,
      account,
      tenant: await resolver.resolveEntry({ accountId, phoneNumberIds: [...account.phoneNumberIds] }),
    })),
  );
  const unknown = resolved.filter((r) => r.tenant === null).map((r) => r.accountId);
  if (unknown.length > 0) {
    throw new UnknownTenantError('unknown_account', 'No tenant owns this WhatsApp Business Account', { details: { accountIds: unknown } });
  }
  const shares = new Map<string, TenantShare>();
  for (const { account, tenant } of resolved) {
    if (!tenant) continue;
    const share = shares.get(tenant.id) ?? { tenant, entries: [] };
    share.entries.push(...account.entries);
    shares.set(tenant.id, share);
  }
  for (const share of shares.values()) share.entries.sort((a, b) => a.index - b.index);
  const first = shares.values().next().value;
  if (first) setContextTenant(first.tenant.id);
  return [...shares.values()];
}

/**
 * The shares of a payload resolved from its scanned envelope, with the entries its parse gives
 * (the updates, which the scan does not decode). The parse must name the same accounts, entry by
 * entry: a payload that reads otherwise to JSON.parse than to the scan is refused, never
 * attributed to a tenant it was not checked against.
 */
export function withParsedEntries(shares: readonly TenantShare[], scanned: Envelope, parsed: Envelope): TenantShare[] {
  if (!sameAccounts(scanned, parsed)) {
    throw new ValidationError('ambiguous_envelope', 'The payload names other accounts when parsed than when its envelope was read');
  }
  return shares.map((share) => ({ tenant: share.tenant, entries: share.entries.map((entry) => parsed.entries[entry.index]!) }));
}
