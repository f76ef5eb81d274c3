import { ConsumerStatus } from 'rabbitmq-client';
import { handleError } from '../errors';
import { QUEUES, retryQueueName, type HandoffMessage, type HandoffPublisher, type WorkQueue } from '../messaging';
import type { Logger, Metrics } from '../observability';
import type { RawPayloadStore } from '../storage';
import type { HandlerOutcome } from './outcome';
import { decide, delayFor, type RetryPolicy } from './retry-policy';

export interface SettleDeps extends RetryPolicy {
  publisher: HandoffPublisher;
  rawStore: RawPayloadStore;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Turns a handler's outcome into a broker action (the decision itself is `decide()`):
 * - done → ack;
 * - retry → a copy goes to the queue's retry queue for the chosen delay (only the updates that
 *   failed, for a partial failure), then ack;
 * - dead-letter → the payload goes to the failed prefix in the object store (for replay) and a
 *   copy to the dead-letter queue (for alerts), then ack.
 * The original is acked only once its copy is confirmed. A payload that cannot be stored as
 * failed (object store away) waits one more delay and is dead-lettered then; if not even the
 * retry copy can be published, the original goes back to the queue.
 */
export async function settle(queue: WorkQueue, handoff: HandoffMessage, outcome: HandlerOutcome, deps: SettleDeps): Promise<ConsumerStatus> {
  if (outcome.status === 'done') {
    deps.metrics.handoffOutcome.inc({ queue, outcome: 'ack' });
    return ConsumerStatus.ACK;
  }
  const decision = decide(outcome.error, handoff, deps, deps.logger, { queue, rawKey: handoff.rawKey });
  const only = outcome.status === 'partial' ? outcome.failedRefs : handoff.only;
  const lastError = `${decision.handled.code}: ${decision.handled.publicMessage}`;
  if (decision.action === 'dead-letter') {
    try {
      const failedKey = await deps.rawStore.storeFailed({ ...handoff, error: lastError, attempts: handoff.attempt, only });
      await deps.publisher.toQueue(QUEUES.dead, { ...handoff, only, lastError });
      deps.metrics.handoffOutcome.inc({ queue, outcome: 'dead_letter' });
      deps.logger.error('hand-off dead-lettered; replay it once the cause is fixed', {
        queue,
        attempts: handoff.attempt,
        code: decision.handled.code,
        failedKey,
      });
      return ConsumerStatus.ACK;
    } catch (err) {
      // Not stored as failed (object store or broker away): wait and dead-letter on the next attempt.
      handleError(err, deps.logger, 'consumer', { queue, step: 'dead_letter' });
    }
  }
  const retry =
    decision.action === 'retry' ? decision : { delayMs: delayFor(handoff.attempt, deps), attempt: handoff.attempt, retryingSince: handoff.retryingSince };
  try {
    await deps.publisher.toQueue(retryQueueName(queue, retry.delayMs), {
      ...handoff,
      attempt: retry.attempt,
      only,
      lastError,
      retryingSince: retry.retryingSince,
    });
  } catch (err) {
    // The broker itself is away: the original goes back to the queue (its channel is likely gone anyway).
    handleError(err, deps.logger, 'consumer', { queue, step: 'retry' });
    deps.metrics.handoffOutcome.inc({ queue, outcome: 'requeue' });
    return ConsumerStatus.REQUEUE;
  }
  deps.metrics.handoffOutcome.inc({ queue, outcome: 'retry' });
  deps.logger.warn('hand-off will be retried', { queue, attempt: handoff.attempt, delayMs: retry.delayMs, code: decision.handled.code, updates: only?.length });
  return ConsumerStatus.ACK;
}
