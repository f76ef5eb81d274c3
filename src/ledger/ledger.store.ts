import type { PoolClient } from 'pg';
import type { Database } from '../subscriptions';
import { messageChanges, STATE_COLUMNS, type LedgerEntry, type MessageChange } from './ledger-entry';

const DAY_MS = 86_400_000;
const PARTITION = /^ledger_events_p(\d{4})(\d{2})(\d{2})$/;
/** Rows removed per statement by the retention job (short transactions, no long lock). */
const PURGE_BATCH = 10_000;
/** Most events one trace lists (a message has a handful; a hostile id must not list a table). */
const TRACE_EVENTS = 200;

export interface WriteResult {
  written: number;
  duplicates: number;
  /** Older than the retention: their day's partition is gone (or would be dropped at once). */
  expired: number;
}

/** The ledger's tables (migrations/…_ledger.sql): batches of events written in one transaction each, and what reads them. */
export class LedgerStore {
  /** Days whose partition is known to exist (made by this process or found). */
  private readonly partitions = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly retentionDays: number,
  ) {}

  /**
   * Writes a batch: the events not yet in the ledger, their messages' states, and the daily counts
   * of what was written, in one transaction (all or nothing: a batch tried again after a failure
   * or a kill writes what it would have written, once).
   */
  async write(entries: readonly LedgerEntry[], now = Date.now()): Promise<WriteResult> {
    const cutoff = now - this.retentionDays * DAY_MS;
    const kept = entries.filter((e) => Date.parse(e.receivedAt) >= cutoff);
    if (kept.length === 0) return { written: 0, duplicates: 0, expired: entries.length };
    await this.ensurePartitions(new Set(kept.map((e) => dayOf(e.receivedAt))));
    const client = await this.db.connect();
    try {
      await client.query('BEGIN');
      const inserted = await insertEvents(client, kept);
      const written = [...new Map(kept.filter((e) => inserted.has(e.eventId)).map((e) => [e.eventId, e])).values()];
      const changes = messageChanges(written);
      const categories = changes.length > 0 ? await upsertMessages(client, changes) : new Map<string, string>();
      await addDailyCounts(client, written, categories);
      await client.query('COMMIT');
      return { written: written.length, duplicates: kept.length - written.length, expired: entries.length - kept.length };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (/no partition of relation/.test(String(err))) {
        // A day's partition gone under this process (dropped elsewhere): made again on the next try,
        // which this is (not a value refused: it carries no SQLSTATE).
        this.partitions.clear();
        throw new Error(`ledger partition missing, made again on the next try: ${String(err)}`, { cause: err });
      }
      throw err;
    } finally {
      client.release();
    }
  }

  /** Makes the daily partitions of `days` (yyyy-mm-dd) that do not exist yet; safe when several ledgers do it at once. */
  async ensurePartitions(days: ReadonlySet<string>): Promise<void> {
    for (const day of days) {
      if (this.partitions.has(day)) continue;
      const client = await this.db.connect();
      try {
        await client.query('BEGIN');
        // One maker at a time: CREATE … IF NOT EXISTS alone can still collide on the catalog.
        await client.query("SELECT pg_advisory_xact_lock(hashtext('ledger_events partitions'))");
        const next = new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF ledger_events FOR VALUES FROM ('${day}T00:00:00Z') TO ('${next}T00:00:00Z')`,
        );
        await client.query('COMMIT');
        this.partitions.add(day);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    }
  }

  /**
   * The retention job: drops the partitions of days past LEDGER_RETENTION_DAYS and removes the
   * messages unchanged as long. Returns what went.
   */
  async purgeExpired(now = Date.now()): Promise<{ partitions: string[]; messages: number }> {
    const cutoffDay = dayOf(new Date(now - this.retentionDays * DAY_MS).toISOString());
    const { rows } = await this.db.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       WHERE p.relname = 'ledger_events'`,
    );
    const dropped: string[] = [];
    for (const { name } of rows) {
      const m = PARTITION.exec(name);
      // A day whose end is before the cutoff holds only expired events.
      if (!m || `${m[1]}-${m[2]}-${m[3]}` >= cutoffDay) continue;
      await this.db.query(`DROP TABLE IF EXISTS ${name}`);
      this.partitions.delete(`${m[1]}-${m[2]}-${m[3]}`);
      dropped.push(name);
    }
    let messages = 0;
    for (;;) {
      const { rowCount } = await this.db.query('DELETE FROM ledger_messages WHERE ctid IN (SELECT ctid FROM ledger_messages WHERE updated_at < $1 LIMIT $2)', [
        new Date(now - this.retentionDays * DAY_MS),
        PURGE_BATCH,
      ]);
      messages += rowCount ?? 0;
      if ((rowCount ?? 0) < PURGE_BATCH) break;
    }
    return { partitions: dropped, messages };
  }

  /** What the ledger has of one message: its row and its events in the order they were received (per tenant; `tenantId` narrows). */
  async trace(messageId: string, tenantId?: string): Promise<StoredTrace[]> {
    const messages = await this.db.query<MessageRow>(
      `SELECT * FROM ledger_messages WHERE message_id = $1 AND ($2::text IS NULL OR tenant_id = $2) ORDER BY tenant_id LIMIT 20`,
      [messageId, tenantId ?? null],
    );
    const events = await this.db.query<EventRow>(
      `SELECT received_at, event_id, tenant_id, kind, type, routing_key, occurred_at, correlation_id, raw_key, source,
              handoff_attempt, handoff_last_error, recorded_at,
              event->'status' AS status, event->'content'->'media' AS media, event->'conversation'->'sequence' AS sequence
       FROM ledger_events WHERE message_id = $1 AND ($2::text IS NULL OR tenant_id = $2)
       ORDER BY tenant_id, received_at, recorded_at, occurred_at LIMIT ${TRACE_EVENTS}`,
      [messageId, tenantId ?? null],
    );
    const tenants = new Set([...messages.rows.map((r) => r.tenant_id), ...events.rows.map((r) => r.tenant_id)]);
    return [...tenants].sort().map((tenant) => ({
      tenantId: tenant,
      message: messages.rows.find((r) => r.tenant_id === tenant) ?? null,
      events: events.rows.filter((r) => r.tenant_id === tenant),
    }));
  }

  /** Daily counts of a tenant (or every tenant) between two days, inclusive. */
  async daily(from: string, to: string, tenantId?: string): Promise<DailyRow[]> {
    const { rows } = await this.db.query<DailyRow>(
      `SELECT tenant_id, to_char(day, 'YYYY-MM-DD') AS day, kind, type, category, error_code, sum(events)::bigint AS events
       FROM ledger_daily WHERE day BETWEEN $1 AND $2 AND ($3::text IS NULL OR tenant_id = $3)
       GROUP BY tenant_id, day, kind, type, category, error_code ORDER BY tenant_id, day, kind, type LIMIT 100000`,
      [from, to, tenantId ?? null],
    );
    return rows.map((r) => ({ ...r, events: Number(r.events) }));
  }
}

