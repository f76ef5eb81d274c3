import { QUEUES, type HandoffMessage, type HandoffPublisher } from '../messaging';
import { LogThrottle, type Logger, type Metrics } from '../observability';
import type { RawPayloadStore } from '../storage';
import type { HandoffHandler } from './handoff.consumer';

/** Makes a hand-off's raw payload safe in the archive; see inlineArchive. */
export type ArchiveStep = (handoff: HandoffMessage) => Promise<void>;

const throttle = new LogThrottle();

/**
 * The raw payload's archive, written by the process handler beside its events (one PUT, no second
 * copy of the hand-off in the broker). The hand-off is held until its archive is written or queued,
 * so a slow store must not hold many: past `maxInFlight` PUTs under way, the hand-off goes to the
 * archive queue (confirmed) instead, whose consumer writes it when the store keeps up again; the same
 * when a PUT fails. Events are never held up by a slow or absent store, the backlog waits in the
 * broker rather than in memory, and nothing is acked before its archive is written or queued. Only
 * if the broker refuses that copy too does this throw (the attempt is then retried whole).
 */
export function inlineArchive(
  rawStore: RawPayloadStore,
  archiveQueue: HandoffPublisher,
  metrics: Metrics,
  logger: Logger,
  options: { maxInFlight: number },
): ArchiveStep {
  let inFlight = 0;
  const defer = async (handoff: HandoffMessage, reason: 'store_busy' | 'store_failed', lastError: string): Promise<void> => {
    await archiveQueue.toQueue(QUEUES.archive, { ...handoff, attempt: 1, only: undefined, lastError });
    metrics.rawArchiveDeferred.inc({ tenant: handoff.tenantId, reason });
  };
  return async (handoff) => {
    if (inFlight >= options.maxInFlight) {
      throttle.run('archive-busy', (suppressed) =>
        logger.info('object store behind: raw payloads handed to the archive queue, to be written as it catches up', {
          inFlight,
          suppressed,
        }),
      );
      return defer(handoff, 'store_busy', `object store behind: ${inFlight} raw-payload PUTs already under way`);
    }
    inFlight += 1;
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
    } finally {
      inFlight -= 1;
    }
    return defer(handoff, 'store_failed', 'object store unavailable for the inline archive');
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
