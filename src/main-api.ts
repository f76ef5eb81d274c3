import { Router } from 'express';
import { adminRoutes, ReplayService } from './admin';
import type { Infrastructure } from './bootstrap/infrastructure';
import { consoleRoutes, IntakeHistory, operatorRoutes } from './console';
import { QUEUES } from './messaging';
import type { Readiness } from './observability';
import { TenantRateLimiter } from './cache';
import { BodyBudget, createApp, WebhookIntake, WebhookRateLimit, type Receiver } from './receiver';
import { adminLedgerRoutes, LedgerStore, MessageTracer, tenantLedgerRoutes, type LedgerRoutesDeps } from './ledger';
import { ApiKeyStore, apiKeyRoutes, callerAuthenticator, DeliveryStore, SubscriptionStore, subscriptionRoutes, type Database } from './subscriptions';

/**
 * Composition root of the receiver (ROLE=api, and the HTTP side of ROLE=all). The admin routes
 * are mounted here unless `admin.separate` (ADMIN_PORT) serves them elsewhere; metrics likewise.
 */
export function createApiApp(infra: Infrastructure, readiness: Readiness, ports: { adminElsewhere: boolean; metricsElsewhere: boolean }): Receiver {
  const intake = new WebhookIntake(
    infra.dedupStore('rx'),
    infra.handoffPublisher,
    infra.logger.child({ component: 'intake' }),
    infra.metrics,
    infra.config.rabbitmq.shards,
  );
  const rateLimit = new WebhookRateLimit(
    new TenantRateLimiter(infra.redis, infra.config.redis.keyPrefix),
    infra.config.rateLimitPerMinute,
    infra.logger.child({ component: 'rate-limit' }),
    infra.metrics,
  );
  const { http } = infra.config;
  return createApp({
    logger: infra.logger.child({ component: 'receiver' }),
    metrics: infra.metrics,
    readiness,
    tenants: infra.tenants,
    intake,
    rateLimit,
    admin: ports.adminElsewhere ? undefined : createAdminRouter(infra),
    // With ADMIN_PORT the operator's token works on that port only: the public copy takes tenant keys alone.
    api: withConsole(createSubscriptionRouter(infra, !ports.adminElsewhere)),
    serveMetrics: !ports.metricsElsewhere,
    bodyLimitBytes: http.bodyLimitBytes,
    bodyBudget: new BodyBudget(http.maxInflightBytes, infra.metrics.receiverInflightBytes),
    envelopeLimits: { maxAccounts: http.maxAccountsPerWebhook, maxUpdates: http.maxUpdatesPerWebhook },
  });
}

/**
 * `/admin/*`, or undefined (and a log line saying so) when ADMIN_TOKEN is not set. On ADMIN_PORT
 * (`onAdminPort`) it also serves `/v1/subscriptions` for the operator's token, which the public port
 * then refuses.
 */
export function createAdminRouter(infra: Infrastructure, onAdminPort = false): Router | undefined {
  const token = infra.config.adminToken;
  if (!token) {
    infra.logger.info('admin routes disabled: ADMIN_TOKEN is not set');
    return undefined;
  }
  const more = Router();
  more.use(
    operatorRoutes({
      rabbit: infra.rabbit,
      queueAges: infra.queueAges,
      history: new IntakeHistory(infra.metrics),
      shards: infra.config.rabbitmq.shards,
      queues: infra.database ? [QUEUES.subscriptionFanout, ...(infra.config.ledger.enabled ? [QUEUES.ledger] : [])] : [],
    }),
  );
  if (infra.database) more.use(adminDatabaseRoutes(infra, infra.database, onAdminPort));
  const admin = adminRoutes({
    token,
    cacheControl: infra.cacheControl,
    more,
    replay: new ReplayService(infra.rawStore, infra.handoffPublisher, infra.dedupStore('ev'), infra.tenants, infra.logger.child({ component: 'replay' }), {
      dedupWindowSeconds: infra.config.dedupTtlSeconds,
      shards: infra.config.rabbitmq.shards,
    }),
  });
  // On ADMIN_PORT the console is served there too: the operator signs in where the admin routes are.
  return onAdminPort ? withConsole(admin) : admin;
}

/** `/console` beside `router`: the page calls the routes of the port that served it. */
function withConsole(router: Router | undefined): Router {
  const withPage = Router();
  withPage.use(consoleRoutes());
  if (router) withPage.use(router);
  return withPage;
}

/** `/admin/api-keys`, the ledger's `/admin/messages` and `/admin/stats`, and on ADMIN_PORT the operator's `/v1/…`. */
function adminDatabaseRoutes(infra: Infrastructure, database: Database, onAdminPort: boolean): Router {
  const router = Router();
  router.use(
    apiKeyRoutes({ apiKeys: new ApiKeyStore(database), knowsTenant: (id) => infra.tenants.knows(id), logger: infra.logger.child({ component: 'api-keys' }) }),
  );
  const ledger = ledgerDeps(infra, database);
  if (ledger) router.use(adminLedgerRoutes(ledger));
  const subscriptions = onAdminPort ? createSubscriptionRouter(infra, true) : undefined;
  if (subscriptions) router.use(subscriptions);
  return router;
}

/** What the trace and statistics routes read, when the ledger is kept (DATABASE_URL and LEDGER_ENABLED). */
function ledgerDeps(infra: Infrastructure, database: Database): LedgerRoutesDeps | undefined {
  if (!infra.config.ledger.enabled) return undefined;
  const ledger = new LedgerStore(database, infra.config.ledger.retentionDays);
  return { ledger, tracer: new MessageTracer(ledger, infra.rawStore) };
}

/** `/v1/subscriptions` (and the ledger's `/v1/messages`, `/v1/stats`), or undefined (and a log line saying so) when DATABASE_URL is not set. `acceptAdmin`: the operator's token works here too. */
function createSubscriptionRouter(infra: Infrastructure, acceptAdmin: boolean): Router | undefined {
  if (!infra.database) {
    infra.logger.info('subscriptions API disabled: DATABASE_URL is not set');
    return undefined;
  }
  const apiKeys = new ApiKeyStore(infra.database);
  const adminToken = acceptAdmin ? infra.config.adminToken : undefined;
  const router = Router();
  router.use(
    subscriptionRoutes({
      subscriptions: new SubscriptionStore(infra.database),
      deliveries: new DeliveryStore(infra.database),
      apiKeys,
      adminToken,
      knowsTenant: (id) => infra.tenants.knows(id),
      endpoints: infra.config.endpoints,
      logger: infra.logger.child({ component: 'subscriptions' }),
    }),
  );
  const ledger = ledgerDeps(infra, infra.database);
  if (ledger) router.use(tenantLedgerRoutes(ledger, callerAuthenticator({ apiKeys, adminToken })));
  return router;
}
