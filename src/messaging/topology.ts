import type { Connection } from 'rabbitmq-client';

/**
 * Every exchange and queue of the service. Events go to the contract's topic exchange; hand-offs
 * from the receiver go to a fanout exchange feeding the process queue (one durable copy per
 * webhook; operators may bind a queue of their own to tap them). The worker archives the raw payload
 * beside its events; the archive queue only holds hand-offs whose archive failed inline (object
 * store down), so a slow object store delays archives, never events.
 *
 * All queues are quorum queues (replicated on a 3-node cluster; on this machine they also
 * out-ran classic queues for confirmed publishes). Retries wait in per-delay TTL queues that
 * dead-letter back to their origin queue, at-least-once.
 */
export const EXCHANGES = {
  events: 'whatsapp.inbound',
  handoff: 'whatsapp.webhooks',
} as const;

export const QUEUES = {
  messages: 'INBOUND_WHATSAPP_MESSAGES',
  notifications: 'WHATSAPP_NOTIFICATIONS',
  process: 'whatsapp.webhooks.process',
  archive: 'whatsapp.webhooks.archive',
  dead: 'whatsapp.webhooks.dead',
  /** Message tracking on its way to the State Manager (kept while it is down). */
  stateOutbox: 'whatsapp.state-manager.outbox',
} as const;

/** Queues of hand-offs from the receiver. */
export type WorkQueue = typeof QUEUES.process | typeof QUEUES.archive;
/** Queues whose failed messages wait in retry queues. */
export type RetryableQueue = WorkQueue | typeof QUEUES.stateOutbox;

export const EVENT_BINDINGS = [
  { queue: QUEUES.messages, routingKey: 'message.#' },
  { queue: QUEUES.messages, routingKey: 'status.#' },
  { queue: QUEUES.notifications, routingKey: 'notification.#' },
] as const;

const QUORUM = { 'x-queue-type': 'quorum' } as const;

export function retryQueueName(origin: RetryableQueue, delayMs: number): string {
  return `${origin}.retry.${delayMs}ms`;
}

/** Arguments of a work queue, shared by the declaration here and the consumer's re-declaration. */
export function workQueueOptions(queue: RetryableQueue): { queue: string; durable: true; arguments: Record<string, unknown> } {
  return { queue, durable: true, arguments: { ...QUORUM } };
}

/** Declares everything; idempotent, safe to run on every start of every instance. */
export async function declareTopology(rabbit: Connection, retryDelaysMs: readonly number[]): Promise<void> {
  await rabbit.exchangeDeclare({ exchange: EXCHANGES.events, type: 'topic', durable: true });
  await rabbit.exchangeDeclare({ exchange: EXCHANGES.handoff, type: 'fanout', durable: true });
  for (const queue of [QUEUES.messages, QUEUES.notifications, QUEUES.dead]) {
    await rabbit.queueDeclare({ queue, durable: true, arguments: { ...QUORUM } });
  }
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
