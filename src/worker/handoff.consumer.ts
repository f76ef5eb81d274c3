import {
  decodeHandoff,
  QueueConsumer,
  QUEUES,
  retryQueueName,
  type HandlerOutcome,
  type HandoffMessage,
  type HandoffPublisher,
  type QueueConsumerDeps,
  type WorkQueue,
} from '../messaging';
import type { RawPayloadStore } from '../storage';

/**
 * The longest list of update refs (comma-joined) a retry or failed copy names: `x-only`, and the
 * failed payload's metadata, which S3 limits to 2 KiB in all (the error takes up to 1 KiB). A
 * longer list (a history chunk of thousands of messages failing together) is not named: the whole
 * hand-off is tried again, and the events already published are skipped by their marks.
 */
export const MAX_ONLY_LENGTH = 512;

/** The refs the next copy of a hand-off names: the ones that failed, unless they are too many to name. */
export function retryRefs(handoff: Pick<HandoffMessage, 'only'>, outcome: HandlerOutcome): string[] | undefined {
  return outcome.status === 'partial' && outcome.failedRefs.join(',').length <= MAX_ONLY_LENGTH ? outcome.failedRefs : handoff.only;
}

export type HandoffHandler = (handoff: HandoffMessage) => Promise<HandlerOutcome>;

export interface HandoffConsumerDeps extends Omit<QueueConsumerDeps, 'unreadable'> {
  publisher: HandoffPublisher;
  rawStore: RawPayloadStore;
}

/**
 * A work queue of hand-offs (process, archive). A retry copy carries only the updates that failed
 * (for a partial failure); a dead-lettered hand-off goes to the failed prefix of the object store
 * (what replay reads) and a copy to the dead-letter queue (for alerts). A hand-off is acked only
 * after its handler finished (every event it produced confirmed) or its copy was confirmed.
 */
export function handoffConsumer(queue: WorkQueue, handle: HandoffHandler, deps: HandoffConsumerDeps): QueueConsumer<HandoffMessage> {
  return new QueueConsumer<HandoffMessage>(
    queue,
    {
      decode: decodeHandoff,
      context: (handoff) => ({ correlationId: handoff.correlationId, tenantId: handoff.tenantId }),
      logFields: (handoff) => ({ rawKey: handoff.rawKey }),
      attempt: (handoff) => ({ attempt: handoff.attempt, retryingSince: handoff.retryingSince }),
      size: (handoff) => handoff.body.length,
      receivedAt: (handoff) => Date.parse(handoff.receivedAt) || Date.now(),
      handle,
      retry: (handoff, step, outcome) => {
        const copy = { ...handoff, attempt: step.attempt, only: retryRefs(handoff, outcome), lastError: step.lastError, retryingSince: step.retryingSince };
        // A sharded hand-off comes back to its shard (the end of its queue); an unsharded one to the process queue.
        if (queue === QUEUES.archive) return deps.publisher.toQueue(retryQueueName(QUEUES.archive, step.delayMs), copy);
        if (copy.shard) return deps.publisher.toShardRetry(step.delayMs, { ...copy, shard: copy.shard });
        return deps.publisher.toQueue(retryQueueName(QUEUES.process, step.delayMs), copy);
      },
      deadLetter: async (handoff, lastError, outcome) => {
        const failedKey = await deps.rawStore.storeFailed({ ...handoff, error: lastError, attempts: handoff.attempt, only: retryRefs(handoff, outcome) });
        await deps.publisher.toQueue(QUEUES.dead, { ...handoff, only: retryRefs(handoff, outcome), lastError });
        deps.logger.error('hand-off dead-lettered; replay it once the cause is fixed', { queue, attempts: handoff.attempt, lastError, failedKey });
      },
    },
    { ...deps, unreadable: deps.publisher },
  );
}