export interface MessageRow {
  tenant_id: string;
  message_id: string;
  direction: string | null;
  type: string | null;
  state: string | null;
  first_at: Date | null;
  received_at: Date | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  read_at: Date | null;
  played_at: Date | null;
  failed_at: Date | null;
  out_of_order: number;
  error_codes: number[];
  pricing_category: string | null;
  pricing_type: string | null;
  conversation_id: string | null;
  media_key: string | null;
  wa_id: string | null;
  user_id: string | null;
  events: number;
  updated_at: Date;
}

export interface EventRow {
  received_at: Date;
  event_id: string;
  tenant_id: string;
  kind: string;
  type: string;
  routing_key: string;
  occurred_at: Date;
  correlation_id: string;
  raw_key: string;
  source: string;
  handoff_attempt: number | null;
  handoff_last_error: string | null;
  recorded_at: Date;
  status: { state?: unknown; previous?: unknown; outOfOrder?: unknown; errors?: unknown } | null;
  media: { key?: unknown; bucket?: unknown; mimeType?: unknown; size?: unknown; error?: unknown } | null;
  sequence: number | null;
}

export interface StoredTrace {
  tenantId: string;
  message: MessageRow | null;
  events: EventRow[];
}

export interface DailyRow {
  tenant_id: string;
  day: string;
  kind: string;
  type: string;
  category: string;
  error_code: string;
  events: number;
}

