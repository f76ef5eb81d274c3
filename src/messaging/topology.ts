import type { Connection } from 'rabbitmq-client';
import type { Shard } from './handoff.message';

/**
 * Every exchange and queue of the service. Events go to the contract's topic exchange; hand-offs
 * from the receiver go to the shards exchange, by conversation, into HANDOFF_SHARDS shard queues
 * (`whatsapp.webhooks.process.shard-{i}-of-{n}`, routing key `shard.{n}.{i}`; operators may bind a
 * queue of their own to tap them with `#`), each consumed by one worker at a time (single active
 * consumer), so one conversation's hand-offs are handled in the order they came. The unsharded
 * process queue of earlier versions (fed by the fanout exchange) is still consumed, so hand-offs
 * and retries left in it are not lost; nothing new goes there. The worker archives the raw payload
 * beside its events; the archive queue only holds hand-offs whose archive failed inline (object
 * store down), so a slow object store delays archives, never events.
 *
 * All queues are quorum queues (replicated on a 3-node cluster; on this machine they also
 * out-ran classic queues for confirmed publishes). Retries wait in per-delay TTL queues that
 * dead-letter back to their origin queue, at-least-once. Delivery limits and the dead-letter
 * target of the other queues are policies (policies.ts), so they also reach queues declared by
 * earlier versions; the exchange and queues they dead-letter into are declared here.
 */
export const EXCHANGES = {
  events: 'whatsapp.inbound',
  /** Earlier versions' hand-off exchange (fanout to the unsharded process queue). */
  handoff: 'whatsapp.webhooks',
  /** Hand-offs by shard (topic): `shard.{n}.{i}`, and `{delay}ms.shard.{n}.{i}` when a retry comes back. */
  shards: 'whatsapp.webhooks.shards',
  /** Retry copies of sharded hand-offs (topic): `{delay}ms.shard.{n}.{i}` into the retry queue of that delay. */
  shardRetries: 'whatsapp.webhooks.shards.retry',
  /** Where the broker dead-letters what a queue's delivery limit stops (direct: routing key = target queue). */
  deadLetters: 'whatsapp.dead-letters',
} as const;

export const QUEUES = {
  messages: 'INBOUND_WHATSAPP_MESSAGES',
  notifications: 'WHATSAPP_NOTIFICATIONS',
  process: 'whatsapp.webhooks.process',
  archive: 'whatsapp.webhooks.archive',
  dead: 'whatsapp.webhooks.dead',
  /** Events a consumer of the contract's queues rejected or requeued past the delivery limit. */
  deadEvents: 'whatsapp.inbound.dead',
  /** Message tracking on its way to the State Manager (kept while it is down). */
  stateOutbox: 'whatsapp.state-manager.outbox',
  /** Every event, for the delivery role to fan out to tenants' subscriptions (declared only with DATABASE_URL). */
  subscriptionFanout: 'whatsapp.subscriptions.fanout',
  /** Every event, for the ledger role to write to PostgreSQL (declared only with DATABASE_URL and LEDGER_ENABLED). */
  ledger: 'whatsapp.ledger',
} as const;

/** Queues of hand-offs from the receiver: a shard queue, the unsharded process queue, the archive queue. */
export type WorkQueue = typeof QUEUES.process | typeof QUEUES.archive | ShardQueue;
/** Queues whose failed messages wait in retry queues. */
export type RetryableQueue = WorkQueue | typeof QUEUES.stateOutbox;

/** Hand-offs of shard `index` of `count`. */
export type ShardQueue = `${typeof QUEUES.process}.shard-${number}-of-${number}`;

export function shardQueueName(shard: Shard): ShardQueue {
  return `${QUEUES.process}.shard-${shard.index}-of-${shard.count}`;
}

export function shardRoutingKey(shard: Shard): string {
  return `shard.${shard.count}.${shard.index}`;
}

/** Where a sharded hand-off's retry waits `delayMs`; it then goes back to its shard by its routing key. */
export function shardRetryQueueName(delayMs: number): string {
  return `${EXCHANGES.shards}.retry.${delayMs}ms`;
}

/** Every shard of `count`. */
export function everyShard(count: number): Shard[] {
  return Array.from({ length: count }, (_, index) => ({ index, count }));
}

function isShardQueue(queue: string): queue is ShardQueue {
  return /\.shard-\d+-of-\d+$/.test(queue);
}

export const EVENT_BINDINGS = [
  { queue: QUEUES.messages, routingKey: 'message.#' },
  { queue: QUEUES.messages, routingKey: 'status.#' },
  { queue: QUEUES.notifications, routingKey: 'notification.#' },
] as const;

const QUORUM = { 'x-queue-type': 'quorum' } as const;

export function retryQueueName(origin: RetryableQueue, delayMs: number): string {
  return `${origin}.retry.${delayMs}ms`;
}

