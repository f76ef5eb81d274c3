import { config as loadDotenv } from 'dotenv';
import type { z } from 'zod';
import { ConfigError } from '../errors';
import { describeVariables, envSchema, type Env, type EnvName } from './config.schema';
import { parseAmqpNodes } from './variable';

export type Role = Env['ROLE'];

/**
 * The parsed configuration, grouped by the component that uses it: the output of the schema
 * (`configSchema`), so its shape is written once, in `toConfig`, and typed from there.
 */
export type Config = z.output<typeof configSchema>;

/**
 * Reads the environment once (after `.env`, or the file named by ENV_FILE) and validates every
 * variable. All problems are reported together, each naming its variable; secret values are
 * never echoed.
 */
export function loadConfig(source: NodeJS.ProcessEnv = readProcessEnv()): Config {
  const result = configSchema.safeParse(source);
  if (result.success) return result.data;
  const secret = new Set(
    describeVariables()
      .filter((v) => v.secret)
      .map((v) => v.name),
  );
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(environment)') as EnvName;
      const given = source[name];
      const shown = given === undefined ? 'it is not set' : secret.has(name) ? 'the value given is invalid' : `got "${given}"`;
      return `${name}: ${issue.message} (${shown})`;
    }),
  );
}

/** What no single variable can say: the variables that must agree with each other. */
function crossChecks(env: Env, ctx: z.RefinementCtx): void {
  const problem = (name: EnvName, message: string): void => ctx.addIssue({ code: 'custom', path: [name], message });
  if (!env.TENANTS_FILE && !env.TENANT_SERVICE_URL) {
    problem('TENANTS_FILE', 'set it to a tenants JSON file, or set TENANT_SERVICE_URL to use the Tenant Service (neither is set)');
  }
  // A redelivered status is recorded again while its event mark lives: its message's state must live as long.
  if (env.STATUS_TTL_SECONDS < env.DEDUP_TTL_SECONDS) {
    problem('STATUS_TTL_SECONDS', `must be at least DEDUP_TTL_SECONDS (${env.DEDUP_TTL_SECONDS}), or a late redelivery could bring back an old status`);
  }
  if (env.EVENT_CLAIM_TTL_SECONDS * 1000 <= env.MEDIA_DOWNLOAD_TIMEOUT_MS) {
    problem(
      'EVENT_CLAIM_TTL_SECONDS',
      `must be longer than MEDIA_DOWNLOAD_TIMEOUT_MS (${env.MEDIA_DOWNLOAD_TIMEOUT_MS} ms), or a slow media copy could lose its claim and publish twice`,
    );
  }
  if (env.REDIS_SENTINELS && !env.REDIS_SENTINEL_NAME)
    problem('REDIS_SENTINEL_NAME', 'is required with REDIS_SENTINELS: the name of the master the Sentinels watch');
  if (env.REDIS_SENTINEL_NAME && !env.REDIS_SENTINELS)
    problem('REDIS_SENTINELS', 'is required with REDIS_SENTINEL_NAME: where the Sentinels are (host:port, comma-separated)');
  if (env.ROLE === 'delivery' && !env.DATABASE_URL) {
    problem('DATABASE_URL', 'is required with ROLE=delivery: subscriptions and their deliveries live in PostgreSQL');
  }
  if (env.ROLE === 'ledger' && !env.DATABASE_URL) {
    problem('DATABASE_URL', 'is required with ROLE=ledger: the ledger lives in PostgreSQL');
  }
  if (env.ROLE === 'ledger' && !env.LEDGER_ENABLED) problem('LEDGER_ENABLED', 'is false, but ROLE=ledger runs nothing else');
  if (env.HANDOFF_SHARDS_PREVIOUS === env.HANDOFF_SHARDS) {
    problem('HANDOFF_SHARDS_PREVIOUS', `is the same as HANDOFF_SHARDS (${env.HANDOFF_SHARDS}): remove it, nothing is changing`);
  }
}

/** The environment schema, checked across variables, then regrouped: what `loadConfig` returns. */
const configSchema = envSchema.superRefine(crossChecks).transform(toConfig);

function readProcessEnv(): NodeJS.ProcessEnv {
  // dotenv never overrides variables already set in the environment.
  loadDotenv({ path: process.env.ENV_FILE ?? '.env', quiet: true });
  return process.env;
}

