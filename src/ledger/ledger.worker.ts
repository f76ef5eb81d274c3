import { ConsumerStatus, type AsyncMessage, type Connection, type Consumer } from 'rabbitmq-client';
import { Batcher, QUEUES, type BatchOutcome } from '../messaging';
import type { Logger, Metrics } from '../observability';
import { refusesValues } from '../subscriptions';
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
const RETENTION_EVERY_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Written: acked; refused: dead-lettered; given back (shutting down): back to the queue, for the next ledger. */
const STATUS_OF: Record<BatchOutcome, ConsumerStatus> = { written: ConsumerStatus.ACK, refused: ConsumerStatus.DROP, returned: ConsumerStatus.REQUEUE };
/** Batches written at once, each in its own transaction (one fills while the others commit). */
const WRITERS = 2;

/**
 * ROLE=ledger: consumes its own copy of every event (`whatsapp.ledger`) and writes it to PostgreSQL
 * in batches; an event is acked only once the transaction holding it has committed, so a kill at
 * any point leaves it unacked and the broker gives it again (the ledger writes each event id once).
 * While PostgreSQL is away the batch is held and tried again, never requeued in a loop.
 */
export class LedgerService {
  private consumer: Consumer | undefined;
  private readonly batcher: Batcher<LedgerEntry>;
  private readonly timers: NodeJS.Timeout[] = [];
  private lastLagSeconds = 0;

  constructor(private readonly deps: LedgerDeps) {
    this.batcher = new Batcher<LedgerEntry>(
      { size: deps.options.batchSize, waitMs: deps.options.batchMs, writers: WRITERS, refusesItems: refusesValues },
      (entries) => this.write(entries),
      (err, entries, failures) => {
        if (failures === 0 || failures % 20 === 0) {
          deps.logger.warn('ledger: batch not written (PostgreSQL unavailable?); holding it', {
            events: entries.length,
            correlationId: entries[0]?.correlationId,
            failures,
            cause: String(err),
          });
        }
      },
      (err, entry) => {
        // Written as it is, it would be refused every time: dead-lettered (whatsapp.inbound.dead), where an operator sees it.
        deps.metrics.ledgerEvents.inc({ outcome: 'refused' }, 1);
        deps.logger.error('ledger: event refused by PostgreSQL; dead-lettered', {
          eventId: entry.eventId,
          tenantId: entry.tenantId,
          correlationId: entry.correlationId,
          cause: String(err),
        });
      },
    );
  }

  async start(): Promise<void> {
    await this.deps.store.ensurePartitions(comingDays());
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

  /** Stops taking events; what is being written finishes (or, with PostgreSQL away, goes back to the queue). Idempotent. */
  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    const consumer = this.consumer?.close();
    await this.batcher.close();
    await consumer;
  }

  private async take(msg: AsyncMessage): Promise<ConsumerStatus> {
    const entry = ledgerEntryOf(msg.body, msg.routingKey, msg.headers ?? {});
    if (entry instanceof Error) {
      // Not an event of the contract (someone else published to the exchange): nothing to keep.
      this.deps.metrics.ledgerEvents.inc({ outcome: 'invalid' }, 1);
      this.deps.logger.error('ledger: not an event, skipped', { routingKey: msg.routingKey, messageId: msg.messageId, cause: entry.message });
      return ConsumerStatus.ACK;
    }
    // Not written (shutting down): back to the queue, for the next ledger.
    return STATUS_OF[await this.batcher.add(entry)];
  }

  private async write(entries: readonly LedgerEntry[]): Promise<void> {
    const started = performance.now();
    const result = await this.deps.store.write(entries);
    const { metrics } = this.deps;
    metrics.ledgerEvents.inc({ outcome: 'written' }, result.written);
    if (result.duplicates > 0) metrics.ledgerEvents.inc({ outcome: 'duplicate' }, result.duplicates);
    if (result.expired > 0) metrics.ledgerEvents.inc({ outcome: 'expired' }, result.expired);
    metrics.ledgerBatchDuration.observe((performance.now() - started) / 1000);
    const oldest = oldestLive(entries);
    if (oldest !== undefined) this.lastLagSeconds = Math.max(0, (Date.now() - oldest) / 1000);
  }

  private measureLag(): void {
    const held = oldestLive(this.batcher.held());
    this.deps.metrics.ledgerLag.set(held === undefined ? this.lastLagSeconds : Math.max(this.lastLagSeconds, (Date.now() - held) / 1000));
  }

  private async purge(): Promise<void> {
    try {
      const { partitions, messages } = await this.deps.store.purgeExpired();
      if (partitions.length > 0 || messages > 0) this.deps.logger.info('ledger trimmed', { partitions, messages });
      await this.deps.store.ensurePartitions(comingDays());
    } catch (err) {
      this.deps.logger.warn('ledger not trimmed', { cause: String(err) });
    }
  }
}

/** Today and tomorrow (UTC), whose partitions exist before their first event. */
function comingDays(now = Date.now()): Set<string> {
  return new Set([0, 1].map((d) => new Date(now + d * DAY_MS).toISOString().slice(0, 10)));
}

/**
 * Receipt time of the oldest live event (from Meta, first attempt) of `entries`: replays and retries
 * carry their first receipt time by design, which says nothing of the ledger's lag.
 */
function oldestLive(entries: readonly LedgerEntry[]): number | undefined {
  let oldest: number | undefined;
  for (const entry of entries) {
    if (entry.source !== 'meta' || (entry.handoffAttempt ?? 1) > 1) continue;
    const at = Date.parse(entry.receivedAt);
    if (oldest === undefined || at < oldest) oldest = at;
  }
  return oldest;
}
