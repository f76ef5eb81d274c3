import type { FailedEntry, RawPayloadStore } from '../storage';
import type { EventRow, LedgerStore, MessageRow, StoredTrace } from './ledger.store';

/** The POST (webhook) that carried events of the message, and whether the failed store holds it. */
export interface TracePost {
  correlationId: string;
  receivedAt: string;
  rawKey: string;
  source: string;
  /** The payload's copy under failed/ (some of its updates, or all, were dead-lettered), or null. */
  failed: FailedEntry | null;
}

export interface TraceEvent {
  eventId: string;
  kind: string;
  type: string;
  routingKey: string;
  occurredAt: string;
  receivedAt: string;
  recordedAt: string;
  correlationId: string;
  /** The hand-off attempt that published it: above 1 after a retry, whose cause is `retriedAfter`. */
  attempt: number | null;
  retriedAfter: string | null;
  state: string | null;
  previous: string | null;
  outOfOrder: boolean;
  sequence: number | null;
}

export interface TraceMedia {
  bucket: string | null;
  key: string | null;
  mimeType: string | null;
  size: number | null;
  error: { code: string; message: string } | null;
}

export interface MessageTrace {
  tenantId: string;
  messageId: string;
  message: {
    direction: string | null;
    type: string | null;
    state: string | null;
    times: Record<string, string | null>;
    outOfOrder: number;
    errorCodes: number[];
    pricing: { category: string | null; type: string | null };
    conversationId: string | null;
    mediaKey: string | null;
    waId: string | null;
    userId: string | null;
    updatedAt: string;
  } | null;
  posts: TracePost[];
  events: TraceEvent[];
  /** Status events in the order they arrived, each with its flag. */
  statuses: Array<{ state: string; at: string; receivedAt: string; outOfOrder: boolean; previous: string | null }>;
  media: TraceMedia | null;
  /** Every step in order, one line each (what `npm run trace` prints). */
  steps: string[];
}

/** Joins what the ledger has of a message with the failed store's entries for the payloads that carried it. */
export class MessageTracer {
  constructor(
    private readonly ledger: LedgerStore,
    private readonly raw: RawPayloadStore,
  ) {}

  async trace(messageId: string, tenantId?: string): Promise<MessageTrace[]> {
    const stored = await this.ledger.trace(messageId, tenantId);
    return Promise.all(stored.map((s) => this.build(messageId, s)));
  }

  private async build(messageId: string, stored: StoredTrace): Promise<MessageTrace> {
    const posts = new Map<string, TracePost>();
    for (const row of stored.events) {
      if (posts.has(row.correlation_id)) continue;
      posts.set(row.correlation_id, {
        correlationId: row.correlation_id,
        receivedAt: row.received_at.toISOString(),
        rawKey: row.raw_key,
        source: row.source,
        failed: null,
      });
    }
    await Promise.all([...posts.values()].map(async (post) => (post.failed = post.rawKey ? await this.raw.failedEntry(post.rawKey) : null)));
    const events = stored.events.map(eventOf);
    const media = stored.events.map((r) => mediaOf(r)).find((m) => m !== null) ?? null;
    const trace: MessageTrace = {
      tenantId: stored.tenantId,
      messageId,
      message: stored.message ? messageOf(stored.message) : null,
      posts: [...posts.values()],
      events,
      statuses: events
        .filter((e) => e.kind === 'status')
        .map((e) => ({ state: e.state ?? e.type, at: e.occurredAt, receivedAt: e.receivedAt, outOfOrder: e.outOfOrder, previous: e.previous })),
      media,
      steps: [],
    };
    trace.steps = stepsOf(trace);
    return trace;
  }
}

function eventOf(row: EventRow): TraceEvent {
  const status = row.status;
  return {
    eventId: row.event_id,
    kind: row.kind,
    type: row.type,
    routingKey: row.routing_key,
    occurredAt: row.occurred_at.toISOString(),
    receivedAt: row.received_at.toISOString(),
    recordedAt: row.recorded_at.toISOString(),
    correlationId: row.correlation_id,
    attempt: row.handoff_attempt,
    retriedAfter: row.handoff_last_error,
    state: row.kind === 'status' ? (typeof status?.state === 'string' ? status.state : row.type) : null,
    previous: typeof status?.previous === 'string' ? status.previous : null,
    outOfOrder: status?.outOfOrder === true,
    sequence: typeof row.sequence === 'number' ? row.sequence : null,
  };
}

