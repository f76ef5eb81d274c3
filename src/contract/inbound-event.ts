import { v5 as uuidv5 } from 'uuid';
import type { HistoryPosition, Json, MessageOrigin, UpdateKind } from '../meta';

/**
 * The event contract: what the worker publishes to `whatsapp.inbound` and every consumer reads
 * (schemas/inbound-event.v1.schema.json says the same for other languages). Receiver, worker,
 * admin and messaging import it from here; it imports nothing of theirs.
 */

/** Version of the event body; bumped on any change that could break a consumer (schemas/inbound-event.v1.schema.json). */
export const SCHEMA_VERSION = 1;
/**
 * Additive revisions of version 1: 1 added direction, origin, to, conversation, history and identity
 * events; 2 added conversation.sequence and conversation.overtook (per-conversation order).
 */
export const SCHEMA_MINOR_VERSION = 2;

export type Direction = 'inbound' | 'outbound';

/** A history message's thread and chunk, and its last delivery state per Meta (`history_context.status`: READ, …). */
export interface HistoryInfo extends HistoryPosition {
  status: string | null;
}

/** Namespace of event ids (UUID v5): the same update of the same tenant always gets the same id. */
const EVENT_NAMESPACE = '6f1c8a52-3d0e-4b8e-9a57-6b0f3c2d9e41';

/** A WhatsApp user (or business number), as Meta identifies them: a phone-based wa_id, a business-scoped user id, or both. */
export interface Sender {
  waId: string | null;
  userId: string | null;
  parentUserId: string | null;
  /** E.164 (`+16505551234`), or null when Meta sent no phone number (user id only, placeholder). */
  phone: string | null;
  /** ISO 3166-1 alpha-2 country of the phone number, when it can be told. */
  country: string | null;
  name: string | null;
  username: string | null;
  /** True or false only when Meta says so; null otherwise. */
  isBusiness: boolean | null;
}

/** Whom the event is about, whichever way it went: what a consumer keys its conversation records on. */
export interface Conversation {
  /** The customer's side: the sender of an inbound message, the recipient of an outbound one or of a status. */
  customer: Sender | null;
  /** Set when the message or status belongs to a WhatsApp group (Meta's `group_id`, or the group a status went to). */
  groupId: string | null;
  /** True when the update came under field `standby`: another app had control of the thread. */
  standby: boolean;
  /**
   * The event's place in its conversation (1, 2, 3…; stable per event id), for messages; null for
   * statuses (ordered per message by state) and notifications (not ordered).
   */
  sequence: number | null;
  /** Event ids of earlier events of the conversation this one was published ahead of (they were held past ORDER_HOLD_MS). */
  overtook: string[];
}

/** The ids a customer had before and has after an identity change. */
export interface IdentityIds {
  waId: string | null;
  userId: string | null;
  parentUserId: string | null;
}

export interface Referral {
  sourceUrl: string | null;
  sourceId: string | null;
  sourceType: string | null;
  headline: string | null;
  body: string | null;
  mediaType: string | null;
  imageUrl: string | null;
  videoUrl: string | null;
  thumbnailUrl: string | null;
  ctwaClid: string | null;
}

export interface MessageContext {
  /** The message this one replies to (or the product it asks about). */
  repliedTo: { messageId: string | null; from: string | null } | null;
  forwarded: boolean;
  frequentlyForwarded: boolean;
  product: { catalogId: string | null; productRetailerId: string | null } | null;
  /** Click-to-WhatsApp ad or post that started the conversation. */
  referral: Referral | null;
}

export interface MetaError {
  code: number | null;
  title: string | null;
  message: string | null;
  details: string | null;
  href: string | null;
}

