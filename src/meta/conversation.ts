import { createHash } from 'node:crypto';
import { phoneNumberIdOf } from './envelope';
import { messageCustomerIds } from './parties';
import { str } from './read';
import type { Update } from './webhook.types';

/**
 * The conversation a message belongs to, which its order is kept in: the business number and the
 * customer, as the message itself names them (never from `contacts[]`):
 * - a group's messages: the group (`g:<group id>`);
 * - otherwise the customer's wa_id (`c:<wa_id>`), so that a rotation of the business-scoped user
 *   id does not split the conversation, or the user id when Meta gives no wa_id (`u:<user id>`).
 * Null for statuses (ordered by state per message, invariant 6), notifications (not ordered) and
 * a message naming nobody.
 */
export function conversationKeyOf(update: Update): string | null {
  if (update.kind !== 'message') return null;
  const party = messageParty(update);
  return party === undefined ? null : `${phoneNumberIdOf(update.value) ?? ''}:${party}`;
}

/**
 * The hand-off shard (0 … count-1) of each of a payload's updates: a message goes to its
 * conversation's shard, so that one conversation is always in one shard; every other update (a
 * status, a notification) goes with the payload's first message, or without messages with its
 * first update's account, so that a batch of statuses stays one hand-off. Computed from the same
 * list (a tenant's share of the payload, each update once) by the receiver and the worker.
 */
export function shardsOf(updates: readonly Update[], count: number): number[] {
  const keys = updates.map(conversationKeyOf);
  if (count <= 1) return updates.map(() => 0);
  const firstKey = keys.find((key) => key !== null);
  const home = hashShard(firstKey ?? `a:${updates[0]?.accountId ?? ''}`, count);
  return keys.map((key) => (key === null ? home : hashShard(key, count)));
}

function hashShard(key: string, count: number): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) % count;
}

function messageParty(update: Update): string | undefined {
  const group = str(update.item.group_id);
  if (group !== undefined) return `g:${group}`;
  const { ids } = messageCustomerIds(update);
  if (ids.waId !== undefined) return `c:${ids.waId}`;
  return ids.userId === undefined ? undefined : `u:${ids.userId}`;
}
