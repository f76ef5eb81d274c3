import { ConsumerStatus, type AsyncMessage, type Connection, type Consumer } from 'rabbitmq-client';
import { Batcher, QUEUES } from '../messaging';
import type { Logger, Metrics } from '../observability';
import { refusesValues, storableText } from './database';
import type { AttemptResult, ClaimedDelivery, DeliveryStore } from './delivery.store';
import { EndpointError, type EndpointAnswer, type EndpointClient } from './endpoint.client';
import { matchesFilter } from './event-filter';
import { signedHeaders } from './signing';
import type { SubscriptionStore } from './subscription.store';

export interface DeliveryOptions {
  timeoutMs: number;
  retryScheduleMs: readonly number[];
  concurrency: number;
  endpointConcurrency: number;
  pollMs: number;
  logRetentionDays: number;
}

export interface DeliveryDeps {
  rabbit: Connection;
  subscriptions: SubscriptionStore;
  deliveries: DeliveryStore;
  client: EndpointClient;
  options: DeliveryOptions;
  logger: Logger;
  metrics: Metrics;
}

/** Longest Retry-After honoured (a longer one waits this long). */
const MAX_RETRY_AFTER_MS = 86_400_000;
const GAUGE_EVERY_MS = 15_000;
/** Events fanned out in one statement, and the longest one waits for its batch. */
const FAN_OUT_BATCH = 100;
const FAN_OUT_WAIT_MS = 20;
/** Attempts recorded in one statement, and the longest one waits for its batch. */
const RECORD_BATCH = 64;
const RECORD_WAIT_MS = 10;
const RECORD_CLOSE_GRACE_MS = 5000;

type AttemptRecord = Parameters<DeliveryStore['record']>[0][number];

interface FanOutEvent {
  tenantId: string;
  eventId: string;
  routingKey: string;
  payload: string;
}
const RETENTION_EVERY_MS = 3_600_000;

/**
 * ROLE=delivery: fans every event out to its tenant's matching subscriptions (a row per
 * subscription in PostgreSQL, then the event is acked: a kill -9 in between redelivers it, and the
 * rows are made once), and makes the deliveries: POST with Standard Webhooks headers, retried on
 * the schedule until delivered, failed or the subscription is gone.
 */
