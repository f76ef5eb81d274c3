import pLimit from 'p-limit';
import type { ConversationSequenceStore, DedupStore, StatusOrderStore, StatusTransition } from '../cache';
import { AppError, PermanentError, TransientError } from '../errors';
import type { StateManagerClient, StateMessage } from '../integrations';
import type { EventPublisher, HandlerOutcome, HandoffMessage, PublishedBy, StateOutboxPublisher } from '../messaging';
import { conversationKeyOf, parseEnvelope, selectUpdates, shardsOf, updateTypeLabel, type EntryRef, type Update } from '../meta';
import { LogThrottle, type Logger, type Metrics } from '../observability';
import type { TenantResolver } from '../tenants';
import type { ArchiveStep } from './archive.handler';
import { eventIdOf, type InboundEvent } from '../contract';
import type { ConversationOrder, OrderSlot } from './conversation-order';
import type { HandoffHandler } from './handoff.consumer';
import { buildEvent, recordStatus, type BuildContext } from './normalize/event-builder';
import type { MediaPort } from './processors';

export interface ProcessDeps {
  tenants: TenantResolver;
  /** Marks of events already confirmed by the broker, and claims on those being built (namespace `ev`). */
  eventDedup: DedupStore;
  /** How long a claim lasts if its holder never finishes (EVENT_CLAIM_TTL_SECONDS). */
  claimLeaseMs: number;
  statusOrder: StatusOrderStore;
  /** Each conversation's events published in order (held at most ORDER_HOLD_MS for an earlier one). */
  order: ConversationOrder;
  /** `conversation.sequence`, numbered in Redis. */
  sequences: ConversationSequenceStore;
  events: EventPublisher;
  media: MediaPort;
  rawBucket: string;
  /** Writes the raw payload beside the events (or queues it for the archive consumer). */
  archive: ArchiveStep;
  /** When STATE_MANAGER_URL is set: mapping lookups, and tracking through the durable outbox. */
  stateManager?: { client: StateManagerClient; outbox: StateOutboxPublisher };
  logger: Logger;
  metrics: Metrics;
}

const throttle = new LogThrottle();

/**
 * Events of one hand-off built and published at once. Meta batches up to 1,000 updates: they go
 * in two waves; a history chunk of thousands of messages in many, each within the confirm timeout.
 */
const PUBLISHES_IN_FLIGHT_PER_HANDOFF = 500;

/**
 * Process queue: every update of the tenant's entries becomes one event, published with
 * confirms as soon as it is built (a slow media download does not hold a text back). Events
 * already confirmed for an earlier delivery are skipped by their stable id. If some updates
 * fail, the others stay published and only the failing ones are retried.
 *
 * Two hand-offs of the same webhook in flight at once (Meta sends a retry while the first POST
 * is still being answered) make one event: each event is claimed in Redis, with the lookup, by
 * the hand-off that builds it; the other skips it. Skipping is safe because the holder's own
 * hand-off stays unacknowledged in the broker until its event is confirmed, retried or stored
 * as failed; a holder whose publish fails gives the claim up, and a worker killed mid-message
 * is redelivered the same hand-off id, which takes its own claim back.
 *
 * Live traffic is archived beside its events (a replay comes from the archive); the hand-off is
 * settled only once both are done, so nothing is acked before its archive is written or queued.
 */
export function processHandler(deps: ProcessDeps): HandoffHandler {
  return async (handoff) => {
    const archiving =
      handoff.source === 'meta' && !handoff.archived
        ? deps.archive(handoff).then(() => {
            // The hand-off is this delivery's state: a retry copy made from it skips the archive.
            handoff.archived = true;
          })
        : Promise.resolve();
    const [archived, processed] = await Promise.allSettled([archiving, processUpdates(handoff, deps)]);
    if (processed.status === 'rejected') throw processed.reason;
    if (archived.status === 'rejected' && processed.value.status === 'done') return { status: 'failed', error: archived.reason };
    return processed.value;
  };
}

/** Every update of the hand-off as a confirmed event; what failed is reported, not thrown. */
async function processUpdates(handoff: HandoffMessage, deps: ProcessDeps): Promise<HandlerOutcome> {
  let entries;
  try {
    const wanted = new Set(handoff.entryIndexes);
    entries = parseEnvelope(handoff.body).entries.filter((entry) => wanted.has(entry.index));
  } catch (cause) {
    throw new PermanentError('unparseable_payload', 'Hand-off payload is not a WhatsApp webhook', { cause });
  }
  // Shards are worked out on the tenant's whole share, as the receiver did, then `only` applies.
  const all = selectUpdates(entries);
  const shards = handoff.shard ? shardsOf(all, handoff.shard.count) : undefined;
  const wanted = handoff.only ? new Set(handoff.only) : undefined;
  const updates = all.filter((update, i) => (!wanted || wanted.has(update.ref)) && (!shards || shards[i] === handoff.shard!.index));
  const ids = updates.map((update) => eventIdOf(handoff.tenantId, update.kind, update.key));
  // Before anything is awaited: hand-offs start in the order they were delivered, and their events
  // take their places in their conversations (and their sequence numbers) in that order.
  const sequenced = sequence(handoff, updates, ids, deps);
  try {
    return await publishUpdates(handoff, entries, updates, ids, sequenced, deps);
  } finally {
    // Whatever happened to the hand-off, its events stop holding their conversations back.
    for (const slot of sequenced.slots) slot?.failed();
  }
}

