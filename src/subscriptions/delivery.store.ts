import { ValidationError } from '../errors';
import type { Database } from './database';
import type { Caller } from './subscription.store';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface Delivery {
  id: string;
  subscriptionId: string;
  tenantId: string;
  eventId: string;
  routingKey: string;
  webhookId: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface DeliveryAttempt {
  attempt: number;
  startedAt: string;
  latencyMs: number;
  statusCode: number | null;
  error: string | null;
  /** The first KB of what the endpoint answered. */
  response: string | null;
}

/** One hour of a subscription's attempts (the console's endpoint health). */
export interface EndpointHour {
  hour: string;
  attempts: number;
  /** Attempts answered 2xx. */
  delivered: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** A delivery taken for an attempt, with what the attempt needs. */
export interface ClaimedDelivery {
  id: string;
  subscriptionId: string;
  tenantId: string;
  webhookId: string;
  payload: string;
  /** This attempt's number (1 for the first). */
  attempt: number;
  createdAt: Date;
  /** The subscription's URL and the secrets that sign now, as they are at the claim. */
  url: string;
  secrets: string[];
}

interface DeliveryRow {
  id: string;
  subscription_id: string;
  tenant_id: string;
  event_id: string;
  routing_key: string;
  webhook_id: string;
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date | number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  finished_at: Date | null;
}

const PUBLIC_COLUMNS =
  'id, subscription_id, tenant_id, event_id, routing_key, webhook_id, status, attempts, next_attempt_at, last_status_code, last_error, created_at, finished_at';

function toDelivery(row: Omit<DeliveryRow, 'payload'>): Delivery {
  return {
    id: row.id,
    subscriptionId: row.subscription_id,
    tenantId: row.tenant_id,
    eventId: row.event_id,
    routingKey: row.routing_key,
    webhookId: row.webhook_id,
    status: row.status,
    attempts: row.attempts,
    // Null once finished, and while parked (its subscription paused or disabled: `infinity`, which pg reads as a number).
    nextAttemptAt: row.status === 'pending' && row.next_attempt_at instanceof Date ? row.next_attempt_at.toISOString() : null,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    createdAt: row.created_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
  };
}

/** What one attempt ended as, and what is done with the delivery after it. */
export type AttemptResult =
  | { next: 'delivered'; statusCode: number }
  | { next: 'retry'; at: Date; statusCode?: number; error: string }
  | { next: 'failed'; statusCode?: number; error: string };

/**
 * Deliveries and their attempts in PostgreSQL. A delivery is due while pending and its
 * `next_attempt_at` has come; taking it for an attempt moves that time a lease ahead, so a
 * process that dies mid-attempt leaves it due again after the lease (at least once, with the same
 * `webhook-id`), and two processes never take the same one (SKIP LOCKED).
 */
export class DeliveryStore {
  /** `log`: where attempts are recorded (asynchronous commit, see `record`); the main pool when not given. */
  constructor(
    private readonly db: Database,
    private readonly log: Database = db,
  ) {}

  /**
   * A delivery per (event, subscription) pair given, in one statement, made once however often the
   * pair comes: due now for an enabled subscription; for a paused or disabled one parked at
   * `infinity` (no claim scans it) until it is resumed. Returns how many were made.
   */
  async fanOut(
    pairs: ReadonlyArray<{ event: { tenantId: string; eventId: string; routingKey: string; payload: string }; subscriptionId: string }>,
  ): Promise<number> {
    if (pairs.length === 0) return 0;
    // Rows taken in one order by every writer: two batches at once cannot deadlock on each other's unique keys.
    const sorted = [...pairs].sort((a, b) => compare(a.subscriptionId, b.subscriptionId) || compare(a.event.eventId, b.event.eventId));
    const { rowCount } = await this.db.query(
      `INSERT INTO deliveries (id, subscription_id, tenant_id, event_id, routing_key, webhook_id, payload, next_attempt_at)
       SELECT gen_random_uuid(), s.id, p.t, p.e, p.rk, 'msg_' || p.e, p.body, CASE WHEN s.enabled THEN now() ELSE 'infinity'::timestamptz END
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[]) AS p (sub, t, e, rk, body)
       JOIN subscriptions s ON s.id = p.sub
       ON CONFLICT (subscription_id, event_id) DO NOTHING`,
      [
        sorted.map((p) => p.subscriptionId),
        sorted.map((p) => p.event.tenantId),
        sorted.map((p) => p.event.eventId),
        sorted.map((p) => p.event.routingKey),
        sorted.map((p) => p.event.payload),
      ],
    );
    return rowCount ?? 0;
  }

  /**
   * Takes due deliveries for an attempt: at most `limit`, and of each subscription at most
   * `perSubscription` minus what this process is attempting of it already (`busy`: subscription id →
   * attempts in progress), none of a paused or disabled subscription. Each is leased for `leaseSeconds`.
   */
  async claim(options: { limit: number; perSubscription: number; busy: ReadonlyMap<string, number>; leaseSeconds: number }): Promise<ClaimedDelivery[]> {
    const full = [...options.busy].filter(([, n]) => n >= options.perSubscription).map(([id]) => id);
    const { rows } = await this.db.query<DeliveryRow & { url: string; secrets: string[] }>(
      `WITH candidates AS (
         SELECT d.id, d.subscription_id, d.next_attempt_at FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
         WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND s.enabled AND NOT (d.subscription_id = ANY($1::uuid[]))
         ORDER BY d.next_attempt_at
         LIMIT $2 * 4
         FOR UPDATE OF d SKIP LOCKED
       ), ranked AS (
         SELECT c.id, c.next_attempt_at, row_number() OVER (PARTITION BY c.subscription_id ORDER BY c.next_attempt_at, c.id) + COALESCE(b.used, 0) AS n
         FROM candidates c LEFT JOIN unnest($5::uuid[], $6::int[]) AS b (subscription_id, used) ON b.subscription_id = c.subscription_id
       )
       UPDATE deliveries d SET next_attempt_at = now() + make_interval(secs => $3), attempts = d.attempts + 1
       FROM subscriptions s
       WHERE d.id IN (SELECT id FROM ranked WHERE n <= $4 ORDER BY next_attempt_at LIMIT $2) AND s.id = d.subscription_id
       RETURNING d.*, s.url,
         ARRAY[s.secret] || CASE WHEN s.previous_secret IS NOT NULL AND s.previous_secret_expires_at > now() THEN ARRAY[s.previous_secret] ELSE ARRAY[]::text[] END AS secrets`,
      [full, options.limit, options.leaseSeconds, options.perSubscription, [...options.busy.keys()], [...options.busy.values()]],
    );
    return rows.map((row) => ({
      id: row.id,
      subscriptionId: row.subscription_id,
      tenantId: row.tenant_id,
      webhookId: row.webhook_id,
      payload: row.payload,
      attempt: row.attempts,
      createdAt: row.created_at,
      url: row.url,
      secrets: row.secrets,
    }));
  }

  /** Claimed deliveries not attempted after all (the process is stopping): due again now, their attempt not counted. */
  async giveBack(deliveries: readonly ClaimedDelivery[]): Promise<void> {
    await this.db.query(
      `UPDATE deliveries d SET next_attempt_at = now(), attempts = d.attempts - 1
       FROM unnest($1::uuid[], $2::int[]) AS g (id, attempt)
       WHERE d.id = g.id AND d.status = 'pending' AND d.attempts = g.attempt`,
      [deliveries.map((d) => d.id), deliveries.map((d) => d.attempt)],
    );
  }

  /**
   * Logs attempts and moves their deliveries on (delivered, due again at `at`, or failed), many in
   * one statement (atomic on its own), on the log's connections: committed without waiting for the
   * WAL flush. A crash of PostgreSQL may forget the last moment's records; those deliveries are then
   * pending again and made again with the same webhook-id (at least once), never lost. Only the claim
   * that made an attempt settles its delivery: a resend or a lapsed lease since then has its own. An
   * attempt whose delivery is gone (its subscription deleted) is not logged.
   */
  async record(attempts: ReadonlyArray<{ delivery: ClaimedDelivery; attempt: Omit<DeliveryAttempt, 'attempt'>; result: AttemptResult }>): Promise<void> {
    if (attempts.length === 0) return;
    const rows = [...attempts].sort((a, b) => (a.delivery.id < b.delivery.id ? -1 : 1));
    await this.log.query(
      `WITH r AS (
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::int[], $5::text[], $6::int[], $7::timestamptz[], $8::int[], $9::int[], $10::text[], $11::text[])
           AS r (id, status, next_at, last_code, last_error, attempt, started, latency, code, error, response)
       ), logged AS (
         INSERT INTO delivery_attempts (delivery_id, attempt, started_at, latency_ms, status_code, error, response)
         SELECT r.id, r.attempt, r.started, r.latency, r.code, r.error, r.response FROM r JOIN deliveries d ON d.id = r.id
       )
       UPDATE deliveries d SET
         status = r.status,
         next_attempt_at = COALESCE(r.next_at, d.next_attempt_at),
         last_status_code = r.last_code,
         last_error = r.last_error,
         finished_at = CASE WHEN r.status = 'pending' THEN NULL ELSE now() END
       FROM r WHERE d.id = r.id AND d.status = 'pending' AND d.attempts = r.attempt`,
      [
        rows.map((a) => a.delivery.id),
        rows.map((a) => (a.result.next === 'retry' ? 'pending' : a.result.next)),
        rows.map((a) => (a.result.next === 'retry' ? a.result.at : null)),
        rows.map((a) => a.result.statusCode ?? null),
        rows.map((a) => (a.result.next === 'delivered' ? null : a.result.error)),
        rows.map((a) => a.delivery.attempt),
        rows.map((a) => a.attempt.startedAt),
        rows.map((a) => a.attempt.latencyMs),
        rows.map((a) => a.attempt.statusCode),
        rows.map((a) => a.attempt.error),
        rows.map((a) => a.attempt.response),
      ],
    );
  }

  /** A subscription's deliveries, newest first, filtered by status and creation time; `before` is the last id of the page before. */
  async list(
    caller: Caller,
    subscriptionId: string,
    options: { status?: DeliveryStatus; since?: Date; until?: Date; before?: string; limit: number },
  ): Promise<Delivery[]> {
    if (options.before !== undefined) {
      const cursor = await this.db.query('SELECT 1 FROM deliveries WHERE id = $1 AND subscription_id = $2', [options.before, subscriptionId]);
      // Not an empty page: the caller would take it for the end of the list.
      if (cursor.rowCount === 0) {
        throw new ValidationError(
          'cursor_gone',
          'before: that delivery is no longer in the log (removed by retention): list again without before, or with until',
        );
      }
    }
    const { rows } = await this.db.query<DeliveryRow>(
      `SELECT ${PUBLIC_COLUMNS} FROM deliveries
       WHERE subscription_id = $1 AND ($2::text IS NULL OR tenant_id = $2)
         AND ($3::text IS NULL OR status = $3)
         AND ($4::timestamptz IS NULL OR created_at >= $4) AND ($5::timestamptz IS NULL OR created_at < $5)
         AND ($6::uuid IS NULL OR (created_at, id) < (SELECT created_at, id FROM deliveries WHERE id = $6 AND subscription_id = $1))
       ORDER BY created_at DESC, id DESC LIMIT $7`,
      [subscriptionId, scope(caller), options.status ?? null, options.since ?? null, options.until ?? null, options.before ?? null, options.limit],
    );
    return rows.map(toDelivery);
  }

  /** One delivery of a subscription, with every attempt. */
  /** A subscription's attempts per hour over the last `hours`: how many, how many answered 2xx, and their latency. */
  async health(caller: Caller, subscriptionId: string, hours: number): Promise<EndpointHour[]> {
    const { rows } = await this.db.query<{ hour: Date; attempts: string; ok: string; p50: number | null; p95: number | null }>(
      `SELECT date_trunc('hour', a.started_at) AS hour, count(*) AS attempts,
              count(*) FILTER (WHERE a.status_code BETWEEN 200 AND 299) AS ok,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY a.latency_ms) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY a.latency_ms) AS p95
       FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
       WHERE d.subscription_id = $1 AND ($2::text IS NULL OR d.tenant_id = $2) AND a.started_at > now() - make_interval(hours => $3)
       GROUP BY 1 ORDER BY 1`,
      [subscriptionId, scope(caller), hours],
    );
    return rows.map((r) => ({
      hour: r.hour.toISOString(),
      attempts: Number(r.attempts),
      delivered: Number(r.ok),
      p50Ms: r.p50 === null ? null : Math.round(r.p50),
      p95Ms: r.p95 === null ? null : Math.round(r.p95),
    }));
  }

  async get(caller: Caller, subscriptionId: string, id: string): Promise<(Delivery & { log: DeliveryAttempt[] }) | null> {
    const { rows } = await this.db.query<DeliveryRow>(
      `SELECT ${PUBLIC_COLUMNS} FROM deliveries WHERE id = $1 AND subscription_id = $2 AND ($3::text IS NULL OR tenant_id = $3)`,
      [id, subscriptionId, scope(caller)],
    );
    if (!rows[0]) return null;
    const attempts = await this.db.query<{
      attempt: number;
      started_at: Date;
      latency_ms: number;
      status_code: number | null;
      error: string | null;
      response: string | null;
    }>('SELECT attempt, started_at, latency_ms, status_code, error, response FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id', [id]);
    return {
      ...toDelivery(rows[0]),
      log: attempts.rows.map((a) => ({
        attempt: a.attempt,
        startedAt: a.started_at.toISOString(),
        latencyMs: a.latency_ms,
        statusCode: a.status_code,
        error: a.error,
        response: a.response,
      })),
    };
  }

  /**
   * Makes deliveries due now again (same `webhook-id`), with the whole retry schedule before them:
   * one, or every one of a subscription that failed since a time. Returns how many.
   */
  async resend(caller: Caller, subscriptionId: string, which: { id: string } | { failedSince: Date }): Promise<number> {
    const { rowCount } = await this.db.query(
      `UPDATE deliveries d SET status = 'pending', attempts = 0, finished_at = NULL,
         next_attempt_at = CASE WHEN (SELECT enabled FROM subscriptions WHERE id = d.subscription_id) THEN now() ELSE 'infinity'::timestamptz END
       WHERE subscription_id = $1 AND ($2::text IS NULL OR tenant_id = $2)
         AND (($3::uuid IS NOT NULL AND id = $3) OR ($4::timestamptz IS NOT NULL AND status = 'failed' AND finished_at >= $4))`,
      [subscriptionId, scope(caller), 'id' in which ? which.id : null, 'failedSince' in which ? which.failedSince : null],
    );
    return rowCount ?? 0;
  }

  /** Deletes finished deliveries (and their attempts) older than `days`; returns how many. */
  async purgeFinished(days: number, batch = 10_000): Promise<number> {
    const { rowCount } = await this.db.query(
      `DELETE FROM deliveries WHERE id IN (
         SELECT id FROM deliveries WHERE status <> 'pending' AND finished_at < now() - make_interval(days => $1) LIMIT $2)`,
      [days, batch],
    );
    return rowCount ?? 0;
  }

  /** Age in seconds of each tenant's oldest pending delivery (tenants with none are not listed). */
  async oldestPending(): Promise<Array<{ tenantId: string; seconds: number }>> {
    const { rows } = await this.db.query<{ tenant_id: string; seconds: number }>(
      `SELECT tenant_id, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS seconds FROM deliveries WHERE status = 'pending' GROUP BY tenant_id`,
    );
    return rows.map((row) => ({ tenantId: row.tenant_id, seconds: row.seconds }));
  }
}

function scope(caller: Caller): string | null {
  return caller.kind === 'tenant' ? caller.tenantId : null;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
