export { ConfirmedPublisher, type OutgoingMessage } from './confirmed.publisher';
export { EventPublisher, type PublishableEvent, type PublishedBy } from './event.publisher';
export { HandoffPublisher } from './handoff.publisher';
export { StateOutboxPublisher, type OutboxEnvelope } from './state-outbox.publisher';
export { decodeHandoff, encodeHandoff, webhookReceived, type HandoffMessage, type Shard, type WebhookReceivedV1 } from './handoff.message';
export { createRabbit, type RabbitTarget } from './rabbit.connection';
export { applyQueuePolicies, QUEUE_POLICIES, type QueuePolicy } from './policies';
export {
  declareFanoutQueue,
  declareLedgerQueue,
  declareTopology,
  EVENT_BINDINGS,
  EXCHANGES,
  QUEUES,
  retryQueueName,
  shardQueueName,
  shardRetryQueueName,
  shardRoutingKey,
  everyShard,
  workQueueOptions,
  type RetryableQueue,
  type ShardQueue,
  type WorkQueue,
} from './topology';
export type { FailedOutcome, HandlerOutcome } from './outcome';
export { QueueConsumer, type QueueConsumerDeps, type QueueHandler, type RetryStep } from './queue.consumer';
export { decide, delayFor, type Decision, type RetryPolicy } from './retry-policy';
export { shardHandoffs } from './shard-handoffs';
export { Batcher, type BatcherOptions, type BatchOutcome } from './batcher';