export class DeliveryService {
  private consumer: Consumer | undefined;
  private readonly closing = new AbortController();
  private readonly dispatcher: Dispatcher;
  private readonly fanOuts: Batcher<FanOutEvent>;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly deps: DeliveryDeps) {
    this.dispatcher = new Dispatcher(deps);
    this.fanOuts = new Batcher<FanOutEvent>(
      { size: FAN_OUT_BATCH, waitMs: FAN_OUT_WAIT_MS, writers: 2, refusesItems: refusesValues },
      (events) => this.fanOutBatch(events),
      (err, events, failures) => {
        // PostgreSQL away: the events are held (unacked) and tried again, never requeued in a loop.
        if (failures === 0 || failures % 20 === 0) {
          deps.logger.warn('fan-out: deliveries not recorded (PostgreSQL unavailable?); holding the events', {
            events: events.length,
            eventId: events[0]?.eventId,
            failures,
            cause: String(err),
          });
        }
      },
      (err, event) =>
        // Refused every time (a NUL in its tenant id): dead-lettered (whatsapp.inbound.dead), where an operator sees it.
        deps.logger.error('fan-out: event refused by PostgreSQL; dead-lettered', { eventId: event.eventId, routingKey: event.routingKey, cause: String(err) }),
    );
  }

  start(): void {
    this.consumer = this.deps.rabbit.createConsumer(
      {
        queue: QUEUES.subscriptionFanout,
        queueOptions: { queue: QUEUES.subscriptionFanout, durable: true, arguments: { 'x-queue-type': 'quorum' } },
        qos: { prefetchCount: FAN_OUT_BATCH * 3 },
        concurrency: FAN_OUT_BATCH * 3,
      },
      (msg) => this.fanOut(msg),
    );
    this.consumer.on('error', (err: unknown) => this.deps.logger.warn('fan-out consumer error; it recovers by itself', { cause: String(err) }));
    this.dispatcher.start();
    this.timers.push(
      setInterval(() => void this.measureBacklog(), GAUGE_EVERY_MS),
      setInterval(() => void this.purgeLog(), RETENTION_EVERY_MS),
    );
    void this.measureBacklog();
    void this.purgeLog();
  }

  /** Stops taking events, lets the attempts in progress end (each within its timeout); idempotent. */
  async close(): Promise<void> {
    this.closing.abort();
    for (const timer of this.timers) clearInterval(timer);
    const consumer = this.consumer?.close();
    await this.fanOuts.close();
    await consumer;
    await this.dispatcher.close();
    this.deps.client.close();
  }

  private async fanOut(msg: AsyncMessage): Promise<ConsumerStatus> {
    // The client has parsed an application/json body already: read the ids there, keep the JSON text.
    const payload = Buffer.isBuffer(msg.body) ? msg.body.toString('utf8') : JSON.stringify(msg.body);
    let event: { tenantId: string; eventId: string };
    try {
      event = idsOf(Buffer.isBuffer(msg.body) ? (JSON.parse(payload) as unknown) : msg.body);
    } catch (err) {
      // Not an event of the contract: nothing to deliver (and nothing a retry would mend).
      this.deps.logger.error('fan-out: not an event, skipped', { routingKey: msg.routingKey, cause: String(err) });
      return ConsumerStatus.ACK;
    }
    // Held (unacked) until its batch is recorded; shutting down first, back to the queue; refused, dead-lettered.
    const outcome = await this.fanOuts.add({ ...event, routingKey: msg.routingKey, payload });
    return outcome === 'written' ? ConsumerStatus.ACK : outcome === 'refused' ? ConsumerStatus.DROP : ConsumerStatus.REQUEUE;
  }

  /** A batch of events: their tenants' subscriptions in one query, the matching deliveries in one more. */
  private async fanOutBatch(events: readonly FanOutEvent[]): Promise<void> {
    const subscriptions = await this.deps.subscriptions.ofTenants([...new Set(events.map((e) => e.tenantId))]);
    const pairs = events.flatMap((event) =>
      (subscriptions.get(event.tenantId) ?? []).filter((s) => matchesFilter(s.filter, event.routingKey)).map((s) => ({ event, subscriptionId: s.id })),
    );
    if ((await this.deps.deliveries.fanOut(pairs)) > 0) this.dispatcher.wake();
  }

  private async measureBacklog(): Promise<void> {
    try {
      const oldest = await this.deps.deliveries.oldestPending();
      this.deps.metrics.subscriptionOldestPending.reset();
      for (const { tenantId, seconds } of oldest) this.deps.metrics.subscriptionOldestPending.set({ tenant: tenantId }, seconds);
    } catch (err) {
      this.deps.logger.debug('delivery backlog not measured', { cause: String(err) });
    }
  }

  private async purgeLog(): Promise<void> {
    try {
      let removed = 0;
      for (
        let batch = await this.deps.deliveries.purgeFinished(this.deps.options.logRetentionDays);
        batch > 0;
        batch = await this.deps.deliveries.purgeFinished(this.deps.options.logRetentionDays)
      ) {
        removed += batch;
        if (this.closing.signal.aborted) break;
      }
      if (removed > 0) this.deps.logger.info('delivery log trimmed', { removed, retentionDays: this.deps.options.logRetentionDays });
    } catch (err) {
      this.deps.logger.warn('delivery log not trimmed', { cause: String(err) });
    }
  }
}

function idsOf(body: unknown): { tenantId: string; eventId: string } {
  const parsed = (typeof body === 'object' && body !== null ? body : {}) as { tenantId?: unknown; eventId?: unknown };
  if (typeof parsed.tenantId !== 'string' || typeof parsed.eventId !== 'string') throw new Error('no tenantId or eventId');
  return { tenantId: parsed.tenantId, eventId: parsed.eventId };
}

/**
 * Takes due deliveries from PostgreSQL and attempts them: at most `concurrency` at once, at most
 * `endpointConcurrency` per subscription, so a slow or dead endpoint holds only its own slots. A
 * claim takes up to twice that per subscription (the second half waits here, leased, for a slot:
 * fewer, larger claims), bounded so that what waits is attempted well within its lease.
 */
class Dispatcher {
  /** Per subscription: attempts in progress, and claimed deliveries waiting for a slot. */
  private readonly inFlight = new Map<string, number>();
  private readonly waiting = new Map<string, ClaimedDelivery[]>();
  private waitingTotal = 0;
  private readonly running = new Set<Promise<void>>();
  private active = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private closed = false;

  /** Attempts' outcomes, recorded many per statement. */
  private readonly records: Batcher<AttemptRecord>;
  /** Outcomes being recorded (their endpoints' slots are free already). */
  private readonly settling = new Set<Promise<void>>();

