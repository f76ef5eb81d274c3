import type { ConfirmedPublisher } from './confirmed.publisher';
import { QUEUES, retryQueueName } from './topology';

export interface OutboxEnvelope {
  /** The event the tracking is about: the message id, so the State Manager can dedup. */
  eventId: string;
  tenantId: string;
  correlationId: string;
  attempt: number;
  retryingSince?: string;
  lastError?: string;
}

/**
 * Puts message tracking for the State Manager into a durable queue (confirmed), so it survives
 * the State Manager being down; the worker's outbox consumer delivers it.
 */
export class StateOutboxPublisher {
  constructor(private readonly publisher: ConfirmedPublisher) {}

  publish(body: object, envelope: OutboxEnvelope): Promise<void> {
    return this.send(QUEUES.stateOutbox, body, envelope);
  }

  retry(delayMs: number, body: object, envelope: OutboxEnvelope): Promise<void> {
    return this.send(retryQueueName(QUEUES.stateOutbox, delayMs), body, envelope);
  }

  deadLetter(body: object, envelope: OutboxEnvelope): Promise<void> {
    return this.send(QUEUES.dead, body, envelope);
  }

  close(): Promise<void> {
    return this.publisher.close();
  }

  private send(queue: string, body: object, envelope: OutboxEnvelope): Promise<void> {
    const headers: Record<string, unknown> = { 'x-tenant-id': envelope.tenantId, 'x-attempt': envelope.attempt, 'x-source': 'state-outbox' };
    if (envelope.retryingSince) headers['x-retrying-since'] = envelope.retryingSince;
    if (envelope.lastError) headers['x-last-error'] = envelope.lastError.slice(0, 500);
    return this.publisher.publish({
      exchange: '',
      routingKey: queue,
      body: Buffer.from(JSON.stringify(body)),
      messageId: envelope.eventId,
      correlationId: envelope.correlationId,
      contentType: 'application/json',
      headers,
    });
  }
}
