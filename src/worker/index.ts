export { archiveHandler, inlineArchive, type ArchiveStep } from './archive.handler';
export { ByteBudget } from './byte-budget';
export { WorkerPace } from './pace';
export { handoffConsumer, MAX_ONLY_LENGTH, retryRefs, type HandoffConsumerDeps, type HandoffHandler } from './handoff.consumer';
export { processHandler, type ProcessDeps } from './process.handler';
export { stateOutboxConsumer, type StateOutboxDeps } from './state-outbox.consumer';
export { AccessTokens, MediaService, MEDIA_RULES } from './media';
export { MEDIA_TYPES, PROCESSORS, type MediaPort, type MediaRequest, type MediaType, type MessageType } from './processors';
