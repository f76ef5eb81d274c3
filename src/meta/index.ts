export { parseEnvelope, type Envelope } from './envelope';
export { arr, bool, isObject, isoFromUnix, num, obj, objects, str } from './read';
export { KNOWN_MESSAGE_TYPES, listUpdates, messageType, safeName, MESSAGE_CONTENT_KEYS } from './updates';
export { WHATSAPP_OBJECT, type Change, type EntryRef, type Json, type JsonObject, type Update, type UpdateKind, type WebhookPayload } from './webhook.types';
