import { ConsumerStatus, type AsyncMessage, type Connection, type Consumer } from 'rabbitmq-client';
import { handleError } from '../errors';
import type { StateManagerClient, StateMessage } from '../integrations';
import { QUEUES, workQueueOptions, type OutboxEnvelope, type StateOutboxPublisher } from '../messaging';
import { runWithContext, type Logger, type Metrics } from '../observability';
import { decide, type RetryPolicy } from './retry-policy';

export interface StateOutboxDeps {
  rabbit: Connection;
  client: StateManagerClient;
  outbox: StateOutboxPublisher;
  policy: RetryPolicy;
  logger: Logger;
  metrics: Metrics;
  prefetch: number;
}

/**
 * Delivers message tracking to the State Manager (`POST /state/message`) from the durable outbox.
 * While the State Manager is down (or its circuit is open) each message waits in the retry queues
 * and is delivered once it is back; the events themselves were published long before. A message
 * the State Manager refuses (4xx) goes to the dead-letter queue.
 */
export class StateOutboxConsumer {
  private consumer: Consumer | undefined;
  private readonly queue = QUEUES.stateOutbox;

  constructor(private readonly deps: StateOutboxDeps) {}

  start(): void {
    if (this.consumer) return;
    this.consumer = this.deps.rabbit.createConsumer(
      { queue: this.queue, queueOptions: workQueueOptions(this.queue), qos: { prefetchCount: this.deps.prefetch }, concurrency: this.deps.prefetch },
      (msg) => this.onMessage(msg),
    );
    this.consumer.on('error', (err: unknown) => this.deps.logger.warn('outbox consumer error; it recovers by itself', { cause: String(err) }));
  }

  async close(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer) await consumer.close();
  }

  private async onMessage(msg: AsyncMessage): Promise<ConsumerStatus> {
    const body = msg.body as StateMessage;
    const envelope: OutboxEnvelope = {
      eventId: msg.messageId ?? body.eventId,
      tenantId: body.tenantId,
      correlationId: msg.correlationId ?? body.correlationId,
      attempt: Math.max(1, Number(msg.headers?.['x-attempt']) || 1),
      retryingSince: typeof msg.headers?.['x-retrying-since'] === 'string' ? msg.headers['x-retrying-since'] : undefined,
    };
    return runWithContext({ correlationId: envelope.correlationId, tenantId: envelope.tenantId }, async () => {
      try {
        await this.deps.client.recordMessage(body);
        this.deps.metrics.handoffOutcome.inc({ queue: this.queue, outcome: 'ack' });
        return ConsumerStatus.ACK;
      } catch (error) {
        const decision = decide(error, envelope, this.deps.policy, this.deps.logger, { queue: this.queue, eventId: envelope.eventId });
        const lastError = `${decision.handled.code}: ${decision.handled.publicMessage}`;
        try {
          if (decision.action === 'retry') {
            await this.deps.outbox.retry(decision.delayMs, body, { ...envelope, attempt: decision.attempt, retryingSince: decision.retryingSince, lastError });
          } else {
            await this.deps.outbox.deadLetter(body, { ...envelope, lastError });
          }
          this.deps.metrics.handoffOutcome.inc({ queue: this.queue, outcome: decision.action === 'retry' ? 'retry' : 'dead_letter' });
          return ConsumerStatus.ACK;
        } catch (err) {
          handleError(err, this.deps.logger, 'consumer', { queue: this.queue, step: decision.action });
          return ConsumerStatus.REQUEUE;
        }
      }
    });
  }
}