export interface StatusInfo {
  state: string;
  /** The state recorded for this message before this update, if any. */
  previous: string | null;
  /** True when a later state was already recorded: the update is kept, the state does not go back. */
  outOfOrder: boolean;
  recipient: {
    waId: string | null;
    userId: string | null;
    parentUserId: string | null;
    username: string | null;
    phone: string | null;
    type: string | null;
    /** The group a group message went to (`recipient_id` when `recipient_type` is `group`). */
    groupId: string | null;
    participant: string | null;
    participantWaId: string | null;
    participantUserId: string | null;
    participantParentUserId: string | null;
  };
  errors: MetaError[];
  conversation: { id: string | null; originType: string | null; expiresAt: string | null } | null;
  pricing: { billable: boolean | null; pricingModel: string | null; category: string | null; type: string | null } | null;
  bizOpaqueCallbackData: string | null;
}

export interface MediaContent {
  id: string | null;
  mimeType: string | null;
  sha256: string | null;
  size: number | null;
  bucket: string | null;
  key: string | null;
  /** Presigned GET of the stored copy (valid for an hour from publication). */
  url: string | null;
  urlExpiresAt: string | null;
  /** Why the media could not be stored; the message is published anyway. */
  error?: { code: string; message: string };
}

/** Type-specific fields of an event (`text` has `body`, `image` has `media`, an edit nests a message). */
export type ContentValue = Json | MediaContent | Sender | MetaError | Content | ContentValue[] | undefined;
export interface Content {
  [key: string]: ContentValue;
}

export interface InboundEvent {
  schemaVersion: typeof SCHEMA_VERSION;
  schemaMinorVersion: typeof SCHEMA_MINOR_VERSION;
  eventId: string;
  correlationId: string;
  kind: UpdateKind;
  type: string;
  tenantId: string;
  businessAccountId: string;
  phoneNumberId: string | null;
  /** Meta's wamid, for messages and statuses. */
  messageId: string | null;
  /** When it happened, per Meta (ISO-8601 UTC); the receipt time when Meta gave none. */
  timestamp: string;
  /** When the receiver accepted the webhook (ISO-8601 UTC). */
  receivedAt: string;
  /** Inbound (from the customer) or outbound (from the business); null for notifications that are neither. */
  direction: Direction | null;
  /** Where a message came from (live, echo, history); null for statuses and notifications. */
  origin: MessageOrigin | null;
  from: Sender | null;
  /** The recipient of an outbound message (an echo, a business message in a history thread). */
  to: Sender | null;
  conversation: Conversation | null;
  /** For messages of a coexistence history thread: the thread and the chunk they came in. */
  history: HistoryInfo | null;
  context: MessageContext | null;
  content: Content | null;
  status: StatusInfo | null;
  raw: { bucket: string; key: string; ref: string };
  metadata: {
    tenantName: string | null;
    displayPhoneNumber: string | null;
    source: 'meta' | 'replay';
    /** The customer's conversation mapping from the State Manager (when it is configured and has one). */
    conversation: Record<string, unknown> | null;
    /** Features that were unavailable while this event was produced (`state-manager`). */
    degraded: string[];
  };
}

/**
 * Rank of each state in a message's life (invariant 6): a state only ever moves up, `failed` ends
 * it. States Meta may add later rank 0: recorded on their event, never moving the state.
 */
const STATUS_RANK: ReadonlyMap<string, number> = new Map([
  ['sent', 1],
  ['delivered', 2],
  ['read', 3],
  ['played', 4],
  ['failed', 5],
]);

/** A Map, not an object: a state Meta (or anyone) names `toString` or `constructor` ranks 0 too. */
export function statusRank(state: string): number {
  return STATUS_RANK.get(state) ?? 0;
}

export function eventIdOf(tenantId: string, kind: UpdateKind, key: string): string {
  return uuidv5(`${tenantId}|${kind}|${key}`, EVENT_NAMESPACE);
}

/**
 * `{kind}.{type}`, and `{kind}.{type}.{origin}` for echoes and history: a binding to `message.*`
 * gets what customers send live (as before echoes and history were message events), `message.#`
 * every message.
 */
export function routingKeyOf(event: { kind: string; type: string; origin: string | null }): string {
  return event.origin === 'echo' || event.origin === 'history' ? `${event.kind}.${event.type}.${event.origin}` : `${event.kind}.${event.type}`;
}
