import { randomUUID } from 'node:crypto';
import { ValidationError } from '../errors';
import type { Database } from './database';
import { newSigningSecret } from './secrets';

export interface Subscription {
  id: string;
  tenantId: string;
  url: string;
  description: string;
  filter: string[];
  enabled: boolean;
  /** Why it is disabled when not paused by hand: `gone` (the endpoint answered 410). */
  disabledReason: string | null;
  /** Until when the secret before the last rotation still signs. */
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

interface SubscriptionRow {
  id: string;
  tenant_id: string;
  url: string;
  description: string;
  event_filter: string[];
  enabled: boolean;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

function toSubscription(row: SubscriptionRow): Subscription {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    url: row.url,
    description: row.description,
    filter: row.event_filter,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    previousSecretExpiresAt:
      row.previous_secret_expires_at && row.previous_secret_expires_at > new Date() ? row.previous_secret_expires_at.toISOString() : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export interface SubscriptionChanges {
  url?: string;
  description?: string;
  filter?: string[];
  enabled?: boolean;
}

/** Who asks: a tenant (its API key) sees only its own subscriptions; the operator (ADMIN_TOKEN) sees every one. */
export type Caller = { kind: 'tenant'; tenantId: string } | { kind: 'admin' };

export const MAX_SUBSCRIPTIONS_PER_TENANT = 100;

/** Subscriptions in PostgreSQL. Every read and write is scoped to the caller: another tenant's subscription is not found. */
export class SubscriptionStore {
  constructor(private readonly db: Database) {}

  async create(
    tenantId: string,
    fields: { url: string; description: string; filter: string[]; enabled: boolean },
  ): Promise<{ subscription: Subscription; secret: string } | 'too_many'> {
    const secret = newSigningSecret();
    const client = await this.db.connect();
    try {
      await client.query('BEGIN');
      // One creation per tenant at a time, so the limit holds under concurrent requests.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`subscriptions:${tenantId}`]);
      const { rows } = await client.query<SubscriptionRow>(
        `INSERT INTO subscriptions (id, tenant_id, url, description, event_filter, enabled, secret)
         SELECT $1, $2, $3, $4, $5, $6, $7
         WHERE (SELECT count(*) FROM subscriptions WHERE tenant_id = $2) < $8
         RETURNING *`,
        [randomUUID(), tenantId, fields.url, fields.description, fields.filter, fields.enabled, secret, MAX_SUBSCRIPTIONS_PER_TENANT],
      );
      await client.query('COMMIT');
      return rows[0] ? { subscription: toSubscription(rows[0]), secret } : 'too_many';
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** A page in creation order; `after` is the last id of the page before. */
  async list(caller: Caller, options: { tenantId?: string; after?: string; limit: number }): Promise<Subscription[]> {
    const tenantId = caller.kind === 'tenant' ? caller.tenantId : (options.tenantId ?? null);
    if (options.after !== undefined) {
      const cursor = await this.db.query('SELECT 1 FROM subscriptions WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2)', [options.after, tenantId]);
      // Not an empty page: the caller would take it for the end of the list.
      if (cursor.rowCount === 0) throw new ValidationError('cursor_gone', 'after: that subscription was deleted since: list again without after');
    }
    const { rows } = await this.db.query<SubscriptionRow>(
      `SELECT * FROM subscriptions
       WHERE ($1::text IS NULL OR tenant_id = $1)
         AND ($2::uuid IS NULL OR (created_at, id) > (SELECT created_at, id FROM subscriptions WHERE id = $2 AND ($1::text IS NULL OR tenant_id = $1)))
       ORDER BY created_at, id LIMIT $3`,
      [tenantId, options.after ?? null, options.limit],
    );
    return rows.map(toSubscription);
  }

  async get(caller: Caller, id: string): Promise<Subscription | null> {
    const row = await this.row(caller, id);
    return row ? toSubscription(row) : null;
  }

  async update(caller: Caller, id: string, changes: SubscriptionChanges): Promise<Subscription | null> {
    const { rows } = await this.db.query<SubscriptionRow>(
      `UPDATE subscriptions SET
         url = COALESCE($3, url),
         description = COALESCE($4, description),
         event_filter = COALESCE($5, event_filter),
         enabled = COALESCE($6, enabled),
         disabled_reason = CASE WHEN $6::boolean IS TRUE THEN NULL ELSE disabled_reason END,
         updated_at = now()
       WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2)
       RETURNING *`,
      [id, scope(caller), changes.url ?? null, changes.description ?? null, changes.filter ?? null, changes.enabled ?? null],
    );
    if (rows[0] && changes.enabled !== undefined) await this.park(id, !changes.enabled);
    return rows[0] ? toSubscription(rows[0]) : null;
  }

  async delete(caller: Caller, id: string): Promise<boolean> {
    const { rowCount } = await this.db.query('DELETE FROM subscriptions WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2)', [id, scope(caller)]);
    return (rowCount ?? 0) > 0;
  }

  /**
   * A new secret; the one it replaces keeps signing for `overlapSeconds` (0: at once no more), so
   * a receiver can switch without refusing a delivery. Returns the new secret (shown once).
   */
  async rotateSecret(caller: Caller, id: string, overlapSeconds: number): Promise<{ subscription: Subscription; secret: string } | null> {
    const secret = newSigningSecret();
    const { rows } = await this.db.query<SubscriptionRow>(
      `UPDATE subscriptions SET
         previous_secret = CASE WHEN $4 > 0 THEN secret ELSE NULL END,
         previous_secret_expires_at = CASE WHEN $4 > 0 THEN now() + make_interval(secs => $4) ELSE NULL END,
         secret = $3,
         updated_at = now()
       WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2)
       RETURNING *`,
      [id, scope(caller), secret, overlapSeconds],
    );
    return rows[0] ? { subscription: toSubscription(rows[0]), secret } : null;
  }

  /** The tenant's subscriptions (paused and disabled ones too: their deliveries wait until they are resumed), for the fan-out. */
  /** The subscriptions (id and filter, enabled or not) of each of `tenantIds`, in one query. */
  async ofTenants(tenantIds: readonly string[]): Promise<Map<string, Array<{ id: string; filter: string[] }>>> {
    const { rows } = await this.db.query<{ id: string; tenant_id: string; event_filter: string[] }>(
      'SELECT id, tenant_id, event_filter FROM subscriptions WHERE tenant_id = ANY($1::text[])',
      [tenantIds],
    );
    const byTenant = new Map<string, Array<{ id: string; filter: string[] }>>();
    for (const row of rows) byTenant.set(row.tenant_id, [...(byTenant.get(row.tenant_id) ?? []), { id: row.id, filter: row.event_filter }]);
    return byTenant;
  }

  /** Stops deliveries to a subscription for a reason of the service's (`gone`: its endpoint answered 410); false if already disabled or deleted. */
  async disable(id: string, reason: string): Promise<boolean> {
    const { rowCount } = await this.db.query('UPDATE subscriptions SET enabled = false, disabled_reason = $2, updated_at = now() WHERE id = $1 AND enabled', [
      id,
      reason,
    ]);
    if ((rowCount ?? 0) > 0) await this.park(id, true);
    return (rowCount ?? 0) > 0;
  }

  /**
   * A paused or disabled subscription's pending deliveries wait at `infinity` (no claim scans them);
   * resumed, they are due at once. A delivery in an attempt right now keeps its lease either way.
   */
  private async park(id: string, parked: boolean): Promise<void> {
    await this.db.query(
      parked
        ? "UPDATE deliveries SET next_attempt_at = 'infinity' WHERE subscription_id = $1 AND status = 'pending' AND next_attempt_at <= now()"
        : "UPDATE deliveries SET next_attempt_at = now() WHERE subscription_id = $1 AND status = 'pending' AND next_attempt_at = 'infinity'",
      [id],
    );
  }

  private async row(caller: Caller, id: string): Promise<SubscriptionRow | undefined> {
    const { rows } = await this.db.query<SubscriptionRow>('SELECT * FROM subscriptions WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2)', [
      id,
      scope(caller),
    ]);
    return rows[0];
  }
}

function scope(caller: Caller): string | null {
  return caller.kind === 'tenant' ? caller.tenantId : null;
}
