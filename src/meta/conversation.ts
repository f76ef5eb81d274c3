import { createHash } from 'node:crypto';
import { phoneNumberIdOf } from './envelope';
import { messageCustomerIds } from './parties';
import { str } from './read';
import type { JsonObject, Update } from './webhook.types';

/**
 * The conversation an update belongs to, which its order is kept in: the business number and the
 * customer, as the update itself names them (never from `contacts[]`, which statuses lack):
 * - a group's messages and statuses: the group (`g:<group id>`);
 * - otherwise the customer's wa_id (`c:<wa_id>`), so that a rotation of the business-scoped user
 *   id does not split the conversation, or the user id when Meta gives no wa_id (`u:<user id>`).
 * Null for notifications (they are not ordered) and for a message or status naming nobody.
 */
export function conversationKeyOf(update: Update): string | null {
  if (update.kind === 'notification') return null;
  const party = update.kind === 'message' ? messageParty(update) : statusParty(update.item);
  return party === undefined ? null : `${phoneNumberIdOf(update.value) ?? ''}:${party}`;
}

/**
 * The hand-off shard (0 … count-1) of an update: its conversation's, so that one conversation is
 * always in one shard; an update outside any conversation goes with its business account.
 */
export function shardOf(update: Update, count: number): number {
  if (count <= 1) return 0;
  const key = conversationKeyOf(update) ?? `a:${update.accountId}`;
  return createHash('sha256').update(key).digest().readUInt32BE(0) % count;
}

function messageParty(update: Update): string | undefined {
  const group = str(update.item.group_id);
  if (group !== undefined) return `g:${group}`;
  const { ids } = messageCustomerIds(update);
  return partyKey(ids.waId, ids.userId);
}

function statusParty(status: JsonObject): string | undefined {
  if (str(status.recipient_type) === 'group') {
    const group = str(status.recipient_id);
    return group === undefined ? undefined : `g:${group}`;
  }
  return partyKey(str(status.recipient_id), str(status.recipient_user_id));
}

function partyKey(waId: string | undefined, userId: string | undefined): string | undefined {
  if (waId !== undefined) return `c:${waId}`;
  return userId === undefined ? undefined : `u:${userId}`;
}
