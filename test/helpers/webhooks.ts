import type { JsonObject } from '../../src/meta';

/**
 * Webhook bodies as Meta sends them, built from parts, so that a test says what it varies and
 * nothing else: `webhook(account, [messagesChange({ messages: [text('wamid.1')] })])`. `time` is
 * the entry's (a notification's dedup key includes it: vary it to send the same notification twice).
 */
export function webhook(accountId: string, changes: JsonObject[], time = 1763800000): string {
  return JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: accountId, time, changes }] });
}

/**
 * A `messages` change carrying messages and/or statuses, with the customer's contact card.
 * `metadata` (the business number) and `contacts` (the cards) replace the defaults when given.
 */
export function messagesChange(
  items: { messages?: JsonObject[]; statuses?: JsonObject[]; metadata?: JsonObject; contacts?: JsonObject[] },
  waId = '447700900123',
): JsonObject {
  return {
    field: 'messages',
    value: {
      messaging_product: 'whatsapp',
      metadata: items.metadata ?? { display_phone_number: '15550001111', phone_number_id: '1055500011110' },
      ...(items.messages ? { contacts: items.contacts ?? [{ wa_id: waId, profile: { name: 'Ada' } }], messages: items.messages } : {}),
      ...(items.statuses ? { statuses: items.statuses } : {}),
    },
  };
}

export function text(wamid: string, body = 'hello', from = '447700900123'): JsonObject {
  return { id: wamid, from, timestamp: '1763800000', type: 'text', text: { body } };
}

export function image(wamid: string, media: JsonObject, from = '447700900123'): JsonObject {
  return message(wamid, 'image', media, from);
}

/** A message of any type (audio, document, reaction, …): its content under the key named by `type`. */
export function message(wamid: string, type: string, content: JsonObject, from = '447700900123'): JsonObject {
  return { id: wamid, from, timestamp: '1763800000', type, [type]: content };
}

/** A status of an outbound message; `timestamp` (unix seconds) when the order of states is the point. */
export function status(wamid: string, state: string, recipient = '447700900123', timestamp = '1763800000'): JsonObject {
  return { id: wamid, status: state, timestamp, recipient_id: recipient };
}

/** A change of any other field (a notification). */
export function notification(field: string, value: JsonObject): JsonObject {
  return { field, value };
}