interface Sequenced {
  /** Indexes of `updates` in the order their events are published: by Meta's timestamp, then as they came. */
  order: number[];
  /** Per update, its place in its conversation (none outside conversations). */
  slots: Array<OrderSlot | undefined>;
  /** Per update, its `conversation.sequence` (null outside conversations). */
  numbers: Promise<Array<number | null>>;
}

function sequence(handoff: HandoffMessage, updates: readonly Update[], ids: readonly string[], deps: ProcessDeps): Sequenced {
  const times = updates.map((update) => Number(update.item.timestamp) || 0);
  const order = updates.map((_, i) => i).sort((a, b) => times[a]! - times[b]! || a - b);
  const conversations = updates.map(conversationKeyOf);
  const slots: Array<OrderSlot | undefined> = [];
  const ordered = order.filter((i) => conversations[i] !== null);
  for (const i of ordered) slots[i] = deps.order.reserve(`${handoff.tenantId}/${conversations[i]!}`, ids[i]!);
  const numbers = deps.sequences
    .assign(
      handoff.tenantId,
      ordered.map((i) => ({ eventId: ids[i]!, conversation: conversations[i]! })),
    )
    .then((assigned) => {
      const byUpdate: Array<number | null> = updates.map(() => null);
      ordered.forEach((i, k) => (byUpdate[i] = assigned[k] ?? null));
      return byUpdate;
    });
  numbers.catch(() => undefined); // awaited beside the claims
  return { order, slots, numbers };
}

async function publishUpdates(
  handoff: HandoffMessage,
  entries: EntryRef[],
  updates: readonly Update[],
  ids: readonly string[],
  sequenced: Sequenced,
  deps: ProcessDeps,
): Promise<HandlerOutcome> {
  const tenant = entries[0] ? await deps.tenants.resolveEntry(entries[0]) : null;
  if (tenant?.id !== handoff.tenantId) {
    throttle.run(`tenant-missing:${handoff.tenantId}`, (suppressed) =>
      deps.logger.warn('tenant record not found for this hand-off; publishing without tenant metadata', { tenantId: handoff.tenantId, suppressed }),
    );
  }

  // Status order is recorded beside the lookup, in the same round trip to Redis: recording a state
  // again changes nothing, so it need not wait to learn which events are already published.
  const statusRecords = new Map<string, Promise<StatusTransition>>();
  for (const update of updates) {
    if (update.kind !== 'status') continue;
    const record = recordStatus(update, { tenantId: handoff.tenantId, statusOrder: deps.statusOrder });
    record.catch(() => undefined); // awaited (and reported) where the event is built, if it is
    statusRecords.set(update.ref, record);
  }
  const [claims, numbers] = await Promise.all([deps.eventDedup.claim(handoff.tenantId, ids, handoff.handoffId, deps.claimLeaseMs), sequenced.numbers]);
  for (const claim of claims) if (claim === 'held') deps.metrics.eventsClaimHeld.inc({ tenant: handoff.tenantId });

  const ctx: BuildContext = {
    tenantId: handoff.tenantId,
    tenant: tenant?.id === handoff.tenantId ? tenant : null,
    correlationId: handoff.correlationId,
    receivedAt: handoff.receivedAt,
    source: handoff.source,
    raw: { bucket: deps.rawBucket, key: handoff.rawKey },
    media: deps.media,
    statusOrder: deps.statusOrder,
    statusRecords,
  };
  // A history chunk may hold thousands of messages: their confirms must not all be awaited at once.
  // They start in publishing order, so an event in flight never waits for one that cannot start.
  const inFlight = pLimit(PUBLISHES_IN_FLIGHT_PER_HANDOFF);
  const by: PublishedBy = { attempt: handoff.attempt, ...(handoff.lastError ? { lastError: handoff.lastError } : {}) };
  const results: Array<Promise<void>> = [];
  for (const i of sequenced.order) {
    const place = { slot: sequenced.slots[i], sequence: numbers[i] ?? null };
    // Already published, or being published by another copy of this webhook: not this hand-off's to wait for.
    if (claims[i] !== 'claimed') place.slot?.published();
    results[i] = claims[i] === 'claimed' ? inFlight(() => publishOne(updates[i]!, ids[i]!, place, ctx, by, deps)) : Promise.resolve();
  }
  const settled = await Promise.allSettled(results);

  const failed = settled.flatMap((result, i) =>
    result.status === 'rejected' ? [{ ref: updates[i]?.ref ?? '', id: ids[i]!, error: result.reason as unknown }] : [],
  );
  if (failed.length === 0) return { status: 'done' };
  // Given up so that a copy of this webhook arriving before the retry may publish them.
  await deps.eventDedup
    .release(
      handoff.tenantId,
      failed.map((f) => f.id),
      handoff.handoffId,
    )
    .catch((err: unknown) => deps.logger.warn('claims not released; they lapse after EVENT_CLAIM_TTL_SECONDS', { cause: String(err) }));
  for (const { error } of failed) {
    deps.metrics.updateFailures.inc({ tenant: handoff.tenantId, reason: error instanceof AppError ? error.code : 'internal_error' });
  }
  return { status: 'partial', failedRefs: failed.map((f) => f.ref), error: decisive(failed.map((f) => f.error)) };
}

