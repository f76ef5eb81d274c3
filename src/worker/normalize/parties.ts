import { bool, obj, objects, str, type JsonObject } from '../../meta';
import type { Sender } from '../../contract';
import { toE164 } from './phone-number';

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

/**
 * A party with what the change's `contacts[]` say about them (matched by wa_id, then by user id;
 * with `onlyContact`, the single contact when neither matches, as Meta sends one contact per message).
 */
export function partyOf(ids: Ids, value: JsonObject, onlyContact = false): Sender {
  const contacts = objects(value.contacts);
  const contact =
    contacts.find((c) => ids.waId !== undefined && str(c.wa_id) === ids.waId) ??
    contacts.find((c) => ids.userId !== undefined && str(c.user_id) === ids.userId) ??
    (onlyContact && contacts.length === 1 ? contacts[0] : undefined);
  const profile = obj(contact?.profile);
  const waId = ids.waId ?? str(contact?.wa_id) ?? null;
  return {
    waId,
    userId: ids.userId ?? str(contact?.user_id) ?? null,
    parentUserId: ids.parentUserId ?? str(contact?.parent_user_id) ?? null,
    ...toE164(waId),
    name: str(profile?.name) ?? null,
    username: str(profile?.username) ?? null,
    isBusiness: bool(contact?.is_business) ?? bool(profile?.is_business) ?? null,
  };
}

/** True when a wa_id is the business's own number (`metadata.display_phone_number`, digits compared). */
export function isBusinessNumber(waId: string | undefined | null, value: JsonObject): boolean {
  const business = digits(str(obj(value.metadata)?.display_phone_number) ?? str(obj(value.recipient)?.display_phone_number));
  return business !== '' && digits(waId) === business;
}

function digits(text: string | undefined | null): string {
  return (text ?? '').replace(/\D/g, '');
}
