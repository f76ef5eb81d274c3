import { setTimeout as sleep } from 'node:timers/promises';
import { ConsumerStatus, type AsyncMessage, type Connection, type Consumer } from 'rabbitmq-client';
import { QUEUES } from '../messaging';
import type { Logger, Metrics } from '../observability';
import { ledgerEntryOf, type LedgerEntry } from './ledger-entry';
import type { LedgerStore } from './ledger.store';

export interface LedgerOptions {
  /** Most events written in one transaction. */
  batchSize: number;
  /** Longest an event waits for its batch to fill. */
  batchMs: number;
}

export interface LedgerDeps {
  rabbit: Connection;
  store: LedgerStore;
  options: LedgerOptions;
  logger: Logger;
  metrics: Metrics;
}

const LAG_EVERY_MS = 5000;
/** Batches written at once, each in its own transaction (one fills while others commit). */
const WRITERS = 2;
const RETENTION_EVERY_MS = 3_600_000;
const DAY_MS = 86_400_000;

interface Waiting {
  entry: LedgerEntry;
  done: (status: ConsumerStatus) => void;
}

/**
 * ROLE=ledger: consumes its own copy of every event (`whatsapp.ledger`) and writes it to PostgreSQL
 * in batches; an event is acked only once the transaction holding it has committed, so a kill at
 * any point leaves it unacked and the broker gives it again (the ledger writes each event id once).
 * While PostgreSQL is away the batch is held and tried again, never requeued in a loop.
 */
export class LedgerService {
  private consumer: Consumer | undefined;
  private readonly closing = new AbortController();
  private waiting: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly writes = new Set<Promise<void>>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** Receipt time of the oldest live event of each batch being written now (for the lag gauge). */
  private readonly oldestInFlight = new Map<Waiting[], number>();
  private lastLagSeconds = 0;

  constructor(private readonly deps: LedgerDeps) {}

  async start(): Promise<void> {
    const today = Date.now();
    await this.deps.store.ensurePartitions(new Set([0, 1].map((d) => new Date(today + d * DAY_MS).toISOString().slice(0, 10))));
    const { batchSize } = this.deps.options;
    this.consumer = this.deps.rabbit.createConsumer(
      {
        queue: QUEUES.ledger,
        queueOptions: { queue: QUEUES.ledger, durable: true, arguments: { 'x-queue-type': 'quorum' } },
        // A batch per writer, and the next one filling.
        qos: { prefetchCount: batchSize * (WRITERS + 1) },
        concurrency: batchSize * (WRITERS + 1),
      },
      (msg) => this.take(msg),
    );
    this.consumer.on('error', (err: unknown) => this.deps.logger.warn('ledger consumer error; it recovers by itself', { cause: String(err) }));
    this.timers.push(
      setInterval(() => this.measureLag(), LAG_EVERY_MS),
      setInterval(() => void this.purge(), RETENTION_EVERY_MS),
    );
    void this.purge();
  }

  /** Stops taking events; the batch being written finishes (or, with PostgreSQL away, goes back to the queue). Idempotent. */
  async close(): Promise<void> {
    this.closing.abort();
    for (const timer of this.timers) clearInterval(timer);
    const consumer = this.consumer?.close();
    // What waits is not written now: back to the queue, for the next ledger.
    for (const w of this.waiting.splice(0)) w.done(ConsumerStatus.REQUEUE);
    clearTimeout(this.timer);
    await Promise.all(this.writes);
    await consumer;
  }

  private take(msg: AsyncMessage): Promise<ConsumerStatus> {
    const json = Buffer.isBuffer(msg.body) ? msg.body.toString('utf8') : JSON.stringify(msg.body);
    const entry = ledgerEntryOf(json, msg.routingKey, msg.headers ?? {});
    if (entry instanceof Error) {
      // Not an event of the contract (someone else published to the exchange): nothing to keep.
      this.deps.metrics.ledgerEvents.inc({ outcome: 'invalid' }, 1);
      this.deps.logger.error('ledger: not an event, skipped', { routingKey: msg.routingKey, messageId: msg.messageId, cause: entry.message });
      return Promise.resolve(ConsumerStatus.ACK);
    }
    if (this.closing.signal.aborted) return Promise.resolve(ConsumerStatus.REQUEUE);
    return new Promise((done) => {
      this.waiting.push({ entry, done });
      if (this.waiting.length >= this.deps.options.batchSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.deps.options.batchMs);
    });
  }

