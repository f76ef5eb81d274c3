export { DedupStore, type DedupStoreOptions } from './dedup.store';
export { InvalidationBus, type Invalidation } from './invalidation.bus';
export { closeRedis, createRedis, redisCall, waitForRedis, type Redis } from './redis.client';
export { StatusOrderStore, type StatusTransition } from './status-order.store';
export { TokenCache } from './token.cache';
export { SLIDING_WINDOW_SCRIPT } from './sliding-window';
export { TenantRateLimiter, type RateDecision } from './tenant-rate-limiter';
export { TenantCache, type CachedTenant, type TenantCacheOptions } from './tenant.cache';
