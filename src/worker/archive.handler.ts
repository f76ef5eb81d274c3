import { QUEUES, type HandoffMessage, type HandoffPublisher } from '../messaging';
import { LogThrottle, type Logger, type Metrics } from '../observability';
import type { RawPayloadStore } from '../storage';
import type { HandoffHandler } from './handoff.consumer';

/** Makes a hand-off's raw payload safe in the archive; see inlineArchive. */
export type ArchiveStep = (handoff: HandoffMessage) => Promise<void>;

const throttle = new LogThrottle();

/**
 * The raw payload's archive, written by the process handler beside its events (one PUT, no second
 * copy of the hand-off in the broker). When the object store fails, the hand-off goes to the archive
 * queue instead (confirmed), whose consumer retries the PUT until the store is back: events are not
 * held up by a slow or absent store, and nothing is acked before its archive is written or queued.
 * Only if the broker refuses that copy too does this throw (the attempt is then retried whole).
 */
export function inlineArchive(rawStore: RawPayloadStore, archiveQueue: HandoffPublisher, metrics: Metrics, logger: Logger): ArchiveStep {
  return async (handoff) => {
    try {
      await rawStore.archive(handoff);
      metrics.rawArchived.inc({ tenant: handoff.tenantId });
      return;
    } catch (err) {
      throttle.run('archive-deferred', (suppressed) =>
        logger.warn('object store failed; raw payload handed to the archive queue to be written when it is back', {
          rawKey: handoff.rawKey,
          cause: String(err),
          suppressed,
        }),
      );
    }
    await archiveQueue.toQueue(QUEUES.archive, { ...handoff, attempt: 1, only: undefined, lastError: 'object store unavailable for the inline archive' });
    metrics.rawArchiveDeferred.inc({ tenant: handoff.tenantId });
  };
}

/**
 * Archive queue: hand-offs whose inline archive failed. Writes the raw payload, byte for byte, at
 * the key the receiver chose; while the object store is down this fails as TransientError and is
 * retried until it works.
 */
export function archiveHandler(rawStore: RawPayloadStore, metrics: Metrics): HandoffHandler {
  return async (handoff) => {
    await rawStore.archive(handoff);
    metrics.rawArchived.inc({ tenant: handoff.tenantId });
    return { status: 'done' };
  };
}
