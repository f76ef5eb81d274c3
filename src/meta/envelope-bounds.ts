import { ValidationError } from '../errors';
import { arr, obj } from './read';
import type { Envelope } from './envelope';

/**
 * Account and phone number ids as Meta sends them (digits), and the placeholders public examples
 * use (`WHATSAPP_BUSINESS_ACCOUNT_ID`, `<WHATSAPP_BUSINESS_ACCOUNT_ID>`, `waba-id`): short and plain,
 * so that they are cheap to look up, to cache and to log.
 */
export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9_.:<>-]{1,64}$/;

export interface EnvelopeLimits {
  /** Distinct `entry[].id` values one POST may carry (Meta sends one), and as many distinct phone number ids. */
  maxAccounts: number;
  /** Entries, changes, messages, echoes, statuses and identity updates one POST may carry in all (Meta batches at most 1,000 updates). */
  maxUpdates: number;
}

/**
 * What the receiver checks before it looks any tenant up, so that an unsigned sender costs a
 * bounded amount of work: every id short and plain, few accounts, not far more updates than Meta
 * ever batches. Counting is linear in the payload, and stops at the first limit passed.
 */
export function checkEnvelopeBounds({ entries }: Envelope, limits: EnvelopeLimits): void {
  if (entries.length > limits.maxUpdates) throw tooManyUpdates(limits.maxUpdates);
  const accounts = new Set<string>();
  const phones = new Set<string>();
  let updates = 0;
  for (const entry of entries) {
    if (!ACCOUNT_ID_PATTERN.test(entry.accountId)) {
      throw new ValidationError('invalid_account_id', `entry[${entry.index}].id must be 1-64 letters, digits or "_.:<>-"`);
    }
    accounts.add(entry.accountId);
    for (const id of entry.phoneNumberIds) {
      if (!ACCOUNT_ID_PATTERN.test(id)) {
        throw new ValidationError('invalid_account_id', `entry[${entry.index}]: metadata.phone_number_id must be 1-64 letters, digits or "_.:<>-"`);
      }
      phones.add(id);
    }
    if (accounts.size > limits.maxAccounts || phones.size > limits.maxAccounts) {
      throw new ValidationError('too_many_accounts', `A webhook may carry at most ${limits.maxAccounts} accounts and phone numbers (MAX_ACCOUNTS_PER_WEBHOOK)`);
    }
    updates += Math.max(1, entry.changes.length);
    for (const change of entry.changes) {
      const value = obj(change.value);
      // History threads are not counted: Meta says one history webhook may describe thousands of
      // messages, and the body limit bounds them; refusing one would lose it for good.
      updates += arr(value?.messages).length + arr(value?.statuses).length + arr(value?.message_echoes).length + arr(value?.user_id_update).length;
    }
    if (updates > limits.maxUpdates) throw tooManyUpdates(limits.maxUpdates);
  }
}

function tooManyUpdates(max: number): ValidationError {
  return new ValidationError('too_many_updates', `A webhook may carry at most ${max} entries, changes and updates in all (MAX_UPDATES_PER_WEBHOOK)`, 413);
}