export function dayOf(iso: string): string {
  return iso.slice(0, 10);
}

function partitionName(day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`not a day: ${day}`);
  return `ledger_events_p${day.replace(/-/g, '')}`;
}

/** The events of the batch, each as a column array (one parameter per column, however many rows). */
async function insertEvents(client: PoolClient, batch: readonly LedgerEntry[]): Promise<Set<string>> {
  // Two copies in one batch: the statement would not see the first when checking the second.
  // Sorted: every writer takes the keys in one order, so two batches at once cannot deadlock.
  const entries = [...new Map(batch.map((e) => [e.eventId, e])).values()].sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  const { rows } = await client.query<{ event_id: string }>(
    `INSERT INTO ledger_events (received_at, event_id, tenant_id, kind, type, routing_key, message_id, wa_id, user_id, occurred_at,
                                correlation_id, raw_key, source, handoff_attempt, handoff_last_error, event)
     SELECT r, e, t, k, ty, rk, m, w, u, o, c, raw, s, a, le, j::jsonb
     FROM unnest($1::timestamptz[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                 $10::timestamptz[], $11::text[], $12::text[], $13::text[], $14::int[], $15::text[], $16::text[])
          AS v(r, e, t, k, ty, rk, m, w, u, o, c, raw, s, a, le, j)
     -- Once per event id in every partition (a copy received again on another day, after the dedup window, is not a new event).
     WHERE NOT EXISTS (SELECT 1 FROM ledger_events x WHERE x.event_id = v.e)
     ON CONFLICT DO NOTHING
     RETURNING event_id`,
    [
      entries.map((e) => e.receivedAt),
      entries.map((e) => e.eventId),
      entries.map((e) => e.tenantId),
      entries.map((e) => e.kind),
      entries.map((e) => e.type),
      entries.map((e) => e.routingKey),
      entries.map((e) => e.messageId),
      entries.map((e) => e.waId),
      entries.map((e) => e.userId),
      entries.map((e) => e.occurredAt),
      entries.map((e) => e.correlationId),
      entries.map((e) => e.rawKey),
      entries.map((e) => e.source),
      entries.map((e) => e.handoffAttempt),
      entries.map((e) => e.handoffLastError),
      entries.map((e) => e.json),
    ],
  );
  return new Set(rows.map((r) => r.event_id));
}

/**
 * Merges the batch's changes into `ledger_messages` by the same rules as in the batch (a state
 * only moves up, each state's first time kept); returns each message's pricing category after it.
 */
