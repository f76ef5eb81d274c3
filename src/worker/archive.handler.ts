import { QUEUES, type HandoffMessage, type HandoffPublisher } from '../messaging';
import { LogThrottle, type Logger, type Metrics } from '../observability';
import type { RawPayloadStore } from '../storage';
import type { HandoffHandler } from './handoff.consumer';
import type { WorkerPace } from './pace';

/** Makes a hand-off's raw payload safe in the archive; see inlineArchive. */
export type ArchiveStep = (handoff: HandoffMessage) => Promise<void>;

const throttle = new LogThrottle();

/** How long the archive queue's consumer waits, at most, for a busy worker to catch up. */
const ARCHIVE_YIELD_MAX_MS = 10_000;

/**
 * The raw payload's archive, written by the process handler beside its events (one PUT, no second
 * copy of the hand-off in the broker). The hand-off is held until its archive is written or queued,
 * so a slow store must not hold many: past `maxInFlight` PUTs under way, the hand-off goes to the
 * archive queue (confirmed) instead, whose consumer writes it when the store keeps up again; the same
 * when a PUT fails, and when the hand-off reached the worker late (`pace`: the worker is behind, so
 * the store's work waits until the events have caught up). Events are never held up by a slow or
 * absent store, the backlog waits in the broker rather than in memory, and nothing is acked before its
 * archive is written or queued. Only if the broker refuses that copy too does this throw (the attempt
 * is then retried whole).
 */
export function inlineArchive(
  rawStore: RawPayloadStore,
  archiveQueue: HandoffPublisher,
  metrics: Metrics,
  logger: Logger,
  options: { maxInFlight: number; pace: WorkerPace },
): ArchiveStep {
  let inFlight = 0;
  const defer = async (handoff: HandoffMessage, reason: 'store_busy' | 'store_failed' | 'worker_behind', lastError: string): Promise<void> => {
    await archiveQueue.toQueue(QUEUES.archive, { ...handoff, attempt: 1, only: undefined, lastError });
    metrics.rawArchiveDeferred.inc({ tenant: handoff.tenantId, reason });
  };
  return async (handoff) => {
    if (options.pace.observe(handoff)) {
      throttle.run('archive-late', (suppressed) =>
        logger.info('worker behind: raw payloads handed to the archive queue, to be written once the events have caught up', { suppressed }),
      );
      return defer(handoff, 'worker_behind', 'worker behind: the hand-off arrived late, its archive waits for the events');
    }
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
 * Archive queue: hand-offs whose raw payload was not written beside their events (store failed or
 * behind, worker behind). Writes the raw payload, byte for byte, at the key the receiver chose; while
 * the object store is down this fails as TransientError and is retried until it works.
 */
export function archiveHandler(rawStore: RawPayloadStore, metrics: Metrics, pace: WorkerPace): HandoffHandler {
  return async (handoff) => {
    // Events first: while the worker is behind, the archive waits (it is safe in this queue), but
    // never more than a few seconds per payload, so a long overload still lets archives through.
    const until = Date.now() + ARCHIVE_YIELD_MAX_MS;
    while (pace.behind() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
    await rawStore.archive(handoff);
    metrics.rawArchived.inc({ tenant: handoff.tenantId });
    return { status: 'done' };
  };
}
