import type { Connection, Publisher } from 'rabbitmq-client';
import { TransientError } from '../errors';
import type { Logger, Metrics } from '../observability';

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

/** How often a publisher may open a new channel after nacks. */
const RENEW_INTERVAL_MS = 1_000;

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
  private publisher: Publisher;
  /** messageIds the broker returned; a return always arrives before the confirm of the same message. */
  private readonly returned = new Set<string>();
  /**
   * Set while the connection is lost, resolved when it is open again. A publish waits for it
   * (within its timeout) before it is handed to rabbitmq-client, which would otherwise hold it
   * and send it on reconnect, after our timeout had answered for it: a hand-off in the broker
   * for a webhook the receiver refused with 503.
   */
  private reconnected: { promise: Promise<void>; resolve: () => void } | undefined;
  /** Publishes sent on the current channel and not yet settled (confirmed, refused or timed out). */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Set while the channel is being replaced after a nack; publishes wait for it. */
  private renewing: Promise<void> | undefined;
  private renewedAt = 0;

  constructor(
    private readonly rabbit: Connection,
    private readonly target: string,
    private readonly metrics: Metrics,
    private readonly timeoutMs: number,
    private readonly logger?: Logger,
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
    this.publisher = this.open();
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
    if (this.reconnected || this.renewing) {
      try {
        await withTimeout(Promise.all([this.reconnected?.promise, this.renewing]), this.timeoutMs);
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
      const settled = withTimeout(sent, Math.max(1, this.timeoutMs - (performance.now() - started)));
      this.inFlight.add(settled);
      const forget = (): void => void this.inFlight.delete(settled);
      settled.then(forget, forget);
      await settled;
    } catch (cause) {
      const reason = cause instanceof PublishTimeout ? 'timeout' : /nack|rejected by server/i.test(String(cause)) ? 'nack' : 'connection';
      observe('failed');
      this.count('failed', reason);
      if (reason === 'nack') this.renew();
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
    await this.renewing;
    await this.publisher.close();
  }

  private open(): Publisher {
    const publisher = this.rabbit.createPublisher({ confirm: true, maxAttempts: 1 });
    // Not the `onReturn` option: rabbitmq-client 5 ignores it for publishers.
    publisher.on('basic.return', (msg: { messageId?: string }) => {
      if (msg.messageId) this.returned.add(msg.messageId);
    });
    return publisher;
  }

  /**
   * After a nack, publishes go on a new channel once those sent on this one have settled (so what
   * one channel sent stays in order). A channel keeps its own view of each quorum queue it has
   * published to: RabbitMQ 3.10 keeps registering the channel with the first node it knew of the
   * queue, and nacks every publish while that node is down, although a new leader serves the queue
   * (measured: every hand-off of a shard refused for the 22 s a killed node stayed away); a new
   * channel reads the queue's members afresh. At most one new channel a second.
   */
  private renew(): void {
    if (this.renewing || Date.now() - this.renewedAt < RENEW_INTERVAL_MS) return;
    const old = this.publisher;
    this.renewing = Promise.allSettled([...this.inFlight])
      .then(() => {
        this.publisher = this.open();
        this.renewedAt = Date.now();
        this.logger?.info('publisher channel renewed after a nack', { target: this.target });
        old.close().catch(() => undefined);
      })
      .finally(() => (this.renewing = undefined));
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
