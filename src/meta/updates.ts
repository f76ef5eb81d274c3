import { createHash } from 'node:crypto';
import { IDENTITY_SYSTEM_TYPES, LIVE_FIELDS, messageSources } from './message-sources';
import { obj, objects, str } from './read';
import type { EntryRef, JsonObject, Update } from './webhook.types';

/**
 * Message types Meta sends, in the order their content key is looked for when a message comes
 * without `type` (it happens: see the fixtures' SOURCES.md).
 */
export const MESSAGE_CONTENT_KEYS = [
  'text',
  'image',
  'video',
  'audio',
  'document',
  'sticker',
  'location',
  'contacts',
  'interactive',
  'button',
  'reaction',
  'order',
  'system',
  'edit',
  'revoke',
  'errors',
] as const;

/** Every message type Meta documents (metric labels use `other` for anything else). */
export const KNOWN_MESSAGE_TYPES: ReadonlySet<string> = new Set([
  ...MESSAGE_CONTENT_KEYS.filter((key) => key !== 'errors'),
  'unsupported',
  'unknown',
  'request_welcome',
  'ephemeral',
  'media_placeholder',
]);

/**
 * Webhook fields Meta documents for WhatsApp Business Accounts (metric labels use `other` for any
 * other field; the event itself keeps the field's name as its type).
 */
export const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  'messages',
  'account_alerts',
  'account_review_update',
  'account_settings_update',
  'account_update',
  'automatic_events',
  'business_capability_update',
  'business_status_update',
  'business_username_updates',
  'calls',
  'flows',
  'group_lifecycle_update',
  'group_participants_update',
  'group_settings_update',
  'group_status_update',
  'history',
  'message_echoes',
  'message_template_components_update',
  'message_template_quality_update',
  'message_template_status_update',
  'messaging_handovers',
  'partner_solutions',
  'payment_configuration_update',
  'phone_number_name_update',
  'phone_number_quality_update',
  'security',
  'smb_app_state_sync',
  'smb_message_echoes',
  'standby',
  'template_category_update',
  'template_correct_category_detection',
  'tracking_events',
  'user_id_update',
  'user_preferences',
]);

/** A metric label for an update's type, from a closed set whatever the payload says. */
export function updateTypeLabel(kind: 'message' | 'status' | 'notification', type: string): string {
  if (kind === 'message') return KNOWN_MESSAGE_TYPES.has(type) ? type : 'other';
  if (kind === 'status') return KNOWN_STATUSES.has(type) ? type : 'other';
  return KNOWN_FIELDS.has(type) || type === 'identity_changed' ? type : 'other';
}

/** Statuses Meta sends for outbound messages. */
export const KNOWN_STATUSES: ReadonlySet<string> = new Set(['sent', 'delivered', 'read', 'played', 'failed', 'deleted', 'warning']);

/** A Meta-provided name made safe for routing keys and metric labels: `[a-z0-9_]`, at most 64 characters. */
export function safeName(name: string | undefined): string {
  const clean = (name ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64);
  return clean === '' ? 'unknown' : clean;
}

/**
 * Splits a payload into its updates, each with a dedup key:
 * - message (wherever Meta put it: see message-sources.ts): the wamid (`m:<wamid>`); a history
 *   media placeholder `m:<wamid>:placeholder`, so the media contents that follow under the same
 *   wamid are an update of their own;
 * - status: wamid + status (`s:<wamid>:<status>`), plus the participant for group messages,
 *   where every member's `read` is its own update;
 * - identity change (`identity_changed`): each `user_id_update` item, and each system message
 *   saying the customer changed number or user id (beside the message itself);
 * - notification: every change of a field other than `messages`, and a `messages` change with
 *   neither messages nor statuses: the account, field, entry time and a hash of the value. A
 *   change whose messages are now message events keeps its notification, as consumers of
 *   schema 1.0 read them there.
 * A message without an id is keyed by a hash of its content, so it is still deduplicated.
 */
