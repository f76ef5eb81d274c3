import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

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
