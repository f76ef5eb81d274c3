export { conversationKeyOf, shardsOf } from './conversation';
export { parseEnvelope, phoneNumberIdOf, type Envelope } from './envelope';
export { sameAccounts, scanEnvelope } from './envelope-scan';
export { IDENTITY_SYSTEM_TYPES, LIVE_FIELDS } from './message-sources';
export { ACCOUNT_ID_PATTERN, checkEnvelopeBounds, type EnvelopeLimits } from './envelope-bounds';
export { hasIds, idsAt, isBusinessNumber, messageCustomerIds, messageDirection, type Ids } from './parties';
export { arr, bool, isObject, isoFromUnix, num, obj, objects, str } from './read';
export {
  KNOWN_FIELDS,
  KNOWN_MESSAGE_TYPES,
  KNOWN_STATUSES,
  groupParticipantOf,
  listUpdates,
  messageType,
  safeName,
  selectUpdates,
  updateTypeLabel,
  MESSAGE_CONTENT_KEYS,
} from './updates';
export {
  WHATSAPP_OBJECT,
  type Change,
  type EntryRef,
  type HistoryPosition,
  type Json,
  type JsonObject,
  type MessageOrigin,
  type Update,
  type UpdateKind,
  type WebhookPayload,
} from './webhook.types';
