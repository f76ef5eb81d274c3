import { str, type Update } from '../../meta';
import type { Conversation, Direction, Sender } from '../../contract';
import { hasIds, idsAt, isBusinessNumber, partyOf, type Ids } from './parties';

export interface MessageParties {
  direction: Direction;
  from: Sender;
  to: Sender | null;
  conversation: Conversation;
}

/**
 * Who a message is from and to, and which side is the customer:
 * - live (and standby) messages come from the customer (`from`, `from_user_id`, …) to the business;
 * - echoes were sent by the business from the WhatsApp Business app, to `to` / `to_user_id`;
 * - history messages were sent by the business when they carry `to` or come from its number,
 *   by the customer otherwise; the thread id is the customer's number.
 * `from` and `to` are as Meta wrote them. The customer is the side whose number is not the
 * business's (some of Meta's own echo examples have the two the other way round).
 */
export function messageParties(update: Update): MessageParties {
  const message = update.item;
  const value = update.value;
  const fromIds = idsAt(message, 'from');
  const toIds = idsAt(message, 'to');
  const threadIds: Ids = { waId: update.history?.threadId ?? undefined };
  const direction = directionOf(update, fromIds, toIds);
  let customerIds = direction === 'inbound' ? fromIds : hasIds(toIds) ? toIds : threadIds;
  if (direction === 'outbound' && isBusinessNumber(customerIds.waId, value) && hasIds(fromIds) && !isBusinessNumber(fromIds.waId, value)) customerIds = fromIds;
  if (direction === 'inbound' && !hasIds(customerIds) && hasIds(threadIds)) customerIds = threadIds;
  const customer = partyOf(customerIds, value, direction === 'inbound' || update.origin !== 'live');
  return {
    direction,
    from: customerIds === fromIds ? customer : partyOf(fromIds, value),
    to: direction === 'outbound' ? (customerIds === fromIds ? partyOf(toIds, value) : customer) : null,
    conversation: { customer, groupId: str(message.group_id) ?? null, standby: update.standby },
  };
}

function directionOf(update: Update, from: Ids, to: Ids): Direction {
  if (update.origin === 'echo') return 'outbound';
  if (update.origin === 'live') return 'inbound';
  return hasIds(to) || isBusinessNumber(from.waId, update.value) ? 'outbound' : 'inbound';
}
