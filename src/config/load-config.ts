import { config as loadDotenv } from 'dotenv';
import { ConfigError } from '../errors';
import { describeVariables, envSchema, type Env, type EnvName } from './config.schema';

export type Role = Env['ROLE'];

/** The parsed configuration, grouped by the component that uses it. */
export interface Config {
  env: Env['NODE_ENV'];
  role: Role;
  logLevel: Env['LOG_LEVEL'];
  http: {
    port: number;
    workerPort: number;
    adminPort: number | undefined;
    metricsPort: number | undefined;
    requestTimeoutMs: number;
    headersTimeoutMs: number;
    keepAliveTimeoutMs: number;
    bodyLimitBytes: number;
    maxInflightBytes: number;
    maxAccountsPerWebhook: number;
    maxUpdatesPerWebhook: number;
    shutdownTimeoutMs: number;
    shutdownDelayMs: number;
  };
  redis: { url: string; keyPrefix: string };
  rabbitmq: {
    url: string;
    prefetch: number;
    maxInflightBytes: number;
    maxInlineArchives: number;
    archiveDeferAfterMs: number;
    publishConfirmTimeoutMs: number;
    retryDelaysMs: number[];
    maxAttempts: number;
    transientRetryWindowSeconds: number;
  };
  s3: {
    endpoint: string;
    port: number;
    useSsl: boolean;
    accessKey: string;
    secretKey: string;
    region: string;
    rawBucket: string;
    mediaBucket: string;
    publicUrl: string | undefined;
    retentionDays: { raw: number; failed: number; media: number };
  };
  tenants: {
    file: string | undefined;
    serviceUrl: string | undefined;
    cacheTtlSeconds: number;
    negativeCacheTtlSeconds: number;
    memoryTtlSeconds: number;
    warmAccountIds: string[];
  };
  adminToken: string | undefined;
  stateManagerUrl: string | undefined;
  external: {
    tenantServiceTimeoutMs: number;
    stateManagerTimeoutMs: number;
    maxAttempts: number;
    retryDelayMs: number;
    errorThresholdPercentage: number;
    volumeThreshold: number;
    resetTimeoutMs: number;
  };
  graph: { baseUrl: string; apiVersion: string; timeoutMs: number; maxAttempts: number; retryDelayMs: number; ratePerSecond: number };
  media: {
    concurrency: number;
    maxAttempts: number;
    idleTimeoutMs: number;
    downloadTimeoutMs: number;
    allowedHosts: string[];
    urlTtlSeconds: number;
    tokenCacheTtlSeconds: number;
  };
  dedupTtlSeconds: number;
  eventClaimTtlSeconds: number;
  statusTtlSeconds: number;
  rateLimitPerMinute: number;
}

/**
 * Reads the environment once (after `.env`, or the file named by ENV_FILE) and validates every
 * variable. All problems are reported together, each naming its variable; secret values are
 * never echoed.
 */
export function loadConfig(source: NodeJS.ProcessEnv = readProcessEnv()): Config {
  const result = envSchema.safeParse(source);
  const problems: string[] = [];
  if (!result.success) {
    const secret = new Set(
      describeVariables()
        .filter((v) => v.secret)
        .map((v) => v.name),
    );
    for (const issue of result.error.issues) {
      const name = String(issue.path[0] ?? '(environment)') as EnvName;
      const given = source[name];
      const shown = given === undefined ? 'it is not set' : secret.has(name) ? 'the value given is invalid' : `got "${given}"`;
      problems.push(`${name}: ${issue.message} (${shown})`);
    }
  } else {
    if (!result.data.TENANTS_FILE && !result.data.TENANT_SERVICE_URL) {
      problems.push('TENANTS_FILE: set it to a tenants JSON file, or set TENANT_SERVICE_URL to use the Tenant Service (neither is set)');
    }
    // A redelivered status is recorded again while its event mark lives: its message's state must live as long.
    if (result.data.STATUS_TTL_SECONDS < result.data.DEDUP_TTL_SECONDS) {
      problems.push(
        `STATUS_TTL_SECONDS: must be at least DEDUP_TTL_SECONDS (${result.data.DEDUP_TTL_SECONDS}), or a late redelivery could bring back an old status (got "${result.data.STATUS_TTL_SECONDS}")`,
      );
    }
  }
  if (result.success && result.data.EVENT_CLAIM_TTL_SECONDS * 1000 <= result.data.MEDIA_DOWNLOAD_TIMEOUT_MS) {
    problems.push(
      `EVENT_CLAIM_TTL_SECONDS: must be longer than MEDIA_DOWNLOAD_TIMEOUT_MS (${result.data.MEDIA_DOWNLOAD_TIMEOUT_MS} ms), or a slow media copy could lose its claim and publish twice (got "${result.data.EVENT_CLAIM_TTL_SECONDS}")`,
    );
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return toConfig(result.data);
}

function readProcessEnv(): NodeJS.ProcessEnv {
  // dotenv never overrides variables already set in the environment.
  loadDotenv({ path: process.env.ENV_FILE ?? '.env', quiet: true });
  return process.env;
}

function toConfig(env: Env): Config {
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
    redis: { url: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX },
    rabbitmq: {
      url: env.RABBITMQ_URL,
      prefetch: env.RABBITMQ_PREFETCH,
      maxInflightBytes: env.WORKER_MAX_INFLIGHT_BYTES,
      maxInlineArchives: env.WORKER_MAX_INLINE_ARCHIVES,
      archiveDeferAfterMs: env.WORKER_ARCHIVE_DEFER_AFTER_MS,
      publishConfirmTimeoutMs: env.PUBLISH_CONFIRM_TIMEOUT_MS,
      retryDelaysMs: env.RETRY_DELAYS_MS,
      maxAttempts: env.MAX_ATTEMPTS,
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
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
  };
}
