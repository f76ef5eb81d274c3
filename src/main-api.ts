import type { Express } from 'express';
import type { Infrastructure } from './bootstrap/infrastructure';
import type { Readiness } from './observability';
import { TenantRateLimiter } from './cache';
import { createApp, WebhookIntake, WebhookRateLimit } from './receiver';

/** Composition root of the receiver (ROLE=api, and the HTTP side of ROLE=all). */
export function createApiApp(infra: Infrastructure, readiness: Readiness): Express {
  const intake = new WebhookIntake(infra.dedupStore('rx'), infra.handoffPublisher, infra.logger.child({ component: 'intake' }), infra.metrics);
  const rateLimit = new WebhookRateLimit(
    new TenantRateLimiter(infra.redis, infra.config.redis.keyPrefix),
    infra.config.rateLimitPerMinute,
    infra.logger.child({ component: 'rate-limit' }),
    infra.metrics,
  );
  return createApp({
    logger: infra.logger.child({ component: 'receiver' }),
    metrics: infra.metrics,
    readiness,
    tenants: infra.tenants,
    intake,
    rateLimit,
    bodyLimitBytes: infra.config.http.bodyLimitBytes,
  });
}