export function listUpdates(entries: EntryRef[]): Update[] {
  const updates: Update[] = [];
  for (const entry of entries) {
    entry.changes.forEach((change, c) => {
      const field = change.field;
      const value = obj(change.value) ?? {};
      const at = (suffix: string): string => `${entry.index}.${c}.${suffix}`;
      const base = { entryIndex: entry.index, accountId: entry.accountId, entryTime: entry.time, change, value, standby: field === 'standby' };
      const before = updates.length;
      for (const source of messageSources(field, value)) {
        source.messages.forEach((message, i) => {
          const ref = at(`${source.prefix}${i}`);
          const id = str(message.id);
          const type = messageType(message);
          const key = `m:${id ?? `~${hash(message, ref)}`}${type === 'media_placeholder' ? ':placeholder' : ''}`;
          updates.push({ ...base, ref, kind: 'message', type, key, messageId: id ?? null, item: message, origin: source.origin, history: source.history });
          if (type === 'system' && IDENTITY_SYSTEM_TYPES.has(str(obj(message.system)?.type) ?? '')) {
            updates.push({
              ...base,
              ref: `${ref}i`,
              kind: 'notification',
              type: 'identity_changed',
              key: `i:${key}`,
              messageId: null,
              item: message,
              origin: 'live',
              history: null,
            });
          }
        });
      }
      if (LIVE_FIELDS.has(field)) {
        objects(value.statuses).forEach((status, i) => {
          const ref = at(`s${i}`);
          const id = str(status.id);
          const state = safeName(str(status.status));
          const participant = groupParticipantOf(status);
          const key = `s:${id ?? `~${hash(status, ref)}`}:${state}${participant === undefined ? '' : `:${participant ?? ''}`}`;
          updates.push({ ...base, ref, kind: 'status', type: state, key, messageId: id ?? null, item: status, origin: 'live', history: null });
        });
      }
      if (field === 'user_id_update') {
        objects(value.user_id_update).forEach((item, i) => {
          const ref = at(`u${i}`);
          const key = `i:u:${entry.accountId}:${hash(item, ref)}`;
          updates.push({ ...base, ref, kind: 'notification', type: 'identity_changed', key, messageId: null, item, origin: 'live', history: null });
        });
      }
      if (field !== 'messages' || updates.length === before) {
        const key = `n:${entry.accountId}:${safeName(field)}:${entry.time ?? ''}:${hash(value, at('n'))}`;
        updates.push({ ...base, ref: at('n'), kind: 'notification', type: safeName(field), key, messageId: null, item: value, origin: 'live', history: null });
      }
    });
  }
  return updates;
}

/**
 * The updates to process from a tenant's entries: each distinct once (the same wamid twice in
 * one payload is one message), and only those of `only` when a retry or a replay names them.
 * The worker and the replay both read a payload through this.
 */
export function selectUpdates(entries: EntryRef[], only?: readonly string[]): Update[] {
  const wanted = only ? new Set(only) : undefined;
  const seen = new Set<string>();
  return listUpdates(entries).filter((update) => !seen.has(update.key) && seen.add(update.key) && (!wanted || wanted.has(update.ref)));
}

/** Meta's `type`, or the first content key present when `type` is missing. */
export function messageType(message: JsonObject): string {
  const declared = str(message.type);
  if (declared) return safeName(declared);
  return MESSAGE_CONTENT_KEYS.find((key) => message[key] !== undefined) ?? 'unknown';
}

/**
 * In a group, the participant a status is for (its wa_id, else its user id; null when Meta names
 * neither): every member's `read` is its own update and its own recorded state. Undefined outside groups.
 */
export function groupParticipantOf(status: JsonObject): string | null | undefined {
  if (str(status.recipient_type) !== 'group') return undefined;
  return str(status.recipient_participant_id) ?? str(status.recipient_participant_user_id) ?? null;
}

/**
 * A short content hash. JSON nested deeper than V8 can stringify (thousands of levels; never
 * sent by Meta, but it must not turn into a 500) is keyed by its position instead, which is
 * still stable for the same bytes.
 */
function hash(value: unknown, position: string): string {
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    text = `unserializable@${position}`;
  }
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}
