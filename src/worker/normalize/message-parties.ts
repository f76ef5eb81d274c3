import { idsAt, messageCustomerIds, messageDirection, str, type Update } from '../../meta';
import type { Conversation, Direction, Sender } from '../../contract';
import { partyOf } from './parties';

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
  const value = update.value;
  const direction = messageDirection(update);
  const { ids, side } = messageCustomerIds(update, direction);
  const customer = partyOf(ids, value, direction === 'inbound' || update.origin !== 'live');
  return {
    direction,
    from: side === 'from' ? customer : partyOf(idsAt(update.item, 'from'), value),
    to: direction === 'outbound' ? (side === 'from' ? partyOf(idsAt(update.item, 'to'), value) : customer) : null,
    conversation: { customer, groupId: str(update.item.group_id) ?? null, standby: update.standby, sequence: null, overtook: [] },
  };
}