  /**
   * Hands what waits to the writers, WRITERS batches at a time (two copies of one event in two
   * batches at once: the second waits on the first's row and writes nothing).
   */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.waiting.length > 0 && this.writes.size < WRITERS) {
      const batch = this.waiting.splice(0, this.deps.options.batchSize);
      const write = this.write(batch).finally(() => {
        this.writes.delete(write);
        // A full batch goes at once; a part of one once it has waited its time.
        if (this.waiting.length >= this.deps.options.batchSize) this.flush();
        else if (this.waiting.length > 0) this.timer ??= setTimeout(() => this.flush(), this.deps.options.batchMs);
      });
      this.writes.add(write);
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    const started = performance.now();
    const oldest = oldestLive(batch);
    if (oldest !== undefined) this.oldestInFlight.set(batch, oldest);
    for (let failures = 0; ; failures++) {
      try {
        const result = await this.deps.store.write(batch.map((w) => w.entry));
        this.deps.metrics.ledgerEvents.inc({ outcome: 'written' }, result.written);
        if (result.duplicates > 0) this.deps.metrics.ledgerEvents.inc({ outcome: 'duplicate' }, result.duplicates);
        if (result.expired > 0) this.deps.metrics.ledgerEvents.inc({ outcome: 'expired' }, result.expired);
        this.deps.metrics.ledgerBatchDuration.observe((performance.now() - started) / 1000);
        if (oldest !== undefined) this.lastLagSeconds = Math.max(0, (Date.now() - oldest) / 1000);
        this.oldestInFlight.delete(batch);
        for (const w of batch) w.done(ConsumerStatus.ACK);
        return;
      } catch (err) {
        if (failures === 0 || failures % 20 === 0) {
          this.deps.logger.warn('ledger: batch not written (PostgreSQL unavailable?); holding it', {
            events: batch.length,
            correlationId: batch[0]?.entry.correlationId,
            failures,
            cause: String(err),
          });
        }
        const waited = await sleep(Math.min(250 * 2 ** failures, 5000), true, { signal: this.closing.signal }).catch(() => false);
        if (!waited) {
          // Shutting down with the batch unwritten: back to the queue, for the next ledger.
          this.oldestInFlight.delete(batch);
          for (const w of batch) w.done(ConsumerStatus.REQUEUE);
          return;
        }
      }
    }
  }

  private measureLag(): void {
    const held = [...this.oldestInFlight.values(), oldestLive(this.waiting) ?? Infinity].reduce((a, b) => Math.min(a, b), Infinity);
    this.deps.metrics.ledgerLag.set(held === Infinity ? this.lastLagSeconds : Math.max(this.lastLagSeconds, (Date.now() - held) / 1000));
  }

  private async purge(): Promise<void> {
    try {
      const { partitions, messages } = await this.deps.store.purgeExpired();
      if (partitions.length > 0 || messages > 0) this.deps.logger.info('ledger trimmed', { partitions, messages });
      const now = Date.now();
      await this.deps.store.ensurePartitions(new Set([0, 1].map((d) => new Date(now + d * DAY_MS).toISOString().slice(0, 10))));
    } catch (err) {
      this.deps.logger.warn('ledger not trimmed', { cause: String(err) });
    }
  }
}

/**
 * Receipt time of the oldest live event (from Meta, first attempt) of `batch`: replays and retries
 * carry their first receipt time by design, which says nothing of the ledger's lag.
 */
function oldestLive(batch: readonly Waiting[]): number | undefined {
  let oldest: number | undefined;
  for (const { entry } of batch) {
    if (entry.source !== 'meta' || (entry.handoffAttempt ?? 1) > 1) continue;
    const at = Date.parse(entry.receivedAt);
    if (oldest === undefined || at < oldest) oldest = at;
  }
  return oldest;
}
