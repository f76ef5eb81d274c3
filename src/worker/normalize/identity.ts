import { idsAt, obj, str, type Update } from '../../meta';
import type { Content, IdentityIds, Sender } from '../../contract';
import { partyOf } from './parties';

/**
 * An `identity_changed` event: the ids a customer had and has now, so a consumer can re-key its
 * records. From a `user_id_update` item (`user_id` / `parent_user_id` as `{previous, current}`),
 * or from a system message: `user_changed_user_id` (new ids in `system.user_id` and
 * `system.parent_user_id`) or `user_changed_number` (new number in `system.wa_id`, or
 * `system.new_wa_id` in older payloads).
 */
export function identityChange(update: Update): { content: Content; customer: Sender } {
  const item = update.item;
  const system = obj(item.system);
  let reason: string;
  let previous: IdentityIds;
  let current: IdentityIds;
  let detail: string | null;
  if (system) {
    reason = str(system.type) ?? 'unknown';
    const before = partyOf(idsAt(item, 'from'), update.value, true);
    previous = { waId: before.waId ?? str(system.customer) ?? null, userId: str(system.previous_user_id) ?? before.userId, parentUserId: before.parentUserId };
    current =
      reason === 'user_changed_number'
        ? { ...previous, waId: str(system.wa_id) ?? str(system.new_wa_id) ?? null }
        : { waId: previous.waId ?? str(system.wa_id) ?? null, userId: str(system.user_id) ?? null, parentUserId: str(system.parent_user_id) ?? null };
    detail = str(system.body) ?? null;
  } else {
    reason = update.change.field;
    const userId = obj(item.user_id);
    const parent = obj(item.parent_user_id);
    const waId = str(item.wa_id) ?? null;
    previous = { waId, userId: str(userId?.previous) ?? null, parentUserId: str(parent?.previous) ?? null };
    current = { waId, userId: str(userId?.current) ?? null, parentUserId: str(parent?.current) ?? null };
    detail = str(item.detail) ?? null;
  }
  const customer = partyOf(withoutNulls(current), update.value);
  const name = customer.name ?? partyOf(withoutNulls(previous), update.value).name;
  return {
    content: {
      field: update.change.field,
      event: reason,
      value: item,
      reason,
      detail,
      previous: { ...previous },
      current: { ...current },
      messageId: update.messageId ?? str(item.id) ?? null,
    },
    customer: { ...customer, name },
  };
}

function withoutNulls(ids: IdentityIds): { waId?: string; userId?: string; parentUserId?: string } {
  return { waId: ids.waId ?? undefined, userId: ids.userId ?? undefined, parentUserId: ids.parentUserId ?? undefined };
}
