/**
 * Meta's webhook payload as it really arrives: every field may be missing, ids and timestamps
 * may be strings or numbers, and fields nobody has documented yet may appear. Code reads it
 * through the helpers in `read.ts`, never by trusting these shapes.
 */
export type Json = string | number | boolean | null | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json | undefined;
}

export const WHATSAPP_OBJECT = 'whatsapp_business_account';

export interface WebhookPayload extends JsonObject {
  object: string;
  entry: JsonObject[];
}

/** One `entry[]` element, validated far enough to resolve its tenant. */
/** A `changes[]` element whose `field` was checked to be a non-empty string. */
export interface Change extends JsonObject {
  field: string;
}

export interface EntryRef {
  index: number;
  /** The WhatsApp Business Account id (`entry[].id`). */
  accountId: string;
  /** `entry[].time` (unix seconds) when Meta sends it. */
  time: string | undefined;
  /** `changes[].value.metadata.phone_number_id` values found in this entry. */
  phoneNumberIds: string[];
  changes: Change[];
}

export type UpdateKind = 'message' | 'status' | 'notification';

/**
 * Where a message came from: `live` (field `messages`, or `standby` while another app controls
 * the thread), `echo` (sent by the business from the WhatsApp Business app: `message_echoes`)
 * or `history` (the coexistence history sync, and the media contents that follow its placeholders).
 */
export type MessageOrigin = 'live' | 'echo' | 'history';

/** A message of a history thread: the thread (the customer's phone number) and its chunk. */
export interface HistoryPosition {
  threadId: string | null;
  phase: number | null;
  chunkOrder: number | null;
  progress: number | null;
}

/**
 * One thing that happened (a message, a status change, a notification), addressed inside the
 * payload so the worker can retry exactly the ones that failed.
 */
export interface Update {
  /** Position `entry.change.item` inside the payload; stable for the same bytes. */
  ref: string;
  entryIndex: number;
  kind: UpdateKind;
  /** Message type (`text`, …), status (`read`, …) or notification field (`account_update`, …). */
  type: string;
  /** Dedup identity: the wamid for messages, wamid + status for statuses, a content hash for notifications. */
  key: string;
  /** Meta's message id (wamid) when there is one. */
  messageId: string | null;
  accountId: string;
  /** `entry[].time`, when Meta sent one. */
  entryTime: string | undefined;
  change: Change;
  value: JsonObject;
  /** The message, status or (for notifications) the change value itself; an identity change's own object. */
  item: JsonObject;
  /** `live` for statuses and notifications. */
  origin: MessageOrigin;
  /** Delivered under field `standby`: another app had thread control. */
  standby: boolean;
  /** Set for the messages of a history thread. */
  history: HistoryPosition | null;
}
