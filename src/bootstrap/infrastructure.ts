import type { S3Client } from '@aws-sdk/client-s3';
import type { Connection } from 'rabbitmq-client';
import { CacheControl } from '../admin/cache-control';
import { closeRedis, createRedis, DedupStore, InvalidationBus, QueueAgeStore, TenantCache, TokenCache, waitForRedis, type Redis } from '../cache';
import type { Config } from '../config';
import { TransientError } from '../errors';
import { ResilientCall, TenantServiceSource, type ResilienceOptions } from '../integrations';
import {
  applyQueuePolicies,
  ConfirmedPublisher,
  createRabbit,
  declareFanoutQueue,
  declareLedgerQueue,
  declareTopology,
  HandoffPublisher,
  QUEUES,
} from '../messaging';
import type { DependencyCheck, Logger, Metrics } from '../observability';
import { createMinio, createS3, ObjectStore, RawPayloadStore } from '../storage';
import { createDatabase, migrate, type Database } from '../subscriptions';
import { TenantResolver, TenantsFileSource, type TenantSource } from '../tenants';

/** The clients and stores both roles share, created once per process. */
export interface Infrastructure {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  redis: Redis;
  rabbit: Connection;
  s3: S3Client;
  objects: ObjectStore;
  rawStore: RawPayloadStore;
  tenants: TenantResolver;
  tokens: TokenCache;
  cacheControl: CacheControl;
  /** How old the oldest message each worker holds from each queue is (written by workers, read by the console). */
  queueAges: QueueAgeStore;
  /** Receiver → worker hand-offs, and the worker's retry / dead-letter copies. */
  handoffPublisher: HandoffPublisher;
  checks: { redis: DependencyCheck; rabbitmq: DependencyCheck; s3: DependencyCheck; database?: DependencyCheck };
  /** PostgreSQL (subscriptions, tenant API keys), migrated, when DATABASE_URL is set. */
  database: Database | undefined;
  dedupStore(namespace: 'rx' | 'ev'): DedupStore;
  /** Retries and a circuit breaker for calls to an external service (closed with the rest). */
  resilient(name: string): ResilientCall;
  /** Publishers first (outstanding confirms), then the connections; idempotent. */
  close(): Promise<void>;
}

const STARTUP_WAIT_MS = 15_000;

/**
 * Dedup marks wait this long for the next lookup, to share its round trip to Redis (one write and
 * one read fewer per webhook when webhooks come one at a time). Nothing needs them sooner: Meta
 * redelivers after seconds, and the worker acks a hand-off only once its event marks are written.
 */
const MARK_DELAY_MS = 10;

