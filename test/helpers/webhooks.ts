import type { JsonObject } from '../../src/meta';

/**
 * Webhook bodies as Meta sends them, built from parts, so that a test says what it varies and
 * nothing else: `webhook(account, [messagesChange([text('wamid.1')])])`.
 */
export function webhook(accountId: string, changes: JsonObject[]): string {
  return JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: accountId, time: 1763800000, changes }] });
}

/** A `messages` change carrying messages and/or statuses, with the customer's contact card. */
export function messagesChange(items: { messages?: JsonObject[]; statuses?: JsonObject[] }, waId = '447700900123'): JsonObject {
  return {
    field: 'messages',
    value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550001111', phone_number_id: '1055500011110' },
      ...(items.messages ? { contacts: [{ wa_id: waId, profile: { name: 'Ada' } }], messages: items.messages } : {}),
      ...(items.statuses ? { statuses: items.statuses } : {}),
    },
  };
}

export function text(wamid: string, body = 'hello', from = '447700900123'): JsonObject {
  return { id: wamid, from, timestamp: '1763800000', type: 'text', text: { body } };
}

export function image(wamid: string, media: JsonObject, from = '447700900123'): JsonObject {
  return { id: wamid, from, timestamp: '1763800000', type: 'image', image: media };
}

export function status(wamid: string, state: string, recipient = '447700900123'): JsonObject {
  return { id: wamid, status: state, timestamp: '1763800000', recipient_id: recipient };
}

/** A change of any other field (a notification). */
export function notification(field: string, value: JsonObject): JsonObject {
  return { field, value };
}