  constructor(private readonly deps: DeliveryDeps) {
    this.records = new Batcher<AttemptRecord>(
      { size: RECORD_BATCH, waitMs: RECORD_WAIT_MS, writers: 2, refusesItems: refusesValues },
      (records) => deps.deliveries.record(records),
      (err, records, failures) => {
        if (failures === 0 || failures % 20 === 0) {
          deps.logger.warn('delivery attempts not recorded yet (PostgreSQL unavailable?); holding them', {
            attempts: records.length,
            failures,
            cause: String(err),
          });
        }
      },
      (err, record) =>
        deps.logger.error('delivery attempt’s record refused by PostgreSQL; the delivery will be attempted again after its lease', {
          tenantId: record.delivery.tenantId,
          deliveryId: record.delivery.id,
          webhookId: record.delivery.webhookId,
          cause: String(err),
        }),
    );
  }

  start(): void {
    this.timer = setInterval(() => this.wake(), this.deps.options.pollMs);
    this.wake();
  }

  wake(): void {
    if (this.closed) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.tick().finally(() => {
      this.ticking = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /**
   * No new claim or attempt; waits for a claim under way and every attempt in progress, and gives
   * back what waited for a slot (due again at once, for another process or the next start).
   */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.ticking;
    // The attempts in progress end (each within its timeout) and are recorded; recording held
    // longer than the grace (PostgreSQL away) is given up, and the attempt made again after its lease.
    await Promise.all([...this.running]);
    const grace = setTimeout(() => void this.records.close(), RECORD_CLOSE_GRACE_MS);
    await Promise.all([...this.settling]);
    clearTimeout(grace);
    await this.records.close();
    const left = [...this.waiting.values()].flat();
    this.waiting.clear();
    this.waitingTotal = 0;
    if (left.length > 0)
      await this.deps.deliveries
        .giveBack(left)
        .catch((err: unknown) => this.deps.logger.warn('claimed deliveries not given back; due again when their lease ends', { cause: String(err) }));
  }

  private async tick(): Promise<void> {
    const { concurrency, endpointConcurrency } = this.deps.options;
    const room = concurrency * 2 - this.active - this.waitingTotal;
    if (room <= 0) return;
    const held = new Map<string, number>();
    for (const [id, n] of this.inFlight) held.set(id, n);
    for (const [id, list] of this.waiting) held.set(id, (held.get(id) ?? 0) + list.length);
    let claimed: ClaimedDelivery[];
    try {
      claimed = await this.deps.deliveries.claim({
        limit: room,
        perSubscription: endpointConcurrency * 2,
        busy: held,
        leaseSeconds: Math.ceil((this.deps.options.timeoutMs * 3) / 1000) + 30,
      });
    } catch (err) {
      this.deps.logger.warn('deliveries not taken (PostgreSQL unavailable?)', { cause: String(err) });
      return;
    }
    for (const delivery of claimed) {
      const list = this.waiting.get(delivery.subscriptionId) ?? [];
      list.push(delivery);
      this.waiting.set(delivery.subscriptionId, list);
      this.waitingTotal += 1;
    }
    for (const id of new Set(claimed.map((d) => d.subscriptionId))) this.pump(id);
    if (claimed.length === room) this.again = true;
  }

  /** Starts the subscription's waiting deliveries while it and the process have slots. */
  private pump(subscriptionId: string): void {
    const list = this.waiting.get(subscriptionId);
    while (
      list &&
      list.length > 0 &&
      this.active < this.deps.options.concurrency &&
      (this.inFlight.get(subscriptionId) ?? 0) < this.deps.options.endpointConcurrency
    ) {
      const delivery = list.shift()!;
      this.waitingTotal -= 1;
      this.active += 1;
      this.inFlight.set(subscriptionId, (this.inFlight.get(subscriptionId) ?? 0) + 1);
      const run = this.attempt(delivery).finally(() => {
        this.active -= 1;
        const left = (this.inFlight.get(subscriptionId) ?? 1) - 1;
        if (left > 0) this.inFlight.set(subscriptionId, left);
        else this.inFlight.delete(subscriptionId);
        this.running.delete(run);
        if (this.closed) return;
        this.pump(subscriptionId);
        // A global slot came free: another subscription's waiting delivery may take it.
        for (const other of this.waiting.keys()) if (other !== subscriptionId) this.pump(other);
        // Claim again once this subscription has used half of what it holds (a claim refills it by
        // that much: one query per endpointConcurrency attempts, not one per attempt).
        const held = (this.inFlight.get(subscriptionId) ?? 0) + (this.waiting.get(subscriptionId)?.length ?? 0);
        if (held <= this.deps.options.endpointConcurrency || this.active === 0) this.wake();
      });
      this.running.add(run);
    }
    if (list && list.length === 0) this.waiting.delete(subscriptionId);
  }

  /**
   * POSTs the delivery (the endpoint's slot is held for this only), then records the outcome in the
   * background (a batch of records, tracked for close): the slot is free for the next attempt while
   * this one is being written.
   */
  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const started = new Date();
    const startedMs = performance.now();
    let answer: EndpointAnswer | undefined;
    let failure: EndpointError | undefined;
    try {
      answer = await this.deps.client.post(delivery.url, delivery.payload, signedHeaders(delivery.webhookId, delivery.payload, delivery.secrets));
    } catch (err) {
      failure = err instanceof EndpointError ? err : new EndpointError('endpoint_unreachable', String(err));
    }
    const latencyMs = Math.round(performance.now() - startedMs);
    const settling = this.settle(delivery, {
      startedAt: started.toISOString(),
      latencyMs,
      answer,
      failure,
    });
    this.settling.add(settling);
    void settling.finally(() => this.settling.delete(settling));
  }

  /** Records an attempt's outcome, counts it, and disables a subscription whose endpoint answered 410. */
  private async settle(
    delivery: ClaimedDelivery,
    made: { startedAt: string; latencyMs: number; answer: EndpointAnswer | undefined; failure: EndpointError | undefined },
  ): Promise<void> {
    const { subscriptions, logger, metrics } = this.deps;
    const { answer, failure, latencyMs } = made;
    const log = {
      tenantId: delivery.tenantId,
      subscriptionId: delivery.subscriptionId,
      deliveryId: delivery.id,
      webhookId: delivery.webhookId,
      attempt: delivery.attempt,
    };
    try {
      const result = this.judge(delivery, answer, failure);
      const outcome = result.next === 'failed' && answer?.statusCode === 410 ? 'gone' : result.next;
      const recorded = await this.records.add({
        delivery,
        attempt: {
          startedAt: made.startedAt,
          latencyMs,
          statusCode: answer?.statusCode ?? null,
          error: failure ? storableText(`${failure.code}: ${failure.message}`) : null,
          response: answer?.body ?? null,
        },
        result,
      });
      // Shutting down with PostgreSQL away (or a record PostgreSQL refuses): the lease runs out and
      // the delivery is attempted again (same webhook-id).
      if (recorded !== 'written') {
        if (recorded === 'returned') logger.warn('delivery attempt not recorded; it will be made again', log);
        return;
      }
      metrics.subscriptionDeliveries.inc({ tenant: delivery.tenantId, outcome });
      metrics.subscriptionAttemptDuration.observe({ outcome }, latencyMs / 1000);
      if (outcome === 'gone' && (await subscriptions.disable(delivery.subscriptionId, 'gone'))) {
        metrics.subscriptionsDisabled.inc({ tenant: delivery.tenantId, reason: 'gone' });
        logger.warn('subscription disabled: its endpoint answered 410 Gone', log);
      }
      if (result.next === 'delivered') logger.debug('delivered', { ...log, statusCode: result.statusCode, latencyMs });
      else
        logger.info(result.next === 'retry' ? 'delivery attempt failed; retrying' : 'delivery failed', {
          ...log,
          error: result.error,
          latencyMs,
          nextAttemptAt: result.next === 'retry' ? result.at.toISOString() : undefined,
        });
    } catch (err) {
      // PostgreSQL away after the attempt: the lease runs out and the delivery is attempted again (same webhook-id).
      logger.warn('delivery attempt not recorded; it will be made again', { ...log, cause: String(err) });
    }
  }

  /** What an attempt's answer (or failure) means for the delivery. */
  private judge(delivery: ClaimedDelivery, answer: EndpointAnswer | undefined, failure: EndpointError | undefined): AttemptResult {
    const code = answer?.statusCode;
    if (code !== undefined && code >= 200 && code < 300) return { next: 'delivered', statusCode: code };
    if (code === 410) return { next: 'failed', statusCode: code, error: 'gone: the endpoint answered 410, the subscription is disabled' };
    const retryable = code === undefined || code === 408 || code === 429 || code >= 500 || (code >= 300 && code < 400);
    const error = failure
      ? `${failure.code}: ${failure.message}`
      : code !== undefined && code >= 300 && code < 400
        ? `redirect ${code} not followed`
        : `http_${code ?? 0}`;
    if (!retryable) return { next: 'failed', statusCode: code, error };
    const schedule = this.deps.options.retryScheduleMs;
    if (delivery.attempt > schedule.length)
      return { next: 'failed', statusCode: code, error: `retries exhausted (${delivery.attempt} attempts); last: ${error}` };
    const planned = schedule[delivery.attempt - 1]! * (1 + Math.random() * 0.1);
    const asked = code === 429 || code === 503 ? retryAfterMs(answer?.headers['retry-after']) : undefined;
    return { next: 'retry', at: new Date(Date.now() + Math.max(planned, Math.min(asked ?? 0, MAX_RETRY_AFTER_MS))), statusCode: code, error };
  }
}

/** `Retry-After` in seconds or as an HTTP date, in ms from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
