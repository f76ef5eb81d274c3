import type { ConfirmedPublisher, OutgoingMessage } from './confirmed.publisher';
import { encodeHandoff, type HandoffMessage, type Shard } from './handoff.message';
import { EXCHANGES, shardRoutingKey } from './topology';

/** Sends hand-offs with publisher confirms: to their shard queue, a shard's retry, or one queue by name. */
export class HandoffPublisher {
  constructor(private readonly publisher: ConfirmedPublisher) {}

  /** Receiver (or replay) → worker, which archives and processes it: into the queue of its shard. */
  toShard(message: HandoffMessage & { shard: Shard }): Promise<void> {
    return this.publisher.publish(encodeHandoff(message, EXCHANGES.shards, shardRoutingKey(message.shard)));
  }

  /** A sharded hand-off's next attempt: it waits `delayMs` in the shards' retry queue, then goes back to its shard. */
  toShardRetry(delayMs: number, message: HandoffMessage & { shard: Shard }): Promise<void> {
    return this.publisher.publish(encodeHandoff(message, EXCHANGES.shardRetries, `${delayMs}ms.${shardRoutingKey(message.shard)}`));
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
