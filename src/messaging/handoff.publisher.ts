import type { ConfirmedPublisher, OutgoingMessage } from './confirmed.publisher';
import { encodeHandoff, type HandoffMessage } from './handoff.message';
import { EXCHANGES } from './topology';

/** Sends hand-offs with publisher confirms: to the hand-off exchange (the process queue), or to one queue by name. */
export class HandoffPublisher {
  constructor(private readonly publisher: ConfirmedPublisher) {}

  /** Receiver → worker, which archives and processes it. */
  toWorker(message: HandoffMessage): Promise<void> {
    return this.publisher.publish(encodeHandoff(message, EXCHANGES.handoff, ''));
  }

  /** Straight into one queue (a retry queue, the archive queue, the dead-letter queue, or a replay into processing). */
  toQueue(queue: string, message: HandoffMessage): Promise<void> {
    return this.publisher.publish(encodeHandoff(message, '', queue));
  }

  /** A message that is not a hand-off (an unreadable one, on its way to the dead-letter queue). */
  raw(message: OutgoingMessage): Promise<void> {
    return this.publisher.publish(message);
  }

  close(): Promise<void> {
    return this.publisher.close();
  }
}
