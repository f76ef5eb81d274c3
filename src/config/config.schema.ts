import { z } from 'zod';
import { amqpNodes, bool, hostPorts, httpUrl, MEDIA_HOST_ENTRY, msList, port, positiveInt, url, variable, variableDocs, type VariableDoc } from './variable';

/**
 * Every environment variable the service reads, with its default and what it is for.
 * This schema is the only reader of `process.env` (through `loadConfig`); docs/configuration.md
 * and .env.example are checked against it by a test, so the three cannot drift apart.
 *
 * Variables marked `secret` never appear in logs or error messages.
 */

export const envSchema = z.object({
  NODE_ENV: variable(z.enum(['development', 'test', 'production']).default('development'), {
    description: 'Runtime environment, carried on every log line.',
  }),
  ROLE: variable(z.enum(['api', 'worker', 'delivery', 'ledger', 'all']).default('all'), {
    description:
      "What this process runs: api (the webhook receiver, the subscriptions and ledger APIs), worker (processing), delivery (events to tenants' endpoints; needs DATABASE_URL), ledger (every event and message state into PostgreSQL; needs DATABASE_URL), or all (every one, for local use).",
  }),
  PORT: variable(port.default(3000), { description: 'HTTP port of the receiver (webhook, health, ready, metrics, admin).' }),
  ADMIN_PORT: variable(port.optional(), {
    description: 'When set, /admin/* is served only on this port (bind it to a private network: a NetworkPolicy, no public Service), not on PORT.',
  }),
  METRICS_PORT: variable(port.optional(), {
    description: 'When set, /metrics is served only on this port (for Prometheus), not on PORT; may equal ADMIN_PORT.',
  }),
  HTTP_REQUEST_TIMEOUT_MS: variable(positiveInt.default(30_000), {
    description: 'Longest time a client may take to send a whole request (headers and body); a slower one is cut with 408.',
  }),
  HTTP_HEADERS_TIMEOUT_MS: variable(positiveInt.default(10_000), {
    description: 'Longest time a client may take to send the request headers (slowloris).',
  }),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: variable(positiveInt.default(65_000), {
    description: "How long an idle keep-alive connection stays open; keep it above the load balancer's idle timeout (60 s on most).",
  }),
  RECEIVER_MAX_INFLIGHT_BYTES: variable(positiveInt.default(8_388_608), {
    description:
      "Webhook body bytes a receiver process reads and checks at once (each request reserves its Content-Length; 8 MiB holds two of Meta's largest or thousands of typical ones); past it, 503 with Retry-After before the body is read. Each byte costs about three at the peak.",
  }),
  MAX_ACCOUNTS_PER_WEBHOOK: variable(positiveInt.max(1000).default(10), {
    description: 'Distinct accounts (entry[].id) and phone number ids one webhook may carry; more is a 400 before any tenant lookup (Meta sends one).',
  }),
  MAX_UPDATES_PER_WEBHOOK: variable(positiveInt.default(2000), {
    description: 'Entries, changes, messages and statuses one webhook may carry in all; more is a 413 (Meta batches at most 1,000 updates).',
  }),
  WORKER_PORT: variable(port.default(3001), {
    description: 'HTTP port of the worker role for /health, /ready and /metrics (ROLE=worker only).',
  }),
  LOG_LEVEL: variable(z.enum(['error', 'warn', 'info', 'debug']).default('info'), { description: 'Lowest log level written.' }),

  REDIS_URL: variable(url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'), {
    description:
      'Redis for tenant cache, dedup marks, status order and rate limits. With REDIS_SENTINELS, only its credentials, database and scheme (rediss: for TLS) are used: the master is asked of the Sentinels.',
    secret: true,
  }),
  REDIS_SENTINELS: variable(hostPorts.optional(), {
    description: 'Redis Sentinels (host:port, comma-separated): the client asks them for the master of REDIS_SENTINEL_NAME and follows a failover by itself.',
  }),
  REDIS_SENTINEL_NAME: variable(z.string().min(1).max(128).optional(), { description: 'The master name the Sentinels watch (required with REDIS_SENTINELS).' }),
  REDIS_SENTINEL_PASSWORD: variable(z.string().min(1).optional(), { description: "The Sentinels' own password, when they have one.", secret: true }),
  REDIS_KEY_PREFIX: variable(z.string().max(64).default('wws:'), { description: 'Prefix of every Redis key this service writes.' }),
  REDIS_READ_LEGACY_KEYS: variable(bool.default(true), {
    description:
      'Also read dedup marks and conversation sequence numbers under the key names of versions before keys carried hash tags, so an upgrade forgets none; set false once DEDUP_TTL_SECONDS has passed since the upgrade, and before moving to Redis Cluster.',
  }),

  RABBITMQ_URL: variable(amqpNodes.default('amqp://guest:guest@127.0.0.1:5672'), {
    description:
      'RabbitMQ for the hand-off to the worker and the published events. A cluster: one URL per node, comma-separated, differing only in host and port; a lost connection is re-established on the next node.',
    secret: true,
  }),
  RABBITMQ_MANAGEMENT_URL: variable(httpUrl.optional(), {
    description:
      "RabbitMQ's management API (http://user:password@host:15672), where the service applies its queue policies at start (delivery limits and dead-letter targets; docs/deployment.md). The user needs the policymaker tag. Unset: apply them yourself.",
    secret: true,
  }),
  RABBITMQ_PREFETCH: variable(positiveInt.max(1000).default(128), {
    description:
      'Hand-off messages a worker holds unacknowledged at once from each queue it consumes (each hand-off shard it holds, the archive queue); it processes as many of them at once as WORKER_MAX_INFLIGHT_BYTES allows.',
  }),
  WORKER_MAX_INFLIGHT_BYTES: variable(positiveInt.default(33_554_432), {
    description:
      'Payload bytes of the hand-offs a worker processes at once (their parsed form and events take several times that); the others wait, unparsed. A larger payload is processed alone.',
  }),
  WORKER_MAX_INLINE_ARCHIVES: variable(positiveInt.default(64), {
    description:
      "Raw-payload PUTs a worker has under way beside events at most. Past it (the object store is slower than the traffic), a hand-off's raw payload goes to the archive queue and is written from there, so the backlog waits in the broker and events are not held up. The archive queue's consumer also holds at most this many.",
  }),
  WORKER_ARCHIVE_DEFER_AFTER_MS: variable(positiveInt.default(250), {
    description:
      "A webhook that reaches the worker this long after the receiver accepted it means the worker is behind: its raw payload goes to the archive queue, whose consumer holds back (up to 10 s a payload) until a second has passed without a late hand-off, so the object store's work does not slow the events down. Compares the receiver's and the worker's clocks.",
  }),
  HANDOFF_SHARDS: variable(positiveInt.max(256).default(8), {
    description:
      "Queues the hand-offs are spread over by conversation (whatsapp.webhooks.process.shard-{i}-of-{n}); each is consumed by one worker at a time, so one conversation's webhooks are handled in order, and up to this many workers share the work. Set at deploy time on receivers and workers alike; to change it see docs/runbook.md (Changing HANDOFF_SHARDS).",
  }),
  HANDOFF_SHARDS_PREVIOUS: variable(positiveInt.max(256).optional(), {
    description:
      'While HANDOFF_SHARDS is being changed: the count before. Workers finish that generation of shard queues before they start on the new one, so no conversation is reordered; remove it once those queues are empty.',
  }),
  SHARD_LEASE_MS: variable(positiveInt.min(1000).default(5000), {
    description:
      "How long a worker's hold on a shard lasts without renewal (renewed every third of it, in Redis). A worker killed without a goodbye has its shards taken over by the others after this; one that stops cleanly hands them over at once.",
  }),
  ORDER_HOLD_MS: variable(z.coerce.number().int().min(0).max(600_000).default(5000), {
    description:
      "How long a conversation's event waits, at most, for an earlier one still being built (a media download); past it the event is published with conversation.overtook naming the earlier ones, which follow. 0: never wait.",
  }),
  PUBLISH_CONFIRM_TIMEOUT_MS: variable(positiveInt.default(3000), {
    description:
      'How long a publish waits for the broker: for a lost connection to come back, then for its confirm. Past it the receiver answers 503 (Meta retries), the worker retries later; a publish that waited in vain for the connection was never sent.',
  }),
  RETRY_DELAYS_MS: variable(msList.default([5000, 30000, 300000]), {
    description: 'Delays between processing attempts; the last one repeats for transient failures (an outage is waited out).',
  }),
  MAX_ATTEMPTS: variable(positiveInt.max(100).default(4), {
    description: 'Attempts for an update that fails for a reason other than an outage, before it is dead-lettered and stored as failed.',
  }),

  MAX_REDELIVERIES: variable(positiveInt.max(19).default(10), {
    description:
      "Times RabbitMQ may hand a worker the same delivery back (the worker died or lost its connection while holding it) before the worker dead-letters it unhandled (a payload that crashes workers). Below 20, RabbitMQ 4's default quorum-queue delivery limit, past which the broker would drop it.",
  }),

  MINIO_ENDPOINT: variable(z.string().min(1).default('127.0.0.1'), { description: 'Host name of MinIO (or any S3-compatible server).' }),
  MINIO_PORT: variable(port.default(9000), { description: 'Port of MinIO.' }),
  MINIO_USE_SSL: variable(bool.default(false), { description: 'Use HTTPS to reach MinIO.' }),
  MINIO_ACCESS_KEY: variable(z.string().min(1), { description: 'MinIO access key (required).', secret: true }),
  MINIO_SECRET_KEY: variable(z.string().min(1), { description: 'MinIO secret key (required).', secret: true }),
  MINIO_REGION: variable(z.string().min(1).default('us-east-1'), { description: 'Region sent to MinIO in signatures.' }),
  MINIO_BUCKET_RAW: variable(z.string().min(3).default('webhooks-inbound'), {
    description: 'Bucket for raw webhook payloads (and failed ones under failed/).',
  }),
  MINIO_BUCKET_MEDIA: variable(z.string().min(3).default('media-inbound'), { description: 'Bucket for customer media.' }),
  MINIO_PUBLIC_URL: variable(httpUrl.optional(), {
    description: 'Base URL consumers reach the object store at, for presigned media URLs (default: the MINIO_ENDPOINT address).',
  }),

  RETENTION_RAW_DAYS: variable(z.coerce.number().int().min(0).default(90), {
    description: 'Days raw payloads are kept (an object store lifecycle rule applied at start; 0 keeps them forever).',
  }),
  RETENTION_FAILED_DAYS: variable(z.coerce.number().int().min(0).default(180), {
    description: 'Days failed payloads (under failed/) are kept for replay (0 keeps them forever).',
  }),
  RETENTION_MEDIA_DAYS: variable(z.coerce.number().int().min(0).default(365), {
    description: 'Days customer media is kept (0 keeps it forever).',
  }),
  TENANTS_FILE: variable(z.string().min(1).optional(), {
    description: 'JSON array of tenant records; required unless TENANT_SERVICE_URL is set.',
  }),
  TENANT_SERVICE_URL: variable(httpUrl.optional(), {
    description: 'Tenant Service base URL; when set, tenants are looked up there instead of the file.',
  }),
  TENANT_CACHE_TTL_SECONDS: variable(positiveInt.default(300), { description: 'How long a resolved tenant stays in the Redis cache.' }),
  TENANT_NEGATIVE_CACHE_TTL_SECONDS: variable(positiveInt.default(30), {
    description: 'How long an unknown account id is remembered as unknown (so floods do not reach the source).',
  }),
  STATE_MANAGER_URL: variable(httpUrl.optional(), { description: 'State Manager base URL; unset disables the calls.' }),
  TENANT_SERVICE_TIMEOUT_MS: variable(positiveInt.default(2000), { description: 'Timeout of one Tenant Service request.' }),
  STATE_MANAGER_TIMEOUT_MS: variable(positiveInt.default(1000), { description: 'Timeout of one State Manager request.' }),
  EXTERNAL_MAX_ATTEMPTS: variable(positiveInt.max(10).default(3), {
    description: 'Attempts per Tenant Service / State Manager call on timeouts, network errors and 5xx.',
  }),
  EXTERNAL_RETRY_DELAY_MS: variable(positiveInt.default(100), { description: 'First retry delay of those calls; doubles each attempt (at most 2 s).' }),
  BREAKER_ERROR_THRESHOLD_PERCENT: variable(positiveInt.max(100).default(50), {
    description: 'Share of failed calls to an external service (over 10 s) that opens its circuit.',
  }),
  BREAKER_VOLUME_THRESHOLD: variable(positiveInt.default(5), { description: 'Calls (over 10 s) before a circuit may open at all.' }),
  BREAKER_RESET_TIMEOUT_MS: variable(positiveInt.default(10_000), { description: 'How long an open circuit waits before letting one trial call through.' }),

  WHATSAPP_GRAPH_URL: variable(httpUrl.default('https://graph.facebook.com'), { description: "Meta's Graph API base URL." }),
  GRAPH_TIMEOUT_MS: variable(positiveInt.default(10_000), { description: 'Graph API request timeout, until response headers arrive.' }),
  GRAPH_MAX_ATTEMPTS: variable(positiveInt.max(20).default(4), {
    description: 'Attempts per Graph API call on network errors, 429 and 5xx (exponential backoff with jitter).',
  }),
  GRAPH_RETRY_DELAY_MS: variable(positiveInt.default(250), { description: 'First Graph API retry delay; doubles each attempt (at most 8 s).' }),
  GRAPH_RATE_LIMIT_PER_SECOND: variable(positiveInt.default(80), {
    description: 'Graph API requests per second per tenant, shared by all workers through Redis (Meta allows about 80).',
  }),
  MEDIA_CONCURRENCY: variable(positiveInt.max(256).default(4), { description: 'Media downloads a worker runs at once.' }),
  MEDIA_MAX_ATTEMPTS: variable(positiveInt.max(20).default(3), { description: 'Whole download attempts when a transfer is cut off or stalls.' }),
  MEDIA_IDLE_TIMEOUT_MS: variable(positiveInt.default(30_000), { description: 'A download that sends no bytes for this long is retried.' }),
  MEDIA_DOWNLOAD_TIMEOUT_MS: variable(positiveInt.default(300_000), {
    description: 'Longest time one media copy may take, every attempt included; past it the message is published with media.error download_timeout.',
  }),
  MEDIA_ALLOWED_HOSTS: variable(
    z
      .string()
      .default('lookaside.fbsbx.com')
      .transform((v) =>
        v
          .split(',')
          .map((host) => host.trim().toLowerCase())
          .filter(Boolean),
      )
      .refine((hosts) => hosts.every((host) => MEDIA_HOST_ENTRY.test(host)), {
        message: 'expected comma-separated host names (lookaside.fbsbx.com), wildcards (*.fbsbx.com) or origins (http://127.0.0.1:8080)',
      }),
    {
      description:
        "Hosts media is downloaded from (https only), besides WHATSAPP_GRAPH_URL's own: names, *.wildcards, or whole origins such as http://127.0.0.1:8080 for a local stand-in. The access token is sent to no other host; an inline URL elsewhere falls back to the Graph API lookup.",
    },
  ),
  MEDIA_URL_TTL_SECONDS: variable(positiveInt.max(604_800).default(3600), { description: 'Lifetime of the presigned media URL in events.' }),
  ACCESS_TOKEN_CACHE_TTL_SECONDS: variable(positiveInt.default(86_400), { description: "How long a tenant's access token stays cached in Redis." }),
  WHATSAPP_API_VERSION: variable(
    z
      .string()
      .regex(/^v\d+\.\d+$/, 'expected a Graph API version such as v21.0')
      .default('v21.0'),
    { description: 'Graph API version used for media lookups.' },
  ),

  BODY_LIMIT_BYTES: variable(positiveInt.default(3_670_016), {
    description: "Largest webhook body accepted (default 3.5 MiB, a little above Meta's 3 MB); larger ones get 413.",
  }),
  RATE_LIMIT_PER_MINUTE: variable(positiveInt.default(1000), {
    description: "Webhooks per minute per tenant (sliding window, shared through Redis) unless the tenant's rateLimitPerMinute says otherwise.",
  }),
  DEDUP_TTL_SECONDS: variable(positiveInt.default(604_800), {
    description:
      'How long a received update and a published event are remembered for dedup (default 7 days, as long as Meta retries; Redis memory per million marks in docs/capacity.md).',
  }),
  EVENT_CLAIM_TTL_SECONDS: variable(positiveInt.default(900), {
    description:
      'How long a worker holds the claim on an event it is building (two copies of one webhook in flight make one event); a claim whose holder died is taken over after this. Keep it above MEDIA_DOWNLOAD_TIMEOUT_MS.',
  }),
  STATUS_TTL_SECONDS: variable(positiveInt.default(604_800), {
    description:
      "How long a message's last status is kept to keep statuses in order (about 100 bytes of Redis per outbound message); at least DEDUP_TTL_SECONDS.",
  }),
  DATABASE_URL: variable(url(['postgres:', 'postgresql:']).optional(), {
    description:
      'PostgreSQL for event subscriptions and tenant API keys (postgres://user:pass@host:5432/db); migrated at start. Unset: /v1/subscriptions and /admin/api-keys do not exist. The webhook path never uses it.',
    secret: true,
  }),
  DATABASE_POOL_SIZE: variable(positiveInt.max(200).default(20), {
    description: 'PostgreSQL connections this process may open at once (the delivery role uses up to about DELIVERY_CONCURRENCY at a peak).',
  }),
  DELIVERY_TIMEOUT_MS: variable(positiveInt.max(120_000).default(10_000), {
    description: "How long a tenant's endpoint has to answer one delivery attempt (connect, send, answer); past it the attempt failed and is retried.",
  }),
  DELIVERY_RETRY_SCHEDULE_MS: variable(
    msList.default([5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 43_200_000, 43_200_000, 43_200_000, 43_200_000]),
    {
      description:
        'Delays before each retry of a delivery that failed retryably (network error, timeout, 408, 429, 5xx), each with up to 10 % jitter; once all are used the delivery has failed. Default: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then 12 h four times (about 2.7 days).',
    },
  ),
  DELIVERY_CONCURRENCY: variable(positiveInt.max(1000).default(64), { description: 'Delivery attempts one process makes at once, over every endpoint.' }),
  DELIVERY_ENDPOINT_CONCURRENCY: variable(positiveInt.max(100).default(8), {
    description: 'Delivery attempts one process makes at once to one subscription: a slow endpoint holds at most these, never the others.',
  }),
  DELIVERY_POLL_MS: variable(positiveInt.max(60_000).default(500), { description: 'How often the delivery role looks for deliveries that are due.' }),
  DELIVERY_LOG_RETENTION_DAYS: variable(positiveInt.max(3650).default(30), {
    description: 'How long a finished delivery (delivered or failed) and its attempts stay in the log; removed by an hourly job of the delivery role.',
  }),
  LEDGER_ENABLED: variable(bool.default(true), {
    description:
      'With DATABASE_URL: every event is kept in the message ledger (a queue of its own, written by ROLE=ledger, and by ROLE=all). Set false on every process to go without it (then remove the whatsapp.ledger queue).',
  }),
  LEDGER_RETENTION_DAYS: variable(positiveInt.max(3650).default(30), {
    description:
      'How long the ledger keeps events (daily partitions, dropped whole by an hourly job of the ledger role) and messages unchanged since; the daily counts are kept.',
  }),
  LEDGER_BATCH_SIZE: variable(positiveInt.max(5000).default(500), {
    description: 'Most events the ledger writes in one transaction (it holds twice as many unacked).',
  }),
  LEDGER_BATCH_MS: variable(positiveInt.max(10_000).default(100), {
    description: 'Longest an event waits for its batch to fill before the ledger writes what it has.',
  }),
  ALLOW_INSECURE_ENDPOINTS: variable(bool.default(false), {
    description: 'Lets a subscription use plain http:// to a loopback address (local use only); https is required otherwise.',
  }),
  ALLOW_PRIVATE_ENDPOINTS: variable(bool.default(false), {
    description:
      'Lets a subscription name a private, loopback or link-local address (an endpoint inside your own network); refused by default, so a tenant cannot make the service call into it.',
  }),
  ADMIN_TOKEN: variable(z.string().min(32, 'must be at least 32 characters').optional(), {
    description:
      'Bearer token for /admin/* (cache invalidation, replay) and the operator’s sign-in to the console (/console); unset: the admin routes do not exist.',
    secret: true,
  }),
  TENANT_MEMORY_CACHE_TTL_SECONDS: variable(z.coerce.number().int().min(0).default(30), {
    description: 'How long each instance keeps a resolved tenant in memory (0: never); invalidations clear it at once.',
  }),
  TENANT_WARM_ACCOUNT_IDS: variable(z.string().optional(), {
    description: 'Comma-separated account ids to load from the Tenant Service at start (a tenants file is loaded whole).',
  }),
  TRANSIENT_RETRY_WINDOW_SECONDS: variable(positiveInt.default(604_800), {
    description: 'How long a hand-off is retried through an outage before it is stored as failed for replay (default 7 days, as long as Meta retries).',
  }),
  SHUTDOWN_TIMEOUT_MS: variable(positiveInt.default(25_000), {
    description: 'Longest graceful shutdown before the process exits anyway; keep below terminationGracePeriodSeconds.',
  }),
  SHUTDOWN_DELAY_MS: variable(z.coerce.number().int().min(0).default(0), {
    description: 'Time between readiness turning off and the HTTP server closing, for load balancers to notice (5000 in Kubernetes).',
  }),
});

export type Env = z.output<typeof envSchema>;
export type EnvName = keyof Env;

export interface VariableInfo extends VariableDoc {
  name: EnvName;
  /** The default as it would be written in the environment, or undefined when there is none. */
  defaultValue: string | undefined;
  required: boolean;
}

/** Every variable with its documentation, in schema order (for docs, .env.example and error messages). */
export function describeVariables(): VariableInfo[] {
  return (Object.keys(envSchema.shape) as EnvName[]).map((name) => {
    const schema = envSchema.shape[name] as z.ZodType;
    const doc = variableDocs.get(schema);
    if (!doc) throw new Error(`config variable ${name} has no documentation`);
    const parsedDefault = schema.safeParse(undefined);
    const required = !parsedDefault.success;
    return { name, ...doc, required, defaultValue: required ? undefined : formatDefault(parsedDefault.data) };
  });
}

function formatDefault(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.join(',');
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}
