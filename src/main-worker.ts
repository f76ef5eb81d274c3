import express, { type Express } from 'express';
import pLimit from 'p-limit';
import type { Infrastructure } from './bootstrap/infrastructure';
import { ConversationSequenceStore, ShardLeaseStore, StatusOrderStore } from './cache';
import { correlationId, errorHandler, notFound, opsRoutes, requestLog } from './http';
import { GraphApiClient, MediaHostPolicy, StateManagerClient, TenantThrottle } from './integrations';
import { ConfirmedPublisher, EventPublisher, HandoffPublisher, QUEUES, shardQueueName, StateOutboxPublisher } from './messaging';
import type { Readiness } from './observability';
import { applyRetention, createS3, MediaStore } from './storage';
import {
  AccessTokens,
  archiveHandler,
  ByteBudget,
  ConversationOrder,
  handoffConsumer,
  inlineArchive,
  MediaService,
  processHandler,
  QueueAgeReporter,
  ShardOwner,
  stateOutboxConsumer,
  WorkerPace,
} from './worker';

/** State Manager calls a worker makes at once from the tracking outbox. */
const STATE_OUTBOX_PREFETCH = 32;

export interface WorkerHandle {
  /** Stops consuming, waits for hand-offs in progress to settle and for their confirms; idempotent. */
  close(): Promise<void>;
}

