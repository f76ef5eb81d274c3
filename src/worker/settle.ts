import { ConsumerStatus } from 'rabbitmq-client';
import { handleError } from '../errors';
import { QUEUES, retryQueueName, type HandoffMessage, type HandoffPublisher, type WorkQueue } from '../messaging';
import type { Logger, Metrics } from '../observability';
import type { RawPayloadStore } from '../storage';
import type { HandlerOutcome } from './outcome';

export interface SettleDeps {
  publisher: HandoffPublisher;
  rawStore: RawPayloadStore;
  logger: Logger;
  metrics: Metrics;
  retryDelaysMs: readonly number[];
  maxAttempts: number;
  /** An outage is waited out this long (from the first retry), then the hand-off is stored as failed. */
  transientRetryWindowMs: number;
}

/**
 * The one place that turns a handler's outcome into a broker action:
 * - done → ack;
 * - an outage (TransientError) → delayed retry, for as long as it takes (the last delay repeats),
 *   up to TRANSIENT_RETRY_WINDOW_SECONDS (7 days): an acknowledged webhook must not need a human
 *   because Redis was restarting; only an outage outlasting Meta's own retries is stored as failed;
 * - anything else → delayed retry up to MAX_ATTEMPTS, then dead-letter: the payload goes to the
 *   failed prefix in the object store (for replay) and to the dead-letter queue (for alerts);
 * - a partial failure retries only the updates that failed.
 * The original is acked only once its retry or dead-letter copy is confirmed. A payload that
 * cannot be stored as failed (object store away) waits one more delay and is dead-lettered then;
 * if not even the retry copy can be published, the original goes back to the queue.
 */
export async function settle(queue: WorkQueue, handoff: HandoffMessage, outcome: HandlerOutcome, deps: SettleDeps): Promise<ConsumerStatus> {
  if (outcome.status === 'done') {
    deps.metrics.handoffOutcome.inc({ queue, outcome: 'ack' });
    return ConsumerStatus.ACK;
  }
  const handled = handleError(outcome.error, deps.logger, 'consumer', { queue, attempt: handoff.attempt, rawKey: handoff.rawKey });
  const only = outcome.status === 'partial' ? outcome.failedRefs : handoff.only;
  const lastError = `${handled.code}: ${handled.publicMessage}`;
  const retryingSince = handoff.retryingSince ?? new Date().toISOString();
  const withinWindow = Date.now() - Date.parse(retryingSince) < deps.transientRetryWindowMs;
  const retryable = (handled.retry === 'until-it-works' && withinWindow) || (handled.retry === 'bounded' && handoff.attempt < deps.maxAttempts);
  if (!retryable) {
    try {
      const failedKey = await deps.rawStore.storeFailed({ ...handoff, error: lastError, attempts: handoff.attempt, only });
      await deps.publisher.toQueue(QUEUES.dead, { ...handoff, only, lastError });
      deps.metrics.handoffOutcome.inc({ queue, outcome: 'dead_letter' });
      deps.logger.error('hand-off dead-lettered; replay it once the cause is fixed', { queue, attempts: handoff.attempt, code: handled.code, failedKey });
      return ConsumerStatus.ACK;
    } catch (err) {
      // Not stored as failed (object store or broker away): wait and dead-letter on the next attempt.
      handleError(err, deps.logger, 'consumer', { queue, step: 'dead_letter' });
    }
  }
  const delays = deps.retryDelaysMs;
  const delay = delays[Math.min(handoff.attempt - 1, delays.length - 1)] ?? 0;
  try {
    await deps.publisher.toQueue(retryQueueName(queue, delay), {
      ...handoff,
      attempt: retryable ? handoff.attempt + 1 : handoff.attempt,
      only,
      lastError,
      retryingSince,
    });
  } catch (err) {
    // The broker itself is away: the original goes back to the queue (its channel is likely gone anyway).
    handleError(err, deps.logger, 'consumer', { queue, step: 'retry' });
    deps.metrics.handoffOutcome.inc({ queue, outcome: 'requeue' });
    return ConsumerStatus.REQUEUE;
  }
  deps.metrics.handoffOutcome.inc({ queue, outcome: 'retry' });
  deps.logger.warn('hand-off will be retried', { queue, attempt: handoff.attempt, delayMs: delay, code: handled.code, updates: only?.length });
  return ConsumerStatus.ACK;
}