/** The schema's variables regrouped per component; `Config` is what this returns. */
function toConfig(env: Env) {
  return {
    env: env.NODE_ENV,
    role: env.ROLE,
    logLevel: env.LOG_LEVEL,
    http: {
      port: env.PORT,
      workerPort: env.WORKER_PORT,
      adminPort: env.ADMIN_PORT,
      metricsPort: env.METRICS_PORT,
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
      keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
      maxInflightBytes: env.RECEIVER_MAX_INFLIGHT_BYTES,
      maxAccountsPerWebhook: env.MAX_ACCOUNTS_PER_WEBHOOK,
      maxUpdatesPerWebhook: env.MAX_UPDATES_PER_WEBHOOK,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
      shutdownDelayMs: env.SHUTDOWN_DELAY_MS,
    },
    redis: {
      url: env.REDIS_URL,
      keyPrefix: env.REDIS_KEY_PREFIX,
      readLegacyKeys: env.REDIS_READ_LEGACY_KEYS,
      sentinels:
        env.REDIS_SENTINELS && env.REDIS_SENTINEL_NAME
          ? { nodes: env.REDIS_SENTINELS, name: env.REDIS_SENTINEL_NAME, password: env.REDIS_SENTINEL_PASSWORD }
          : undefined,
    },
    rabbitmq: {
      ...parseAmqpNodes(env.RABBITMQ_URL),
      managementUrl: env.RABBITMQ_MANAGEMENT_URL,
      prefetch: env.RABBITMQ_PREFETCH,
      shards: env.HANDOFF_SHARDS,
      previousShards: env.HANDOFF_SHARDS_PREVIOUS,
      shardLeaseMs: env.SHARD_LEASE_MS,
      maxInflightBytes: env.WORKER_MAX_INFLIGHT_BYTES,
      maxInlineArchives: env.WORKER_MAX_INLINE_ARCHIVES,
      archiveDeferAfterMs: env.WORKER_ARCHIVE_DEFER_AFTER_MS,
      publishConfirmTimeoutMs: env.PUBLISH_CONFIRM_TIMEOUT_MS,
      retryDelaysMs: env.RETRY_DELAYS_MS,
      maxAttempts: env.MAX_ATTEMPTS,
      maxRedeliveries: env.MAX_REDELIVERIES,
      transientRetryWindowSeconds: env.TRANSIENT_RETRY_WINDOW_SECONDS,
    },
    s3: {
      endpoint: env.MINIO_ENDPOINT,
      port: env.MINIO_PORT,
      useSsl: env.MINIO_USE_SSL,
      accessKey: env.MINIO_ACCESS_KEY,
      secretKey: env.MINIO_SECRET_KEY,
      region: env.MINIO_REGION,
      rawBucket: env.MINIO_BUCKET_RAW,
      mediaBucket: env.MINIO_BUCKET_MEDIA,
      publicUrl: env.MINIO_PUBLIC_URL,
      retentionDays: { raw: env.RETENTION_RAW_DAYS, failed: env.RETENTION_FAILED_DAYS, media: env.RETENTION_MEDIA_DAYS },
    },
    tenants: {
      file: env.TENANTS_FILE,
      serviceUrl: env.TENANT_SERVICE_URL,
      cacheTtlSeconds: env.TENANT_CACHE_TTL_SECONDS,
      negativeCacheTtlSeconds: env.TENANT_NEGATIVE_CACHE_TTL_SECONDS,
      memoryTtlSeconds: env.TENANT_MEMORY_CACHE_TTL_SECONDS,
      warmAccountIds: (env.TENANT_WARM_ACCOUNT_IDS ?? '')
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean),
    },
    adminToken: env.ADMIN_TOKEN,
    database: env.DATABASE_URL ? { url: env.DATABASE_URL, poolSize: env.DATABASE_POOL_SIZE } : undefined,
    delivery: {
      timeoutMs: env.DELIVERY_TIMEOUT_MS,
      retryScheduleMs: env.DELIVERY_RETRY_SCHEDULE_MS,
      concurrency: env.DELIVERY_CONCURRENCY,
      endpointConcurrency: env.DELIVERY_ENDPOINT_CONCURRENCY,
      pollMs: env.DELIVERY_POLL_MS,
      logRetentionDays: env.DELIVERY_LOG_RETENTION_DAYS,
    },
    ledger: {
      enabled: env.LEDGER_ENABLED && env.DATABASE_URL !== undefined,
      retentionDays: env.LEDGER_RETENTION_DAYS,
      batchSize: env.LEDGER_BATCH_SIZE,
      batchMs: env.LEDGER_BATCH_MS,
    },
    endpoints: { allowInsecure: env.ALLOW_INSECURE_ENDPOINTS, allowPrivate: env.ALLOW_PRIVATE_ENDPOINTS },
    stateManagerUrl: env.STATE_MANAGER_URL,
    external: {
      tenantServiceTimeoutMs: env.TENANT_SERVICE_TIMEOUT_MS,
      stateManagerTimeoutMs: env.STATE_MANAGER_TIMEOUT_MS,
      maxAttempts: env.EXTERNAL_MAX_ATTEMPTS,
      retryDelayMs: env.EXTERNAL_RETRY_DELAY_MS,
      errorThresholdPercentage: env.BREAKER_ERROR_THRESHOLD_PERCENT,
      volumeThreshold: env.BREAKER_VOLUME_THRESHOLD,
      resetTimeoutMs: env.BREAKER_RESET_TIMEOUT_MS,
    },
    graph: {
      baseUrl: env.WHATSAPP_GRAPH_URL,
      apiVersion: env.WHATSAPP_API_VERSION,
      timeoutMs: env.GRAPH_TIMEOUT_MS,
      maxAttempts: env.GRAPH_MAX_ATTEMPTS,
      retryDelayMs: env.GRAPH_RETRY_DELAY_MS,
      ratePerSecond: env.GRAPH_RATE_LIMIT_PER_SECOND,
    },
    media: {
      concurrency: env.MEDIA_CONCURRENCY,
      maxAttempts: env.MEDIA_MAX_ATTEMPTS,
      idleTimeoutMs: env.MEDIA_IDLE_TIMEOUT_MS,
      downloadTimeoutMs: env.MEDIA_DOWNLOAD_TIMEOUT_MS,
      allowedHosts: env.MEDIA_ALLOWED_HOSTS,
      urlTtlSeconds: env.MEDIA_URL_TTL_SECONDS,
      tokenCacheTtlSeconds: env.ACCESS_TOKEN_CACHE_TTL_SECONDS,
    },
    dedupTtlSeconds: env.DEDUP_TTL_SECONDS,
    eventClaimTtlSeconds: env.EVENT_CLAIM_TTL_SECONDS,
    statusTtlSeconds: env.STATUS_TTL_SECONDS,
    orderHoldMs: env.ORDER_HOLD_MS,
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
  };
}
