export { parseEnvelope, type Envelope } from './envelope';
export { ACCOUNT_ID_PATTERN, checkEnvelopeBounds, type EnvelopeLimits } from './envelope-bounds';
export { arr, bool, isObject, isoFromUnix, num, obj, objects, str } from './read';
export { KNOWN_FIELDS, KNOWN_MESSAGE_TYPES, KNOWN_STATUSES, listUpdates, messageType, safeName, updateTypeLabel, MESSAGE_CONTENT_KEYS } from './updates';
export { WHATSAPP_OBJECT, type Change, type EntryRef, type Json, type JsonObject, type Update, type UpdateKind, type WebhookPayload } from './webhook.types';
