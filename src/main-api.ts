import { adminRoutes, ReplayService } from './admin';
import type { Infrastructure } from './bootstrap/infrastructure';
import type { Readiness } from './observability';
import { TenantRateLimiter } from './cache';
import { createApp, WebhookIntake, WebhookRateLimit, type Receiver } from './receiver';

/** Composition root of the receiver (ROLE=api, and the HTTP side of ROLE=all). */
export function createApiApp(infra: Infrastructure, readiness: Readiness): Receiver {
  const intake = new WebhookIntake(infra.dedupStore('rx'), infra.handoffPublisher, infra.logger.child({ component: 'intake' }), infra.metrics);
  const rateLimit = new WebhookRateLimit(
    new TenantRateLimiter(infra.redis, infra.config.redis.keyPrefix),
    infra.config.rateLimitPerMinute,
    infra.logger.child({ component: 'rate-limit' }),
    infra.metrics,
  );
  const adminToken = infra.config.adminToken;
  if (!adminToken) infra.logger.info('admin routes disabled: ADMIN_TOKEN is not set');
  return createApp({
    logger: infra.logger.child({ component: 'receiver' }),
    metrics: infra.metrics,
    readiness,
    tenants: infra.tenants,
    intake,
    rateLimit,
    admin: adminToken
      ? adminRoutes({
          token: adminToken,
          cacheControl: infra.cacheControl,
          replay: new ReplayService(infra.rawStore, infra.handoffPublisher, infra.dedupStore('ev'), infra.tenants, infra.logger.child({ component: 'replay' })),
        })
      : undefined,
    bodyLimitBytes: infra.config.http.bodyLimitBytes,
  });
}
