import type { Connection, Publisher } from 'rabbitmq-client';
import { TransientError } from '../errors';
import type { Metrics } from '../observability';

export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  body: Buffer;
  /** Required: it is how a broker return is matched to its publish. */
  messageId: string;
  correlationId?: string;
  contentType: string;
  contentEncoding?: string;
  headers?: Record<string, unknown>;
}

class PublishTimeout extends Error {}

/**
 * Publishes persistent, mandatory messages and resolves only when the broker has confirmed
 * them. Anything else is a TransientError with its reason counted: `timeout` (no confirm within
 * `timeoutMs`), `unroutable` (the broker returned it: no queue is bound), `nack` or
 * `connection` (also when the connection, lost, is not back within the timeout: then nothing was
 * sent). The underlying rabbitmq-client connection reconnects by itself.
 *
 * A publish that timed out may still be confirmed later; callers that retry rely on dedup
 * downstream of the broker (stable ids) to absorb the second copy.
 */
export class ConfirmedPublisher {
  private readonly publisher: Publisher;
  /** messageIds the broker returned; a return always arrives before the confirm of the same message. */
  private readonly returned = new Set<string>();
  /**
   * Set while the connection is lost, resolved when it is open again. A publish waits for it
   * (within its timeout) before it is handed to rabbitmq-client, which would otherwise hold it
   * and send it on reconnect, after our timeout had answered for it: a hand-off in the broker
   * for a webhook the receiver refused with 503.
   */
  private reconnected: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(
    rabbit: Connection,
    private readonly target: string,
    private readonly metrics: Metrics,
    private readonly timeoutMs: number,
  ) {
    // rabbitmq-client emits `error` when an open connection drops (it then reconnects by itself), `connection` once it is open again.
    rabbit.on('error', () => {
      if (this.reconnected) return;
      let resolve = (): void => {};
      const promise = new Promise<void>((r) => (resolve = r));
      this.reconnected = { promise, resolve };
    });
    rabbit.on('connection', () => {
      this.reconnected?.resolve();
      this.reconnected = undefined;
    });
    this.publisher = rabbit.createPublisher({ confirm: true, maxAttempts: 1 });
    // Not the `onReturn` option: rabbitmq-client 5 ignores it for publishers.
    this.publisher.on('basic.return', (msg: { messageId?: string }) => {
      if (msg.messageId) this.returned.add(msg.messageId);
    });
  }

  /**
   * `onSent` is called once the message is handed to the channel, before its confirm: messages
   * published on one channel reach a queue in the order they were sent, so what must follow it
   * may be sent from then on without waiting for the broker (if this one is then not confirmed, it
   * is retried and comes later).
   */
  async publish(message: OutgoingMessage, onSent?: () => void): Promise<void> {
    const { body, exchange, routingKey, ...properties } = message;
    const started = performance.now();
    const observe = (status: string): void =>
      this.metrics.rabbitmqPublishDuration.observe({ target: this.target, status }, (performance.now() - started) / 1000);
    if (this.reconnected) {
      try {
        await withTimeout(this.reconnected.promise, this.timeoutMs);
      } catch (cause) {
        observe('failed');
        this.count('failed', 'connection');
        throw new TransientError('broker_unavailable', `Publish to ${this.target} not sent: RabbitMQ did not reconnect within ${this.timeoutMs} ms`, {
          cause,
          details: { reason: 'connection' },
        });
      }
    }
    try {
      const sent = this.publisher.send({ exchange, routingKey, mandatory: true, durable: true, timestamp: Math.floor(Date.now() / 1000), ...properties }, body);
      onSent?.();
      await withTimeout(sent, Math.max(1, this.timeoutMs - (performance.now() - started)));
    } catch (cause) {
      const reason = cause instanceof PublishTimeout ? 'timeout' : /nack|rejected by server/i.test(String(cause)) ? 'nack' : 'connection';
      observe('failed');
      this.count('failed', reason);
      throw new TransientError('broker_unavailable', `Publish to ${this.target} was not confirmed (${reason})`, { cause, details: { reason } });
    }
    observe('confirmed');
    // The broker sends a return before the confirm, but the client emits it a turn of the event
    // loop later (setImmediate, queued before this one): wait that turn before asking.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.returned.delete(message.messageId)) {
      this.count('failed', 'unroutable');
      throw new TransientError('unroutable', `Publish to ${this.target} was returned: no queue is bound for "${routingKey}"`, {
        details: { exchange, routingKey },
      });
    }
    this.metrics.rabbitmqPublish.inc({ target: this.target, status: 'confirmed' });
  }

  /** Waits for outstanding confirms, then closes the channel; idempotent. */
  async close(): Promise<void> {
    await this.publisher.close();
  }

  private count(status: string, reason: string): void {
    this.metrics.rabbitmqPublish.inc({ target: this.target, status });
    this.metrics.rabbitmqPublishFailures.inc({ target: this.target, reason });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PublishTimeout(`no confirm within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
