import { ConsumerStatus, type AsyncMessage, type Connection, type Consumer } from 'rabbitmq-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { handleError, PermanentError } from '../errors';
import { runWithContext, type LogContext, type Logger, type Metrics } from '../observability';
import type { OutgoingMessage } from './confirmed.publisher';
import type { FailedOutcome, HandlerOutcome } from './outcome';
import { decide, delayFor, type RetryPolicy } from './retry-policy';
import { QUEUES, workQueueOptions, type RetryableQueue } from './topology';

/** The copy that carries a message's next attempt. */
export interface RetryStep {
  delayMs: number;
  attempt: number;
  retryingSince: string | undefined;
  /** `code: message` of the failure, for the copy's `x-last-error`. */
  lastError: string;
}

/** What one queue's messages are and where their copies go; QueueConsumer does everything else. */
export interface QueueHandler<T> {
  /** Reads a delivery. Throwing makes it unreadable: kept as it came in the dead-letter queue. */
  decode(msg: AsyncMessage): T;
  /** The message's correlation id and tenant, for every log line written while it is handled. */
  context(message: T): LogContext;
  /** What else a log line about its failure should say (the raw key of a hand-off, the event id of a tracking call). */
  logFields?(message: T): Record<string, unknown>;
  /** Its attempt (1 for the first) and when its retries began, from its headers. */
  attempt(message: T): { attempt: number; retryingSince?: string };
  /** Bytes it weighs against the consumer's byte budget (if it has one). */
  size?(message: T): number;
  /** When it entered the system (ms since the epoch), for the lag metric. */
  receivedAt?(message: T): number;
  handle(message: T): Promise<HandlerOutcome>;
  /** Publishes the copy for the next attempt (confirmed). */
  retry(message: T, step: RetryStep, outcome: FailedOutcome): Promise<void>;
  /** Keeps the message for an operator (confirmed): the dead-letter queue, and wherever replay reads from. */
  deadLetter(message: T, lastError: string, outcome: FailedOutcome): Promise<void>;
}

export interface QueueConsumerDeps {
  rabbit: Connection;
  /** Unacknowledged messages held, and handled at once. */
  prefetch: number;
  policy: RetryPolicy;
  /** Where unreadable deliveries go, as they came. */
  unreadable: { raw(message: OutgoingMessage): Promise<void> };
  /** Bytes handled at once, shared between consumers. */
  budget?: { run<R>(bytes: number, work: () => Promise<R>): Promise<R> };
  logger: Logger;
  metrics: Metrics;
}

/**
 * Consumes one work queue with manual acks and maps every handler outcome to a broker action in
 * one place (the decision itself is `decide()`):
 * - done → ack;
 * - failed or partial, retryable → a copy to the queue's retry queue for the chosen delay, then ack;
 * - failed or partial, not retryable → `deadLetter`, then ack; if that fails (object store or
 *   broker away) the message is retried once more after a delay instead;
 * - unreadable → the delivery as it came to the dead-letter queue, then ack;
 * - returned by the broker MAX_REDELIVERIES times already (workers died holding it) → dead-letter
 *   without handling it again.
 * The original is acked only once its copy is confirmed, and every outcome is counted
 * (`handoff_outcome_total{queue,outcome}`). A copy that cannot be published (the broker blocks
 * publishers on a memory or disk alarm, or is away) is tried again, the original held meanwhile:
 * it is never requeued in a loop, each turn of which would count against the queue's delivery
 * limit (20 by default on RabbitMQ 4, past which a quorum queue drops it). Only a consumer closing
 * with a copy still unpublished returns the original, once. Survives broker restarts
 * (rabbitmq-client re-creates the channel and re-subscribes); a crash leaves unacked messages in
 * the queue for the next consumer.
 */
export class QueueConsumer<T> {
  private consumer: Consumer | undefined;
  /** Since when each message in progress has been in the system, by a token of its own. */
  private readonly inFlight = new Map<symbol, number>();
  private unsettled = 0;
  /** Aborted when the consumer closes: copies being tried again stop waiting. */
  private closing = new AbortController();

  constructor(
    readonly queue: RetryableQueue,
    private readonly handler: QueueHandler<T>,
    private readonly deps: QueueConsumerDeps,
  ) {}

  start(): void {
    if (this.consumer) return;
    if (this.closing.signal.aborted) this.closing = new AbortController();
    if (this.handler.receivedAt) this.deps.metrics.lagProbes.set(this.queue, () => this.oldestInFlight());
    this.consumer = this.deps.rabbit.createConsumer(
      { queue: this.queue, queueOptions: workQueueOptions(this.queue), qos: { prefetchCount: this.deps.prefetch }, concurrency: this.deps.prefetch },
      (msg) => this.onMessage(msg),
    );
    this.consumer.on('error', (err: unknown) => this.deps.logger.warn('consumer error; it recovers by itself', { queue: this.queue, cause: String(err) }));
  }

  /** Deliveries not yet settled (waiting for the byte budget, or in progress). */
  get busy(): number {
    return this.unsettled;
  }

  /** Stops taking messages and waits for those in progress to settle; idempotent. */
  async close(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    this.closing.abort();
    if (consumer) await consumer.close();
    this.deps.metrics.lagProbes.delete(this.queue);
  }

  private async onMessage(msg: AsyncMessage): Promise<ConsumerStatus> {
    this.unsettled += 1;
    try {
      let message: T;
      try {
        message = this.handler.decode(msg);
      } catch (err) {
        return await this.deadLetterUnreadable(msg, err);
      }
      const run = (): Promise<ConsumerStatus> => runWithContext(this.handler.context(message), () => this.process(msg, message, returnsOf(msg)));
      // The budget admits in arrival order: handle() is called in the order the broker delivered.
      return await (this.deps.budget && this.handler.size ? this.deps.budget.run(this.handler.size(message), run) : run());
    } finally {
      this.unsettled -= 1;
    }
  }

