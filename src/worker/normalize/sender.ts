import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { bool, obj, objects, str, type JsonObject } from '../../meta';
import type { Sender } from '../event';

/**
 * A wa_id (digits, country code first, no `+`) as E.164 with its country. Anything that is not
 * a possible phone number (a business-scoped user id, a placeholder such as `PHONE_NUMBER`)
 * gives nulls, never an exception.
 */
export function toE164(waId: string | undefined | null): PhoneNumber {
  if (!waId || !/^\+?[\d\s().-]{6,20}$/.test(waId)) return NO_NUMBER;
  let known = recent.get(waId);
  if (!known) {
    known = parse(waId);
    if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!);
    recent.set(waId, known);
  }
  return known;
}

type PhoneNumber = Readonly<{ phone: string | null; country: string | null }>;

const NO_NUMBER: PhoneNumber = Object.freeze({ phone: null, country: null });

/**
 * Numbers parsed lately: a conversation's messages and every status of them carry the same wa_id,
 * and parsing with full metadata is a few percent of the worker's CPU. Oldest out first.
 */
const recent = new Map<string, PhoneNumber>();
const RECENT_MAX = 10_000;

function parse(waId: string): PhoneNumber {
  const parsed = parsePhoneNumberFromString(waId.startsWith('+') ? waId : `+${waId}`);
  if (!parsed?.isPossible()) return NO_NUMBER;
  return Object.freeze({ phone: parsed.number, country: parsed.country ?? null });
}

/**
 * The customer who sent a message: `from` (a wa_id) and/or a user id, enriched with the matching
 * `contacts[]` entry of the same change (by wa_id, then by user id, then the only contact).
 */
export function senderOf(message: JsonObject, value: JsonObject): Sender {
  const from = str(message.from);
  const fromUserId = str(message.from_user_id);
  const contacts = objects(value.contacts);
  const contact =
    contacts.find((c) => from !== undefined && str(c.wa_id) === from) ??
    contacts.find((c) => fromUserId !== undefined && str(c.user_id) === fromUserId) ??
    (contacts.length === 1 ? contacts[0] : undefined);
  const profile = obj(contact?.profile);
  const waId = from ?? str(contact?.wa_id) ?? null;
  return {
    waId,
    userId: fromUserId ?? str(contact?.user_id) ?? null,
    parentUserId: str(message.from_parent_user_id) ?? str(contact?.parent_user_id) ?? null,
    ...toE164(waId),
    name: str(profile?.name) ?? null,
    username: str(profile?.username) ?? null,
    isBusiness: bool(contact?.is_business) ?? bool(profile?.is_business) ?? null,
  };
}
