import { ConsumerStatus, type AsyncMessage, type Connection, type Consumer } from 'rabbitmq-client';
import { handleError } from '../errors';
import { decodeHandoff, QUEUES, workQueueOptions, type HandoffMessage, type WorkQueue } from '../messaging';
import { runWithContext } from '../observability';
import type { ByteBudget } from './byte-budget';
import type { HandlerOutcome } from './outcome';
import { settle, type SettleDeps } from './settle';

export type HandoffHandler = (handoff: HandoffMessage) => Promise<HandlerOutcome>;

export interface HandoffConsumerDeps extends SettleDeps {
  rabbit: Connection;
  /** Unacknowledged hand-offs held. */
  prefetch: number;
  /** Payload bytes processed at once, shared by the worker's hand-off consumers. */
  budget: ByteBudget;
}

/**
 * Consumes one work queue with manual acks: a hand-off is acked only after its handler finished
 * (every event it produced confirmed) or its retry / dead-letter copy was confirmed. Survives
 * broker restarts (rabbitmq-client re-creates the channel and re-subscribes); a crash leaves
 * the unacked hand-offs in the queue for the next worker.
 */
export class HandoffConsumer {
  private consumer: Consumer | undefined;
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly queue: WorkQueue,
    private readonly handler: HandoffHandler,
    private readonly deps: HandoffConsumerDeps,
  ) {}

  start(): void {
    if (this.consumer) return;
    this.deps.metrics.lagProbes.set(this.queue, () => this.oldestInFlight());
    this.consumer = this.deps.rabbit.createConsumer(
      { queue: this.queue, queueOptions: workQueueOptions(this.queue), qos: { prefetchCount: this.deps.prefetch }, concurrency: this.deps.prefetch },
      (msg) => this.onMessage(msg),
    );
    this.consumer.on('error', (err: unknown) => this.deps.logger.warn('consumer error; it recovers by itself', { queue: this.queue, cause: String(err) }));
  }

  /** Stops taking hand-offs and waits for those in progress to settle; idempotent. */
  async close(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer) await consumer.close();
    this.deps.metrics.lagProbes.delete(this.queue);
  }

  private async onMessage(msg: AsyncMessage): Promise<ConsumerStatus> {
    let handoff: HandoffMessage;
    try {
      handoff = decodeHandoff(msg);
    } catch (err) {
      return this.deadLetterUnreadable(msg, err);
    }
    return this.deps.budget.run(handoff.body.length, () => this.process(msg, handoff));
  }

  private process(msg: AsyncMessage, handoff: HandoffMessage): Promise<ConsumerStatus> {
    return runWithContext({ correlationId: handoff.correlationId, tenantId: handoff.tenantId }, async () => {
      const id = `${handoff.handoffId}:${msg.deliveryTag}`;
      this.inFlight.set(id, Date.parse(handoff.receivedAt) || Date.now());
      const started = performance.now();
      let outcome: HandlerOutcome;
      try {
        outcome = await this.handler(handoff);
      } catch (error) {
        outcome = { status: 'failed', error };
      }
      try {
        return await settle(this.queue, handoff, outcome, this.deps);
      } finally {
        this.inFlight.delete(id);
        this.deps.metrics.processingDuration.observe({ queue: this.queue, outcome: outcome.status }, (performance.now() - started) / 1000);
      }
    });
  }

  /** A message that is not a hand-off we know: kept, as it came, in the dead-letter queue. */
  private async deadLetterUnreadable(msg: AsyncMessage, err: unknown): Promise<ConsumerStatus> {
    handleError(err, this.deps.logger, 'consumer', { queue: this.queue, messageId: msg.messageId });
    try {
      const body = Buffer.isBuffer(msg.body) ? msg.body : Buffer.from(JSON.stringify(msg.body ?? null));
      await this.deps.publisher.raw({
        exchange: '',
        routingKey: QUEUES.dead,
        body,
        messageId: msg.messageId ?? `unreadable-${Date.now()}`,
        contentType: msg.contentType ?? 'application/octet-stream',
        headers: { ...msg.headers, 'x-error': String(err) },
      });
      this.deps.metrics.handoffOutcome.inc({ queue: this.queue, outcome: 'dead_letter' });
      return ConsumerStatus.ACK;
    } catch {
      return ConsumerStatus.REQUEUE;
    }
  }

  private oldestInFlight(): number | undefined {
    let oldest: number | undefined;
    for (const since of this.inFlight.values()) if (oldest === undefined || since < oldest) oldest = since;
    return oldest;
  }
}