/** Builds one event and publishes it in its turn; its place is given up however that ends. */
async function publishOne(
  update: Update,
  eventId: string,
  place: { slot: OrderSlot | undefined; sequence: number | null },
  ctx: BuildContext,
  by: PublishedBy,
  deps: ProcessDeps,
): Promise<void> {
  try {
    const event = await buildEvent(update, ctx, eventId);
    // The State Manager tracks what customers send live, as before echoes and history were message events.
    const tracked = deps.stateManager && event.kind === 'message' && event.origin === 'live' ? deps.stateManager : undefined;
    if (tracked) await withConversation(event, tracked.client, deps);
    if (event.conversation) event.conversation.sequence = place.sequence;
    if (place.slot) await takeTurn(event, place.slot, deps);
    // The next event of the conversation goes once this one is on the channel (the broker keeps a
    // channel's order), not after its confirm: a conversation's events are pipelined, not serialized.
    await deps.events.publish(event, () => place.slot?.published(), by);
    await afterPublish(event, tracked, deps);
  } finally {
    place.slot?.failed();
  }
}

/** Waits for the earlier events of the event's conversation (at most ORDER_HOLD_MS), and says what it overtook. */
async function takeTurn(event: InboundEvent, slot: OrderSlot, deps: ProcessDeps): Promise<void> {
  const turn = await slot.turn();
  if (turn.heldMs === 0) return;
  deps.metrics.orderHeld.inc({ tenant: event.tenantId });
  deps.metrics.orderHoldDuration.observe(turn.heldMs / 1000);
  if (turn.overtook.length === 0 || !event.conversation) return;
  event.conversation.overtook = turn.overtook;
  deps.metrics.orderHoldExpired.inc({ tenant: event.tenantId });
  deps.logger.info('event published ahead of earlier ones of its conversation (still being built after ORDER_HOLD_MS, or failed)', {
    eventId: event.eventId,
    sequence: event.conversation.sequence,
    overtook: turn.overtook,
  });
}

async function afterPublish(event: InboundEvent, tracked: ProcessDeps['stateManager'], deps: ProcessDeps): Promise<void> {
  if (tracked) await tracked.outbox.publish(stateMessageOf(event), { ...event, attempt: 1 });
  const type = updateTypeLabel(event.kind, event.type);
  deps.metrics.eventsPublished.inc({ tenant: event.tenantId, kind: event.kind, type });
  if (event.status?.outOfOrder) deps.metrics.statusOutOfOrder.inc({ tenant: event.tenantId, status: type });
  await deps.eventDedup.mark(event.tenantId, [event.eventId]).catch((err: unknown) => {
    deps.logger.warn('event published but not marked; a redelivery would publish it again', { eventId: event.eventId, cause: String(err) });
  });
}

/** The State Manager's mapping for the customer; while it is unavailable the event says so (`degraded`). */
async function withConversation(event: InboundEvent, client: StateManagerClient, deps: ProcessDeps): Promise<void> {
  const customer = event.conversation?.customer?.waId ?? event.conversation?.customer?.userId;
  if (!customer) return;
  try {
    event.metadata.conversation = await client.mapping(event.tenantId, customer, event.correlationId);
  } catch (err) {
    event.metadata.degraded.push('state-manager');
    deps.metrics.dependencyDegraded.inc({ dependency: 'state_manager', feature: 'conversation_mapping' });
    throttle.run('state-manager', (suppressed) =>
      deps.logger.warn('State Manager unavailable; publishing without the conversation mapping', { cause: String(err), suppressed }),
    );
  }
}

function stateMessageOf(event: InboundEvent): StateMessage {
  return {
    tenantId: event.tenantId,
    eventId: event.eventId,
    messageId: event.messageId,
    type: event.type,
    direction: 'inbound',
    from: { waId: event.from?.waId ?? null, userId: event.from?.userId ?? null, phone: event.from?.phone ?? null },
    timestamp: event.timestamp,
    receivedAt: event.receivedAt,
    correlationId: event.correlationId,
  };
}

/** The error that decides the retry policy: anything that is not an outage wins (bounded attempts). */
function decisive(errors: unknown[]): unknown {
  return errors.find((error) => !(error instanceof TransientError)) ?? errors[0];
}