export async function createInfrastructure(config: Config, logger: Logger, metrics: Metrics): Promise<Infrastructure> {
  const breakers: ResilientCall[] = [];
  const dedupStores: DedupStore[] = [];
  const resilient = (name: string): ResilientCall => {
    const call = new ResilientCall(resilienceOptions(config, name), metrics, logger);
    breakers.push(call);
    return call;
  };
  const source: TenantSource = config.tenants.serviceUrl
    ? new TenantServiceSource(config.tenants.serviceUrl, resilient('tenant_service'), { timeoutMs: config.external.tenantServiceTimeoutMs })
    : TenantsFileSource.load(config.tenants.file ?? '');

  const redis = createRedis(config.redis, { name: `wws-${config.role}` });
  redis.on('error', (err: unknown) => logger.debug('redis connection error', { cause: String(err) }));
  await waitForRedis(redis, STARTUP_WAIT_MS).catch(() => logger.warn('Redis is not reachable yet; continuing degraded until it is'));

  const rabbit = createRabbit(config.rabbitmq, logger, `whatsapp-webhook-service/${config.role}`);
  /** Start-up failed past this point: nothing is left connected. */
  const abandon = async (): Promise<void> => {
    await rabbit.close();
    redis.disconnect();
  };
  try {
    await rabbit.onConnect(STARTUP_WAIT_MS, true);
    await declareTopology(rabbit, config.rabbitmq.retryDelaysMs, [
      config.rabbitmq.shards,
      ...(config.rabbitmq.previousShards ? [config.rabbitmq.previousShards] : []),
    ]);
    if (config.database) await declareFanoutQueue(rabbit);
    if (config.ledger.enabled) await declareLedgerQueue(rabbit);
  } catch (cause) {
    await abandon();
    throw new TransientError('broker_unavailable', `RabbitMQ is not reachable (RABBITMQ_URL) or refused the topology: ${String(cause)}`, { cause });
  }
  if (config.rabbitmq.managementUrl) {
    try {
      await applyQueuePolicies(config.rabbitmq.managementUrl, config.rabbitmq.vhost);
    } catch (err) {
      await abandon();
      throw err;
    }
  } else {
    logger.warn(
      'queue policies not applied by this service (RABBITMQ_MANAGEMENT_URL is not set): apply them as docs/deployment.md shows, or RabbitMQ 4 may drop a message past 20 deliveries',
    );
  }

  let database: Database | undefined;
  if (config.database) {
    try {
      await migrate(config.database.url, logger.child({ component: 'database' }));
    } catch (err) {
      await abandon();
      throw err;
    }
    database = createDatabase(config.database, logger.child({ component: 'database' }));
  }

  const s3 = createS3(config.s3);
  const objects = new ObjectStore(s3, createMinio(config.s3), metrics);
  const rawStore = new RawPayloadStore(objects, config.s3.rawBucket);
  const tenantCache = new TenantCache(redis, metrics, {
    keyPrefix: config.redis.keyPrefix,
    ttlSeconds: config.tenants.cacheTtlSeconds,
  });
  const tenants = new TenantResolver(source, tenantCache, logger.child({ component: 'tenants' }), metrics, {
    memoryTtlMs: config.tenants.memoryTtlSeconds * 1000,
    negativeTtlMs: config.tenants.negativeCacheTtlSeconds * 1000,
  });
  const tokens = new TokenCache(redis, { keyPrefix: config.redis.keyPrefix, ttlSeconds: config.media.tokenCacheTtlSeconds });
  const cacheControl = new CacheControl(
    tenants,
    tenantCache,
    tokens,
    new InvalidationBus(redis, `${config.redis.keyPrefix}cache-invalidation`, logger),
    logger.child({ component: 'cache-control' }),
  );
  const handoffPublisher = new HandoffPublisher(new ConfirmedPublisher(rabbit, 'handoff', metrics, config.rabbitmq.publishConfirmTimeoutMs, logger));

  let closed: Promise<void> | undefined;
  return {
    config,
    logger,
    metrics,
    redis,
    rabbit,
    s3,
    objects,
    rawStore,
    tenants,
    tokens,
    cacheControl,
    // Workers report a few times a lease period; a report missed nine times over is a worker gone.
    queueAges: new QueueAgeStore(redis, config.redis.keyPrefix, 3 * config.rabbitmq.shardLeaseMs),
    handoffPublisher,
    checks: {
      redis: { name: 'redis', check: async () => void (await redis.ping()) },
      rabbitmq: {
        name: 'rabbitmq',
        check: async () => {
          if (!rabbit.ready) throw new Error('not connected');
          await rabbit.queueDeclare({ queue: QUEUES.process, passive: true });
        },
      },
      s3: { name: 's3', check: () => objects.ping(config.s3.rawBucket) },
      ...(database ? { database: { name: 'database', check: async () => void (await database.query('SELECT 1')) } } : {}),
    },
    database,
    resilient,
    dedupStore: (namespace) => {
      const store = new DedupStore(redis, {
        keyPrefix: config.redis.keyPrefix,
        namespace,
        ttlSeconds: config.dedupTtlSeconds,
        markDelayMs: MARK_DELAY_MS,
        claims: namespace === 'ev',
        legacyKeys: config.redis.readLegacyKeys,
      });
      dedupStores.push(store);
      return store;
    },
    close: () =>
      (closed ??= (async () => {
        cacheControl.close();
        for (const breaker of breakers) breaker.shutdown();
        await handoffPublisher.close().catch(() => undefined);
        await rabbit.close().catch(() => undefined);
        await Promise.all(dedupStores.map((store) => store.flush()));
        await closeRedis(redis);
        await database?.end().catch(() => undefined);
        s3.destroy();
      })()),
  };
}

function resilienceOptions(config: Config, name: string): ResilienceOptions {
  const { maxAttempts, retryDelayMs, errorThresholdPercentage, volumeThreshold, resetTimeoutMs } = config.external;
  return { name, maxAttempts, retryDelayMs, errorThresholdPercentage, volumeThreshold, resetTimeoutMs };
}
