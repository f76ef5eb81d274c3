import type { Metrics } from '../observability';
import type { RawPayloadStore } from '../storage';
import type { HandoffHandler } from './handoff.consumer';

/**
 * Archive queue: the raw payload, byte for byte, at the key the receiver chose. While the object
 * store is down this fails as TransientError and is retried until it works; events are not
 * held up meanwhile (they come from the other queue).
 */
export function archiveHandler(rawStore: RawPayloadStore, metrics: Metrics): HandoffHandler {
  return async (handoff) => {
    await rawStore.archive(handoff);
    metrics.rawArchived.inc({ tenant: handoff.tenantId });
    return { status: 'done' };
  };
}
