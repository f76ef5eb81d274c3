export { adminRoutes, type AdminDeps } from './admin.routes';
export { CacheControl, type InvalidationResult } from './cache-control';
export { ReplayService, type ReplayCounts, type ReplayRequest } from './replay.service';
export { peekDeadLetters, type DeadLetter } from './dead-letters';