async function upsertMessages(client: PoolClient, changes: readonly MessageChange[]): Promise<Map<string, string>> {
  const times = STATE_COLUMNS.map((state) => `${state}_at`);
  const { rows } = await client.query<{ tenant_id: string; message_id: string; pricing_category: string | null }>(
    `INSERT INTO ledger_messages AS m (tenant_id, message_id, direction, type, state, state_rank, first_at, received_at,
                                       ${times.join(', ')}, out_of_order, error_codes, pricing_category, pricing_type,
                                       conversation_id, media_key, wa_id, user_id, events, updated_at)
     SELECT t, id, d, ty, s, sr, f, rcv, ${STATE_COLUMNS.map((_, i) => `st${i}`).join(', ')}, ooo,
            COALESCE(string_to_array(NULLIF(codes, ''), ',')::int[], '{}'), pc, pt, conv, mk, w, u, n, now()
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::timestamptz[], $8::timestamptz[],
                 $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::timestamptz[], $13::timestamptz[],
                 $14::int[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[], $22::int[])
          AS v(t, id, d, ty, s, sr, f, rcv, st0, st1, st2, st3, st4, ooo, codes, pc, pt, conv, mk, w, u, n)
     ON CONFLICT (tenant_id, message_id) DO UPDATE SET
       direction = COALESCE(m.direction, EXCLUDED.direction),
       type = COALESCE(EXCLUDED.type, m.type),
       state = CASE WHEN EXCLUDED.state IS NOT NULL AND (EXCLUDED.state_rank > m.state_rank
                    OR (m.state_rank = 0 AND (m.state IS NULL OR m.state = 'received'))) THEN EXCLUDED.state ELSE m.state END,
       state_rank = GREATEST(m.state_rank, EXCLUDED.state_rank),
       first_at = LEAST(m.first_at, EXCLUDED.first_at),
       received_at = LEAST(m.received_at, EXCLUDED.received_at),
       ${times.map((c) => `${c} = LEAST(m.${c}, EXCLUDED.${c})`).join(',\n       ')},
       out_of_order = m.out_of_order + EXCLUDED.out_of_order,
       error_codes = ARRAY(SELECT DISTINCT unnest(m.error_codes || EXCLUDED.error_codes) ORDER BY 1),
       pricing_category = COALESCE(EXCLUDED.pricing_category, m.pricing_category),
       pricing_type = COALESCE(EXCLUDED.pricing_type, m.pricing_type),
       conversation_id = COALESCE(EXCLUDED.conversation_id, m.conversation_id),
       media_key = COALESCE(m.media_key, EXCLUDED.media_key),
       wa_id = COALESCE(m.wa_id, EXCLUDED.wa_id),
       user_id = COALESCE(m.user_id, EXCLUDED.user_id),
       events = m.events + EXCLUDED.events,
       updated_at = now()
     RETURNING tenant_id, message_id, pricing_category`,
    [
      changes.map((c) => c.tenantId),
      changes.map((c) => c.messageId),
      changes.map((c) => c.direction),
      changes.map((c) => c.type),
      changes.map((c) => c.state),
      changes.map((c) => c.stateRank),
      changes.map((c) => c.firstAt),
      changes.map((c) => c.receivedAt),
      ...STATE_COLUMNS.map((state) => changes.map((c) => c.at[state])),
      changes.map((c) => c.outOfOrder),
      changes.map((c) => c.errorCodes.join(',')),
      changes.map((c) => c.pricingCategory),
      changes.map((c) => c.pricingType),
      changes.map((c) => c.conversationId),
      changes.map((c) => c.mediaKey),
      changes.map((c) => c.waId),
      changes.map((c) => c.userId),
      changes.map((c) => c.events),
    ],
  );
  return new Map(rows.map((r) => [`${r.tenant_id}\u0000${r.message_id}`, r.pricing_category ?? '']));
}

/** Adds the written events to the daily counts (statuses with their message's category, failures with their first error code). */
async function addDailyCounts(client: PoolClient, written: readonly LedgerEntry[], categories: ReadonlyMap<string, string>): Promise<void> {
  const counts = new Map<string, { t: string; d: string; k: string; ty: string; c: string; e: string; n: number }>();
  for (const entry of written) {
    const status = entry.kind === 'status';
    const category = status && entry.messageId ? (categories.get(`${entry.tenantId}\u0000${entry.messageId}`) ?? '') : '';
    const error = status && entry.errorCodes[0] !== undefined ? String(entry.errorCodes[0]) : '';
    const row = { t: entry.tenantId, d: dayOf(entry.receivedAt), k: entry.kind, ty: entry.type, c: category, e: error, n: 0 };
    const key = [row.t, row.d, row.k, row.ty, row.c, row.e].join('\u0000');
    const found = counts.get(key) ?? row;
    found.n += 1;
    counts.set(key, found);
  }
  if (counts.size === 0) return;
  // In key order, so that two ledgers adding to the same rows lock them in the same order.
  const rows = [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
  await client.query(
    `INSERT INTO ledger_daily AS d (tenant_id, day, kind, type, category, error_code, events)
     SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
     ON CONFLICT (tenant_id, day, kind, type, category, error_code) DO UPDATE SET events = d.events + EXCLUDED.events`,
    [rows.map((r) => r.t), rows.map((r) => r.d), rows.map((r) => r.k), rows.map((r) => r.ty), rows.map((r) => r.c), rows.map((r) => r.e), rows.map((r) => r.n)],
  );
}
