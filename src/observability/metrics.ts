import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric of the service, on a registry of its own (tests make one each).
 *
 * Label values come from our own vocabulary (tenant ids from tenant records, message types from
 * the processor registry, error codes), never from request data, so cardinality stays bounded:
 * an unresolved tenant is `unknown`, an unheard-of message type is `other`.
 */
export class Metrics {
  readonly registry = new Registry();

  // Receiver
  readonly webhookReceived = new Counter({
    name: 'webhook_received_total',
    help: 'Webhook updates received, by tenant, message type and outcome (accepted, duplicate, or the rejection code)',
    labelNames: ['tenant', 'message_type', 'status'] as const,
    registers: [this.registry],
  });
  readonly signatureMatched = new Counter({
    name: 'webhook_signature_matched_total',
    help: "Signed webhooks by tenant and the app secret that matched (current, or previous while a rotation's overlap lasts)",
    labelNames: ['tenant', 'secret'] as const,
    registers: [this.registry],
  });
  readonly receiverShed = new Counter({
    name: 'webhook_shed_total',
    help: 'Webhooks refused with 503 before their body was read, because the receiver already held RECEIVER_MAX_INFLIGHT_BYTES of bodies',
    registers: [this.registry],
  });
  readonly receiverInflightBytes = new Gauge({
    name: 'webhook_inflight_body_bytes',
    help: 'Request-body bytes the receiver has reserved for webhooks being read and checked right now',
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'rate_limit_exceeded_total',
    help: 'Webhooks refused with 429 because their tenant was over its requests per minute',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly dependencyUp = new Gauge({
    name: 'readiness_dependency_up',
    help: 'Whether a dependency answered the last readiness check (1) or not (0), by dependency',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });
  readonly dependencyDegraded = new Counter({
    name: 'dependency_degraded_total',
    help: 'Requests served without a dependency that was unavailable (dedup or rate limit skipped, tenant read from source)',
    labelNames: ['dependency', 'feature'] as const,
    registers: [this.registry],
  });

  // Broker
  readonly rabbitmqPublish = new Counter({
    name: 'rabbitmq_publish_total',
    help: 'Publishes to RabbitMQ by target and status (confirmed, failed)',
    labelNames: ['target', 'status'] as const,
    registers: [this.registry],
  });
  readonly rabbitmqPublishDuration = new Histogram({
    name: 'rabbitmq_publish_duration_seconds',
    help: 'Time from publish to broker confirm, by target (handoff: the receiver, event and retry: the worker) and status',
    labelNames: ['target', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 3],
    registers: [this.registry],
  });
  readonly rabbitmqPublishFailures = new Counter({
    name: 'rabbitmq_publish_failures_total',
    help: 'Publishes that were not confirmed, by target and reason (timeout, nack, unroutable, connection)',
    labelNames: ['target', 'reason'] as const,
    registers: [this.registry],
  });

  // Caches
  readonly cacheHit = new Counter({
    name: 'cache_hit_total',
    help: 'Cache hits by cache',
    labelNames: ['cache'] as const,
    registers: [this.registry],
  });
  readonly cacheMiss = new Counter({
    name: 'cache_miss_total',
    help: 'Cache misses by cache',
    labelNames: ['cache'] as const,
    registers: [this.registry],
  });

  // Worker
  readonly processingDuration = new Histogram({
    name: 'webhook_processing_duration_seconds',
    help: 'Time the worker spends on one hand-off, by queue and outcome',
    labelNames: ['queue', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly subscriptionDeliveries = new Counter({
    name: 'subscription_deliveries_total',
    help: "Attempts to deliver an event to a tenant's endpoint, by outcome (delivered, retry, failed, gone)",
    labelNames: ['tenant', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly subscriptionAttemptDuration = new Histogram({
    name: 'subscription_delivery_attempt_seconds',
    help: "How long a tenant's endpoint took to answer a delivery (or to fail), by outcome",
    labelNames: ['outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly subscriptionOldestPending = new Gauge({
    name: 'subscription_oldest_undelivered_seconds',
    help: 'Age of the oldest delivery not yet made (pending), per tenant; 0 when none waits',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly subscriptionsDisabled = new Counter({
    name: 'subscriptions_disabled_total',
    help: 'Subscriptions the service disabled (reason gone: the endpoint answered 410)',
    labelNames: ['tenant', 'reason'] as const,
    registers: [this.registry],
  });
  readonly ledgerEvents = new Counter({
    name: 'ledger_events_total',
    help: 'Events the ledger role took, by outcome (written; duplicate: already in the ledger; expired: older than LEDGER_RETENTION_DAYS; invalid: not an event; refused: refused by PostgreSQL, dead-lettered)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly ledgerBatchDuration = new Histogram({
    name: 'ledger_batch_seconds',
    help: 'How long the ledger took to write one batch of events (one transaction), retries through an outage included',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly ledgerLag = new Gauge({
    name: 'ledger_lag_seconds',
    help: 'Age of the oldest event the ledger holds but has not written (from its receipt), or of the last batch written; grows while PostgreSQL is away',
    registers: [this.registry],
  });
  readonly handoffOutcome = new Counter({
    name: 'worker_handoff_outcome_total',
    help: 'Messages settled by the worker (hand-offs and State Manager tracking), by queue and outcome (ack, retry, dead_letter, requeue)',
    labelNames: ['queue', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly eventsPublished = new Counter({
    name: 'events_published_total',
    help: 'Normalized events confirmed by the broker, by tenant, kind and type',
    labelNames: ['tenant', 'kind', 'type'] as const,
    registers: [this.registry],
  });
  readonly eventsClaimHeld = new Counter({
    name: 'events_claim_held_total',
    help: 'Events skipped because another hand-off of the same webhook was building them at that moment (concurrent duplicate deliveries)',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly updateFailures = new Counter({
    name: 'update_processing_failures_total',
    help: 'Updates whose processing failed (they are retried), by tenant and reason',
    labelNames: ['tenant', 'reason'] as const,
    registers: [this.registry],
  });
  readonly statusOutOfOrder = new Counter({
    name: 'status_out_of_order_total',
    help: 'Status updates that arrived after a later state (recorded, never regressing the state)',
    labelNames: ['tenant', 'status'] as const,
    registers: [this.registry],
  });
  readonly orderHeld = new Counter({
    name: 'order_hold_events_total',
    help: 'Events that waited for an earlier event of their conversation to be published first',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly orderHoldDuration = new Histogram({
    name: 'order_hold_seconds',
    help: 'How long events that waited for an earlier event of their conversation were held',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  readonly orderHoldExpired = new Counter({
    name: 'order_hold_expired_total',
    help: 'Holds that ended with the event published ahead of earlier ones of its conversation (ORDER_HOLD_MS reached, or an earlier one failed), named in conversation.overtook',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  /** Per queue, the receipt time (epoch ms) of the oldest hand-off in progress; read at scrape time. */
  readonly lagProbes = new Map<string, () => number | undefined>();
  readonly workerLag = new Gauge({
    name: 'worker_lag_seconds',
    help: 'Age of the oldest hand-off being processed (since the receiver accepted it); 0 when idle',
    labelNames: ['queue'] as const,
    registers: [this.registry],
    collect: ((probes: Map<string, () => number | undefined>) =>
      function (this: Gauge<'queue'>) {
        for (const [queue, oldest] of probes) {
          const since = oldest();
          this.set({ queue }, since === undefined ? 0 : Math.max(0, (Date.now() - since) / 1000));
        }
      })(this.lagProbes),
  });
  readonly rawArchived = new Counter({
    name: 'raw_payloads_archived_total',
    help: 'Raw webhook payloads written to the object store, by tenant',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly rawArchiveDeferred = new Counter({
    name: 'raw_archive_deferred_total',
    help: 'Raw payloads the worker did not write beside their events, handed to the archive queue instead, by tenant and reason (store_failed: the PUT failed; store_busy: too many PUTs already under way; worker_behind: the hand-off reached the worker late, so its archive waits for the events)',
    labelNames: ['tenant', 'reason'] as const,
    registers: [this.registry],
  });
  readonly minioUploadDuration = new Histogram({
    name: 'minio_upload_duration_seconds',
    help: 'Object store upload duration by bucket kind (raw, failed, media)',
    labelNames: ['kind'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  // External services
  readonly circuitState = new Gauge({
    name: 'circuit_breaker_state',
    help: 'Circuit breaker of an external service: 0 closed (calls go through), 0.5 half-open (one trial call), 1 open (calls fail fast)',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly circuitRejected = new Counter({
    name: 'circuit_breaker_rejected_total',
    help: 'Calls not made because the circuit was open',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly externalCalls = new Counter({
    name: 'external_calls_total',
    help: 'Calls to external services (after retries) by service and outcome (ok, failed, rejected)',
    labelNames: ['name', 'outcome'] as const,
    registers: [this.registry],
  });

  // Media
  readonly mediaDownloadDuration = new Histogram({
    name: 'media_download_duration_seconds',
    help: 'Time to copy one media file from Meta into the object store, by media type',
    labelNames: ['media_type'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly mediaDownloadSize = new Histogram({
    name: 'media_download_size_bytes',
    help: 'Size of media files copied into the object store, by media type',
    labelNames: ['media_type'] as const,
    buckets: [10e3, 100e3, 500e3, 1e6, 5e6, 16e6, 50e6, 100e6],
    registers: [this.registry],
  });
  readonly mediaFailures = new Counter({
    name: 'media_failures_total',
    help: 'Media that could not be stored (the message is published with media.error), by tenant and reason',
    labelNames: ['tenant', 'reason'] as const,
    registers: [this.registry],
  });
  readonly graphRequests = new Counter({
    name: 'graph_api_requests_total',
    help: "Requests to Meta's Graph API by operation and outcome (ok, an HTTP status, network_error)",
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }
}