/**
 * Arguments of a work queue, shared by the declaration here and the consumer's re-declaration. A
 * shard queue has a single active consumer: should two workers ever subscribe to it at once (a
 * lease lost while its holder still consumes), the second gets nothing until the first lets go.
 */
export function workQueueOptions(queue: RetryableQueue): { queue: string; durable: true; arguments: Record<string, unknown> } {
  return { queue, durable: true, arguments: isShardQueue(queue) ? { ...QUORUM, 'x-single-active-consumer': true } : { ...QUORUM } };
}

/**
 * Declares everything; idempotent, safe to run on every start of every instance. `shardCounts`:
 * the generations of shard queues in use (HANDOFF_SHARDS, and HANDOFF_SHARDS_PREVIOUS while it changes).
 */
/**
 * The delivery role's queue: a copy of every event, bound before anything is published once
 * subscriptions exist (DATABASE_URL), so no event misses the fan-out. Without a delivery role
 * running it only grows: remove it (and unset DATABASE_URL) when subscriptions are given up.
 */
export async function declareFanoutQueue(rabbit: Connection): Promise<void> {
  await rabbit.queueDeclare({ queue: QUEUES.subscriptionFanout, durable: true, arguments: { ...QUORUM } });
  await rabbit.queueBind({ exchange: EXCHANGES.events, queue: QUEUES.subscriptionFanout, routingKey: '#' });
}

/** The ledger role's queue: a copy of every event, bound like the fan-out's and for the same reason. */
export async function declareLedgerQueue(rabbit: Connection): Promise<void> {
  await rabbit.queueDeclare({ queue: QUEUES.ledger, durable: true, arguments: { ...QUORUM } });
  await rabbit.queueBind({ exchange: EXCHANGES.events, queue: QUEUES.ledger, routingKey: '#' });
}

export async function declareTopology(rabbit: Connection, retryDelaysMs: readonly number[], shardCounts: readonly number[]): Promise<void> {
  await rabbit.exchangeDeclare({ exchange: EXCHANGES.events, type: 'topic', durable: true });
  await rabbit.exchangeDeclare({ exchange: EXCHANGES.handoff, type: 'fanout', durable: true });
  await rabbit.exchangeDeclare({ exchange: EXCHANGES.shards, type: 'topic', durable: true });
  await rabbit.exchangeDeclare({ exchange: EXCHANGES.shardRetries, type: 'topic', durable: true });
  for (const count of new Set(shardCounts)) {
    for (const shard of everyShard(count)) {
      const queue = shardQueueName(shard);
      await rabbit.queueDeclare(workQueueOptions(queue));
      // A first delivery (`shard.n.i`) and a retry coming back (`{delay}ms.shard.n.i`) alike.
      await rabbit.queueBind({ exchange: EXCHANGES.shards, queue, routingKey: `#.${shardRoutingKey(shard)}` });
    }
  }
  for (const delayMs of new Set(retryDelaysMs)) {
    const queue = shardRetryQueueName(delayMs);
    await rabbit.queueDeclare({
      queue,
      durable: true,
      // No dead-letter routing key: the copy goes back with its own, which names its shard.
      arguments: {
        ...QUORUM,
        'x-message-ttl': delayMs,
        'x-dead-letter-exchange': EXCHANGES.shards,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      },
    });
    await rabbit.queueBind({ exchange: EXCHANGES.shardRetries, queue, routingKey: `${delayMs}ms.#` });
  }
  for (const queue of [QUEUES.messages, QUEUES.notifications, QUEUES.dead, QUEUES.deadEvents]) {
    await rabbit.queueDeclare({ queue, durable: true, arguments: { ...QUORUM } });
  }
  await rabbit.exchangeDeclare({ exchange: EXCHANGES.deadLetters, type: 'direct', durable: true });
  for (const queue of [QUEUES.dead, QUEUES.deadEvents]) await rabbit.queueBind({ exchange: EXCHANGES.deadLetters, queue, routingKey: queue });
  for (const binding of EVENT_BINDINGS) await rabbit.queueBind({ exchange: EXCHANGES.events, ...binding });
  for (const queue of [QUEUES.process, QUEUES.archive, QUEUES.stateOutbox] as const) {
    await rabbit.queueDeclare(workQueueOptions(queue));
    if (queue === QUEUES.process) await rabbit.queueBind({ exchange: EXCHANGES.handoff, queue, routingKey: '' });
    // Bound to the fanout by earlier versions (a second copy of every hand-off); no longer.
    if (queue === QUEUES.archive) await rabbit.queueUnbind({ exchange: EXCHANGES.handoff, queue, routingKey: '' });
    for (const delayMs of new Set(retryDelaysMs)) {
      await rabbit.queueDeclare({
        queue: retryQueueName(queue, delayMs),
        durable: true,
        arguments: {
          ...QUORUM,
          'x-message-ttl': delayMs,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': queue,
          'x-dead-letter-strategy': 'at-least-once',
          'x-overflow': 'reject-publish',
        },
      });
    }
  }
}
