import type { AsyncMessage } from 'rabbitmq-client';
import { ValidationError } from '../errors';
import type { StateManagerClient, StateMessage } from '../integrations';
import { QueueConsumer, QUEUES, type OutboxEnvelope, type QueueConsumerDeps, type StateOutboxPublisher } from '../messaging';

export interface StateOutboxDeps extends QueueConsumerDeps {
  client: StateManagerClient;
  outbox: StateOutboxPublisher;
}

interface Tracking {
  body: StateMessage;
  envelope: OutboxEnvelope;
}

/**
 * Delivers message tracking to the State Manager (`POST /state/message`) from the durable outbox.
 * While the State Manager is down (or its circuit is open) each message waits in the retry queues
 * and is delivered once it is back; the events themselves were published long before. A message
 * the State Manager refuses (4xx) goes to the dead-letter queue.
 */
export function stateOutboxConsumer(deps: StateOutboxDeps): QueueConsumer<Tracking> {
  return new QueueConsumer<Tracking>(
    QUEUES.stateOutbox,
    {
      decode,
      context: ({ envelope }) => ({ correlationId: envelope.correlationId, tenantId: envelope.tenantId }),
      logFields: ({ envelope }) => ({ eventId: envelope.eventId }),
      attempt: ({ envelope }) => envelope,
      handle: async ({ body }) => {
        await deps.client.recordMessage(body);
        return { status: 'done' };
      },
      retry: ({ body, envelope }, step) =>
        deps.outbox.retry(step.delayMs, body, { ...envelope, attempt: step.attempt, retryingSince: step.retryingSince, lastError: step.lastError }),
      deadLetter: ({ body, envelope }, lastError) => deps.outbox.deadLetter(body, { ...envelope, lastError }),
    },
    deps,
  );
}

/** A tracking message as the worker wrote it (JSON with its tenant and event); anything else is unreadable. */
function decode(msg: AsyncMessage): Tracking {
  const body = msg.body as Partial<StateMessage> | null;
  if (typeof body !== 'object' || body === null || Buffer.isBuffer(body) || typeof body.tenantId !== 'string' || typeof body.eventId !== 'string') {
    throw new ValidationError('unreadable_tracking', 'State outbox message is not a tracking message');
  }
  const attempt = Number(msg.headers?.['x-attempt']);
  return {
    body: body as StateMessage,
    envelope: {
      eventId: msg.messageId ?? body.eventId,
      tenantId: body.tenantId,
      correlationId: msg.correlationId ?? body.correlationId ?? body.eventId,
      attempt: Number.isInteger(attempt) && attempt >= 1 ? attempt : 1,
      retryingSince: typeof msg.headers?.['x-retrying-since'] === 'string' ? msg.headers['x-retrying-since'] : undefined,
    },
  };
}