  private async process(msg: Pick<AsyncMessage, 'messageId'>, message: T, returns: number): Promise<ConsumerStatus> {
    const token = Symbol(msg.messageId);
    this.inFlight.set(token, this.handler.receivedAt?.(message) ?? Date.now());
    const started = performance.now();
    let outcome: HandlerOutcome;
    if (returns >= this.deps.policy.maxRedeliveries) {
      const error = new PermanentError(
        'redelivered_too_often',
        `returned to ${this.queue} ${returns} times without being settled (each time a worker died or lost its connection while handling it)`,
      );
      outcome = { status: 'failed', error };
    } else {
      try {
        outcome = await this.handler.handle(message);
      } catch (error) {
        outcome = { status: 'failed', error };
      }
    }
    try {
      return await this.settle(message, outcome);
    } finally {
      this.inFlight.delete(token);
      this.deps.metrics.processingDuration.observe({ queue: this.queue, outcome: outcome.status }, (performance.now() - started) / 1000);
    }
  }

  private async settle(message: T, outcome: HandlerOutcome): Promise<ConsumerStatus> {
    if (outcome.status === 'done') return this.count('ack', ConsumerStatus.ACK);
    const { attempt, retryingSince } = this.handler.attempt(message);
    const decision = decide(outcome.error, { attempt, retryingSince }, this.deps.policy, this.deps.logger, {
      queue: this.queue,
      ...this.handler.logFields?.(message),
    });
    const lastError = `${decision.handled.code}: ${decision.handled.publicMessage}`;
    if (decision.action === 'dead-letter') {
      try {
        await this.handler.deadLetter(message, lastError, outcome);
        return this.count('dead_letter', ConsumerStatus.ACK);
      } catch (err) {
        // Not kept (object store or broker away): wait one more delay and dead-letter on that attempt.
        handleError(err, this.deps.logger, 'consumer', { queue: this.queue, step: 'dead_letter' });
      }
    }
    const step: RetryStep =
      decision.action === 'retry'
        ? { delayMs: decision.delayMs, attempt: decision.attempt, retryingSince: decision.retryingSince, lastError }
        : { delayMs: delayFor(attempt, this.deps.policy), attempt, retryingSince, lastError };
    if (!(await this.untilPublished('retry', () => this.handler.retry(message, step, outcome)))) return this.count('requeue', ConsumerStatus.REQUEUE);
    this.deps.logger.warn('message will be retried', {
      queue: this.queue,
      attempt,
      delayMs: step.delayMs,
      code: decision.handled.code,
      updates: outcome.status === 'partial' ? outcome.failedRefs.length : undefined,
    });
    return this.count('retry', ConsumerStatus.ACK);
  }

  /** A delivery that is not a message this queue knows: kept, as it came, in the dead-letter queue. */
  private async deadLetterUnreadable(msg: AsyncMessage, err: unknown): Promise<ConsumerStatus> {
    handleError(err, this.deps.logger, 'consumer', { queue: this.queue, messageId: msg.messageId });
    const body = Buffer.isBuffer(msg.body) ? msg.body : Buffer.from(JSON.stringify(msg.body ?? null));
    const kept = await this.untilPublished('dead_letter', () =>
      this.deps.unreadable.raw({
        exchange: '',
        routingKey: QUEUES.dead,
        body,
        messageId: msg.messageId ?? `unreadable-${Date.now()}`,
        contentType: msg.contentType ?? 'application/octet-stream',
        headers: { ...msg.headers, 'x-error': String(err), 'x-queue': this.queue },
      }),
    );
    return kept ? this.count('dead_letter', ConsumerStatus.ACK) : this.count('requeue', ConsumerStatus.REQUEUE);
  }

  /**
   * Publishes a copy, trying again (every 250 ms at first, then every 5 s) for as long as it takes,
   * while the original stays unacknowledged. False only when the consumer closes first: then the
   * original goes back to its queue, once.
   */
  private async untilPublished(step: 'retry' | 'dead_letter', publish: () => Promise<void>): Promise<boolean> {
    for (let failures = 0; ; failures++) {
      try {
        await publish();
        if (failures > 0) this.deps.logger.info('copy published after the broker refused it', { queue: this.queue, step, failures });
        return true;
      } catch (err) {
        // Logged the first time and then every 5 minutes or so, not on every turn.
        if (failures % 60 === 0) {
          handleError(err, this.deps.logger, 'consumer', {
            queue: this.queue,
            step,
            failures,
            holding: 'the original stays unacknowledged until its copy is published',
          });
        }
        // Rejects at once, or as soon as the consumer closes.
        const waited = await sleep(Math.min(250 * 2 ** failures, 5000), true, { signal: this.closing.signal }).catch(() => false);
        if (!waited) return false;
      }
    }
  }

  private count(outcome: 'ack' | 'retry' | 'dead_letter' | 'requeue', status: ConsumerStatus): ConsumerStatus {
    this.deps.metrics.handoffOutcome.inc({ queue: this.queue, outcome });
    return status;
  }

  private oldestInFlight(): number | undefined {
    let oldest: number | undefined;
    for (const since of this.inFlight.values()) if (oldest === undefined || since < oldest) oldest = since;
    return oldest;
  }
}

/** Times the broker has handed this delivery out before and taken it back (quorum queues count them). */
function returnsOf(msg: Pick<AsyncMessage, 'headers'>): number {
  const count: unknown = msg.headers?.['x-delivery-count'];
  return typeof count === 'number' && Number.isFinite(count) ? count : 0;
}
