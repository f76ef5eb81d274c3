export { ConfirmedPublisher, type OutgoingMessage } from './confirmed.publisher';
export { EventPublisher, routingKeyOf, type PublishableEvent } from './event.publisher';
export { HandoffPublisher } from './handoff.publisher';
export { StateOutboxPublisher, type OutboxEnvelope } from './state-outbox.publisher';
export { decodeHandoff, encodeHandoff, type HandoffMessage, type WebhookReceivedV1 } from './handoff.message';
export { createRabbit } from './rabbit.connection';
export { declareTopology, EVENT_BINDINGS, EXCHANGES, QUEUES, retryQueueName, workQueueOptions, type RetryableQueue, type WorkQueue } from './topology';