/** Composition root of the worker (ROLE=worker, and the processing side of ROLE=all). */
export async function startWorker(infra: Infrastructure): Promise<WorkerHandle> {
  const { config, objects, rawStore, metrics, redis, rabbit } = infra;
  await objects.ensureBucket(config.s3.rawBucket);
  await objects.ensureBucket(config.s3.mediaBucket);
  await applyRetention(infra.s3, { raw: config.s3.rawBucket, media: config.s3.mediaBucket }, config.s3.retentionDays, infra.logger);
  const logger = infra.logger.child({ component: 'worker' });
  const confirmTimeout = config.rabbitmq.publishConfirmTimeoutMs;
  const events = new EventPublisher(new ConfirmedPublisher(rabbit, 'event', metrics, confirmTimeout, logger));
  const retries = new HandoffPublisher(new ConfirmedPublisher(rabbit, 'retry', metrics, confirmTimeout, logger));

  const throttle = new TenantThrottle(redis, { perSecond: config.graph.ratePerSecond, keyPrefix: config.redis.keyPrefix });
  const media = new MediaService(
    {
      graph: new GraphApiClient({
        ...config.graph,
        throttle: (tenantId) => throttle.wait(tenantId),
        hosts: new MediaHostPolicy(config.media.allowedHosts, config.graph.baseUrl),
        metrics,
      }),
      store: new MediaStore(infra.s3, config.s3.publicUrl ? createS3(config.s3, { endpoint: config.s3.publicUrl }) : infra.s3, config.s3.mediaBucket, metrics),
      tokens: new AccessTokens(infra.tokens, infra.tenants, logger),
      limit: pLimit(config.media.concurrency),
      logger: logger.child({ component: 'media' }),
      metrics,
    },
    {
      urlTtlSeconds: config.media.urlTtlSeconds,
      idleTimeoutMs: config.media.idleTimeoutMs,
      downloadTimeoutMs: config.media.downloadTimeoutMs,
      maxAttempts: config.media.maxAttempts,
    },
  );

  const policy = {
    retryDelaysMs: config.rabbitmq.retryDelaysMs,
    maxAttempts: config.rabbitmq.maxAttempts,
    transientRetryWindowMs: config.rabbitmq.transientRetryWindowSeconds * 1000,
    maxRedeliveries: config.rabbitmq.maxRedeliveries,
  };
  const stateManager = config.stateManagerUrl
    ? {
        client: new StateManagerClient(config.stateManagerUrl, infra.resilient('state_manager'), { timeoutMs: config.external.stateManagerTimeoutMs }),
        outbox: new StateOutboxPublisher(new ConfirmedPublisher(rabbit, 'state-outbox', metrics, confirmTimeout, logger)),
      }
    : undefined;

  const consumerDeps = {
    rabbit,
    publisher: retries,
    rawStore,
    logger,
    metrics,
    prefetch: config.rabbitmq.prefetch,
    budget: new ByteBudget(config.rabbitmq.maxInflightBytes),
    policy,
  };
  const pace = new WorkerPace(config.rabbitmq.archiveDeferAfterMs);
  const process = processHandler({
    tenants: infra.tenants,
    eventDedup: infra.dedupStore('ev'),
    claimLeaseMs: config.eventClaimTtlSeconds * 1000,
    statusOrder: new StatusOrderStore(redis, { keyPrefix: config.redis.keyPrefix, ttlSeconds: config.statusTtlSeconds }),
    order: new ConversationOrder(config.orderHoldMs),
    sequences: new ConversationSequenceStore(redis, {
      keyPrefix: config.redis.keyPrefix,
      ttlSeconds: config.dedupTtlSeconds,
      legacyKeys: config.redis.readLegacyKeys,
    }),
    events,
    media,
    rawBucket: config.s3.rawBucket,
    archive: inlineArchive(rawStore, retries, metrics, logger, { maxInFlight: config.rabbitmq.maxInlineArchives, pace }),
    stateManager,
    logger,
    metrics,
  });
  const consumers: Array<{ start(): void; close(): Promise<void> }> = [
    // Its backlog is what the store could not take: no more PUTs at once than beside the events.
    handoffConsumer(QUEUES.archive, archiveHandler(rawStore, metrics, pace), {
      ...consumerDeps,
      prefetch: Math.min(config.rabbitmq.prefetch, config.rabbitmq.maxInlineArchives),
    }),
    // Earlier versions' unsharded queue: what was left in it, and its retries, are still processed.
    handoffConsumer(QUEUES.process, process, consumerDeps),
    new ShardOwner({
      leases: new ShardLeaseStore(redis, config.redis.keyPrefix),
      consumerFor: (shard) => handoffConsumer(shardQueueName(shard), process, consumerDeps),
      depth: async (shard) => (await rabbit.queueDeclare({ queue: shardQueueName(shard), passive: true })).messageCount,
      count: config.rabbitmq.shards,
      previousCount: config.rabbitmq.previousShards,
      leaseMs: config.rabbitmq.shardLeaseMs,
      logger: logger.child({ component: 'shards' }),
    }),
    new QueueAgeReporter(
      infra.queueAges,
      metrics.lagProbes,
      Math.max(100, Math.floor(config.rabbitmq.shardLeaseMs / 3)),
      logger.child({ component: 'queue-ages' }),
    ),
  ];
  if (stateManager) {
    consumers.push(
      stateOutboxConsumer({
        rabbit,
        ...stateManager,
        policy,
        unreadable: retries,
        logger: logger.child({ component: 'state-outbox' }),
        metrics,
        // Each delivery is one call to the State Manager: no more at once than before the prefetch grew.
        prefetch: Math.min(config.rabbitmq.prefetch, STATE_OUTBOX_PREFETCH),
      }),
    );
  }
  for (const consumer of consumers) consumer.start();

  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        await Promise.all(consumers.map((consumer) => consumer.close()));
        await Promise.all([events.close(), retries.close(), stateManager?.outbox.close()]);
      })()),
  };
}

/** The worker role's own HTTP port: /health, /ready and /metrics for Kubernetes and Prometheus. */
export function createWorkerOpsApp(infra: Infrastructure, readiness: Readiness, serveMetrics = true): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(correlationId(), requestLog(infra.logger.child({ component: 'worker-http' }), infra.metrics));
  app.use(opsRoutes(readiness, infra.metrics, { serveMetrics }));
  app.use(notFound());
  app.use(errorHandler(infra.logger));
  return app;
}
