import { bool, obj, objects, str, type Ids, type JsonObject } from '../../meta';
import type { Sender } from '../../contract';
import { toE164 } from './phone-number';

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
