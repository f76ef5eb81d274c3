import { statusRank } from '../contract';
import { storableText } from '../subscriptions';

/** One event as the ledger writes it: the columns of `ledger_events`, and what it says about its message. */
export interface LedgerEntry {
  eventId: string;
  tenantId: string;
  kind: string;
  type: string;
  routingKey: string;
  messageId: string | null;
  waId: string | null;
  userId: string | null;
  occurredAt: string;
  receivedAt: string;
  correlationId: string;
  rawKey: string;
  source: string;
  handoffAttempt: number | null;
  handoffLastError: string | null;
  /** The event as published (JSON text). */
  json: string;
  direction: string | null;
  /** A status event's state, and whether it came after a later one. */
  state: string | null;
  outOfOrder: boolean;
  errorCodes: number[];
  pricingCategory: string | null;
  pricingType: string | null;
  conversationId: string | null;
  mediaKey: string | null;
}

/** A JSON escape PostgreSQL refuses in jsonb (NUL, a lone surrogate; a paired one is merely rewritten). */
const UNSTORABLE_ESCAPE = /\\u(0000|d[89a-f][0-9a-f]{2})/i;
const DAY_MS = 86_400_000;
/** Receipt times the ledger takes: from this service (none before 2000, none more than a day ahead of this clock). */
const EARLIEST_RECEIPT = Date.UTC(2000, 0, 1);
/** The last instant PostgreSQL and a daily partition's name both hold (year 9999). */
const LATEST_INSTANT = Date.UTC(9999, 11, 31);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Longest text kept in an id column (Meta's wamids are about 60 characters). */
const MAX_ID = 512;

type Obj = Record<string, unknown>;

/**
 * The ledger's reading of one event of the contract (`schemas/inbound-event.v1.schema.json`), or an
 * Error naming what is missing: the fields it keeps in columns are checked, the rest is kept as is.
 * `body`: the broker message's (JSON text, or what the client parsed it into); `headers`: its
 * headers, for the hand-off attempt that published it.
 */
export function ledgerEntryOf(body: unknown, routingKey: string, headers: Obj, now = Date.now()): LedgerEntry | Error {
  // The AMQP client parses an application/json body itself: JSON text is kept, parsed once.
  const given = Buffer.isBuffer(body) ? body.toString('utf8') : body;
  let parsed: unknown = given;
  if (typeof given === 'string') {
    try {
      parsed = JSON.parse(given);
    } catch {
      return new Error('not JSON');
    }
  }
  if (!isObj(parsed)) return new Error('not an object');
  const asText = typeof given === 'string' ? given : JSON.stringify(parsed);
  // A customer's text may hold a NUL or half an emoji, which PostgreSQL's jsonb and text refuse (every time).
  const clean = UNSTORABLE_ESCAPE.test(asText);
  const event = clean ? (storable(parsed) as Obj) : parsed;
  const json = clean ? JSON.stringify(event) : asText;
  const eventId = event.eventId;
  if (typeof eventId !== 'string' || !UUID.test(eventId)) return new Error('eventId: not a UUID');
  const tenantId = text(event.tenantId);
  const kind = text(event.kind);
  const type = text(event.type);
  const correlationId = text(event.correlationId);
  const receivedAt = instant(event.receivedAt, EARLIEST_RECEIPT, now + DAY_MS);
  if (!tenantId || !kind || !type || !correlationId || !receivedAt) return new Error('tenantId, kind, type, correlationId and receivedAt are required');
  const raw = isObj(event.raw) ? event.raw : {};
  const metadata = isObj(event.metadata) ? event.metadata : {};
  const status = isObj(event.status) ? event.status : null;
  const conversation = isObj(event.conversation) ? event.conversation : null;
  const customer = conversation && isObj(conversation.customer) ? conversation.customer : null;
  const from = isObj(event.from) ? event.from : null;
  const recipient = status && isObj(status.recipient) ? status.recipient : null;
  const party = customer ?? from ?? recipient;
  const pricing = status && isObj(status.pricing) ? status.pricing : null;
  const statusConversation = status && isObj(status.conversation) ? status.conversation : null;
  const content = isObj(event.content) ? event.content : null;
  const media = content && isObj(content.media) ? content.media : null;
  const state = kind === 'status' ? (text(status?.state) ?? type) : null;
  const attempt = Number(headers['x-handoff-attempt']);
  return {
    eventId: eventId.toLowerCase(),
    tenantId,
    kind,
    type,
    routingKey: storableText(routingKey.slice(0, MAX_ID)),
    messageId: text(event.messageId),
    waId: text(party?.waId),
    userId: text(party?.userId),
    occurredAt: instant(event.timestamp, 0, LATEST_INSTANT) ?? receivedAt,
    receivedAt,
    correlationId,
    rawKey: text(raw.key) ?? '',
    source: text(metadata.source) ?? 'meta',
    handoffAttempt: Number.isInteger(attempt) && attempt > 0 && attempt < 2 ** 31 ? attempt : null,
    handoffLastError: typeof headers['x-handoff-last-error'] === 'string' ? storableText(headers['x-handoff-last-error'].slice(0, 1000)) : null,
    json,
    direction: kind === 'status' ? 'outbound' : text(event.direction),
    state,
    outOfOrder: status?.outOfOrder === true,
    errorCodes: Array.isArray(status?.errors)
      ? status.errors.flatMap((e: unknown) => (isObj(e) && Number.isInteger(e.code) && Math.abs(e.code as number) < 2 ** 31 ? [e.code as number] : []))
      : [],
    pricingCategory: text(pricing?.category),
    pricingType: text(pricing?.type),
    conversationId: text(statusConversation?.id),
    mediaKey: text(media?.key),
  };
}

/** What a batch says about one message: its events merged by the ledger's rules (a state only moves up). */
export interface MessageChange {
  tenantId: string;
  messageId: string;
  direction: string | null;
  type: string | null;
  state: string | null;
  stateRank: number;
  firstAt: string;
  receivedAt: string | null;
  at: Record<StateColumn, string | null>;
  outOfOrder: number;
  errorCodes: number[];
  pricingCategory: string | null;
  pricingType: string | null;
  conversationId: string | null;
  mediaKey: string | null;
  waId: string | null;
  userId: string | null;
  events: number;
}

export const STATE_COLUMNS = ['sent', 'delivered', 'read', 'played', 'failed'] as const;
export type StateColumn = (typeof STATE_COLUMNS)[number];

/** Entries about messages (a wamid), merged per tenant and wamid, sorted (rows are locked in this order). */
export function messageChanges(entries: readonly LedgerEntry[]): MessageChange[] {
  const changes = new Map<string, MessageChange>();
  for (const entry of entries) {
    if (!entry.messageId || (entry.kind !== 'message' && entry.kind !== 'status')) continue;
    const key = `${entry.tenantId}\u0000${entry.messageId}`;
    const change = changes.get(key) ?? blank(entry.tenantId, entry.messageId, entry.occurredAt);
    changes.set(key, change);
    change.events += 1;
    change.firstAt = earliest(change.firstAt, entry.occurredAt)!;
    change.direction ??= entry.direction;
    change.waId ??= entry.waId;
    change.userId ??= entry.userId;
    if (entry.kind === 'message') {
      change.type = entry.type;
      change.mediaKey ??= entry.mediaKey;
      if (entry.direction === 'inbound') {
        change.receivedAt = earliest(change.receivedAt, entry.occurredAt);
        change.state ??= 'received';
      }
      continue;
    }
    const state = entry.state ?? entry.type;
    const rank = statusRank(state);
    if (movesState(change, rank)) {
      change.state = state;
      change.stateRank = rank;
    }
    if (isStateColumn(state)) change.at[state] = earliest(change.at[state], entry.occurredAt);
    if (entry.outOfOrder) change.outOfOrder += 1;
    for (const code of entry.errorCodes) if (!change.errorCodes.includes(code)) change.errorCodes.push(code);
    change.pricingCategory = entry.pricingCategory ?? change.pricingCategory;
    change.pricingType = entry.pricingType ?? change.pricingType;
    change.conversationId = entry.conversationId ?? change.conversationId;
  }
  return [...changes.values()].sort((a, b) => (a.tenantId === b.tenantId ? compare(a.messageId, b.messageId) : compare(a.tenantId, b.tenantId)));
}

function blank(tenantId: string, messageId: string, at: string): MessageChange {
  return {
    tenantId,
    messageId,
    direction: null,
    type: null,
    state: null,
    stateRank: 0,
    firstAt: at,
    receivedAt: null,
    at: { sent: null, delivered: null, read: null, played: null, failed: null },
    outOfOrder: 0,
    errorCodes: [],
    pricingCategory: null,
    pricingType: null,
    conversationId: null,
    mediaKey: null,
    waId: null,
    userId: null,
    events: 0,
  };
}

/** Up only; a first state (or the first status of a message known only as received) is taken whatever its rank. */
function movesState(current: { state: string | null; stateRank: number }, rank: number): boolean {
  return rank > current.stateRank || (current.stateRank === 0 && (current.state === null || current.state === 'received'));
}

function isStateColumn(state: string): state is StateColumn {
  return (STATE_COLUMNS as readonly string[]).includes(state);
}

function earliest(a: string | null, b: string): string {
  return a === null || Date.parse(b) < Date.parse(a) ? b : a;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string, cut to a column's length, or null. */
function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, MAX_ID) : null;
}

/** An ISO-8601 instant between `earliest` and `latest` (epoch ms), as PostgreSQL reads it, or null. */
function instant(value: unknown, earliest: number, latest: number): string | null {
  if (typeof value !== 'string' || value.length > 40) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) && ms >= earliest && ms <= latest ? new Date(ms).toISOString() : null;
}

/** `value` with every string (and key) one PostgreSQL stores: NUL and lone surrogates become U+FFFD. */
function storable(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(storable);
  if (isObj(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableText(k), storable(v)]));
  return value;
}
