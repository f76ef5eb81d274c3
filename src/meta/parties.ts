import { obj, str } from './read';
import type { JsonObject, Update } from './webhook.types';

/** The ids Meta gave a party in one place of a payload (any of them may be missing). */
export interface Ids {
  waId?: string;
  userId?: string;
  parentUserId?: string;
}

/** The party's ids from Meta's fields `{prefix}`, `{prefix}_user_id`, `{prefix}_parent_user_id` (`from`, `to`). */
export function idsAt(item: JsonObject, prefix: string): Ids {
  return { waId: str(item[prefix]), userId: str(item[`${prefix}_user_id`]), parentUserId: str(item[`${prefix}_parent_user_id`]) };
}

export function hasIds(ids: Ids): boolean {
  return ids.waId !== undefined || ids.userId !== undefined || ids.parentUserId !== undefined;
}

/** True when a wa_id is the business's own number (`metadata.display_phone_number`, digits compared). */
export function isBusinessNumber(waId: string | undefined | null, value: JsonObject): boolean {
  const business = digits(str(obj(value.metadata)?.display_phone_number) ?? str(obj(value.recipient)?.display_phone_number));
  return business !== '' && digits(waId) === business;
}

/** Which way a message went: echoes are the business's, live messages the customer's, history says by its parties. */
export function messageDirection(update: Update): 'inbound' | 'outbound' {
  if (update.origin === 'echo') return 'outbound';
  if (update.origin === 'live') return 'inbound';
  return hasIds(idsAt(update.item, 'to')) || isBusinessNumber(str(update.item.from), update.value) ? 'outbound' : 'inbound';
}

/**
 * The ids of a message's customer, whichever way it went:
 * - live (and standby) messages come from the customer (`from`, `from_user_id`, …);
 * - echoes and the business's history messages go to the customer (`to`, `to_user_id`), else to
 *   the history thread's number;
 * - the customer is the side whose number is not the business's (some of Meta's own echo
 *   examples have `from` and `to` the other way round).
 * Returns the ids object it chose (`from`'s, `to`'s or the thread's), so callers can tell which it is.
 */
export function messageCustomerIds(update: Update, direction = messageDirection(update)): { ids: Ids; side: 'from' | 'to' | 'thread' } {
  const fromIds = idsAt(update.item, 'from');
  const toIds = idsAt(update.item, 'to');
  const threadIds: Ids = { waId: update.history?.threadId ?? undefined };
  if (direction === 'inbound') return hasIds(fromIds) || !hasIds(threadIds) ? { ids: fromIds, side: 'from' } : { ids: threadIds, side: 'thread' };
  const customer = hasIds(toIds) ? { ids: toIds, side: 'to' as const } : { ids: threadIds, side: 'thread' as const };
  if (isBusinessNumber(customer.ids.waId, update.value) && hasIds(fromIds) && !isBusinessNumber(fromIds.waId, update.value))
    return { ids: fromIds, side: 'from' };
  return customer;
}

function digits(text: string | undefined | null): string {
  return (text ?? '').replace(/\D/g, '');
}