function mediaOf(row: EventRow): TraceMedia | null {
  const m = row.media;
  if (!m) return null;
  const error = m.error && typeof m.error === 'object' ? (m.error as { code?: unknown; message?: unknown }) : null;
  return {
    bucket: typeof m.bucket === 'string' ? m.bucket : null,
    key: typeof m.key === 'string' ? m.key : null,
    mimeType: typeof m.mimeType === 'string' ? m.mimeType : null,
    size: typeof m.size === 'number' ? m.size : null,
    error: error ? { code: typeof error.code === 'string' ? error.code : '', message: typeof error.message === 'string' ? error.message : '' } : null,
  };
}

function messageOf(row: MessageRow): NonNullable<MessageTrace['message']> {
  const iso = (d: Date | null): string | null => d?.toISOString() ?? null;
  return {
    direction: row.direction,
    type: row.type,
    state: row.state,
    times: {
      received: iso(row.received_at),
      sent: iso(row.sent_at),
      delivered: iso(row.delivered_at),
      read: iso(row.read_at),
      played: iso(row.played_at),
      failed: iso(row.failed_at),
    },
    outOfOrder: row.out_of_order,
    errorCodes: row.error_codes,
    pricing: { category: row.pricing_category, type: row.pricing_type },
    conversationId: row.conversation_id,
    mediaKey: row.media_key,
    waId: row.wa_id,
    userId: row.user_id,
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The lifecycle as lines: each POST, then what came of it (events, retries, media, failed store), in order of receipt. */
function stepsOf(trace: MessageTrace): string[] {
  const steps: string[] = [];
  const m = trace.message;
  steps.push(
    m
      ? `message ${trace.messageId} of tenant ${trace.tenantId}: ${m.direction ?? 'direction unknown'} ${m.type ?? ''}`.trimEnd() +
          `, state ${m.state ?? 'none'}${m.errorCodes.length > 0 ? `, errors ${m.errorCodes.join(', ')}` : ''}` +
          `${m.pricing.category ? `, pricing ${m.pricing.category}` : ''}`
      : `message ${trace.messageId} of tenant ${trace.tenantId}: no message row (past retention, or its events are still on their way)`,
  );
  for (const post of trace.posts) {
    steps.push(`POST received ${post.receivedAt} correlation ${post.correlationId} (${post.source}), raw ${post.rawKey || 'not archived'}`);
    for (const e of trace.events.filter((x) => x.correlationId === post.correlationId)) {
      if (e.attempt !== null && e.attempt > 1) {
        steps.push(`  retry: published by attempt ${e.attempt} of the hand-off${e.retriedAfter ? `; the attempt before failed: ${e.retriedAfter}` : ''}`);
      }
      const what =
        e.kind === 'status'
          ? `status ${e.state}${e.previous ? ` (after ${e.previous})` : ''}${e.outOfOrder ? ' OUT OF ORDER: kept, state not moved back' : ''}`
          : `${e.kind} ${e.type}`;
      steps.push(`  event ${e.routingKey} ${e.eventId} at ${e.occurredAt}: ${what}${e.sequence !== null ? `, #${e.sequence} in its conversation` : ''}`);
    }
    if (post.failed) {
      steps.push(
        `  failed store: ${post.failed.key}${post.failed.only ? ` (updates ${post.failed.only.join(', ')})` : ' (whole payload)'} after ${post.failed.attempts ?? '?'} attempt(s)` +
          `${post.failed.failedAt ? ` at ${post.failed.failedAt}` : ''}: ${post.failed.error ?? 'no error recorded'}; replay it with npm run replay`,
      );
    }
  }
  if (trace.media) {
    steps.push(
      trace.media.error
        ? `media: not stored (${trace.media.error.code}: ${trace.media.error.message}); the message was published without it`
        : `media: stored at ${trace.media.bucket ?? '?'}/${trace.media.key ?? '?'}${trace.media.mimeType ? ` (${trace.media.mimeType}, ${trace.media.size ?? '?'} bytes)` : ''}`,
    );
  }
  return steps;
}
