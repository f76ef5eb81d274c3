import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Connection } from 'rabbitmq-client';
import { ledgerEntryOf, LedgerStore, type LedgerEntry } from '../src/ledger';
import { declareLedgerQueue, QUEUES } from '../src/messaging';
import { createLogger } from '../src/observability';
import { migrate } from '../src/subscriptions';
import { LOCAL_POSTGRES as POSTGRES, postgresAdmin as admin } from '../support/postgres';
import { log, round, sleep, startChild, type Child } from './processes';

export interface LedgerPhaseResult {
  events: number;
  /** One ledger process (defaults) draining a backlog of `events` from its queue: events written per second. */
  ledger: { seconds: number; perSecond: number };
  /** The same rows COPYed into ledger_events in one stream (no broker, no messages, no counts): the ceiling. */
  copy: { seconds: number; perSecond: number };
  /** Rows in ledger_events once drained (each event once). */
  written: number;
}

const TENANTS = 20;

/**
 * The ledger under a backlog, with the rest of the service idle: `events` events (texts and their
 * statuses, as the worker publishes them) wait in `whatsapp.ledger`, then one ledger process drains
 * them; beside it, the same rows COPYed straight into an empty ledger_events: the ceiling.
 */
export async function ledgerPhase(settings: {
  run: string;
  dir: string;
  env: NodeJS.ProcessEnv;
  events: number;
  timeoutMs: number;
}): Promise<LedgerPhaseResult> {
  const database = `bench_ledger_${settings.run.replace(/[^a-z0-9]/g, '')}`;
  const url = `${POSTGRES}/${database}`;
  await admin(`CREATE DATABASE ${database}`);
  const pool = new Pool({ connectionString: url, max: 2 });
  const rabbit = new Connection({ url: String(settings.env.RABBITMQ_URL) });
  let ledger: Child | undefined;
  try {
    await migrate(url, createLogger({ level: 'error', defaultMeta: {} }));
    const bodies = Array.from({ length: settings.events }, (_, i) => eventBody(settings.run, i));
    const entries = bodies.map((b) => ledgerEntryOf(b.json, b.routingKey, { 'x-handoff-attempt': 1 })).filter((e): e is LedgerEntry => !(e instanceof Error));

    log(`ledger: COPY of ${entries.length} rows into ledger_events (the ceiling)`);
    const store = new LedgerStore(pool, 30);
    await store.ensurePartitions(new Set(entries.map((e) => e.receivedAt.slice(0, 10))));
    const copy = await copyCeiling(pool, entries);
    await pool.query('TRUNCATE ledger_events, ledger_messages, ledger_daily');

    log(`ledger: ${bodies.length} events queued, then one ledger process drains them`);
    await declareLedgerQueue(rabbit);
    const publisher = rabbit.createPublisher({ confirm: true, maxAttempts: 3 });
    for (let i = 0; i < bodies.length; i += 500) {
      await Promise.all(
        bodies
          .slice(i, i + 500)
          .map((b) =>
            publisher.send(
              { exchange: '', routingKey: QUEUES.ledger, durable: true, contentType: 'application/json', headers: { 'x-handoff-attempt': 1 } },
              Buffer.from(b.json),
            ),
          ),
      );
    }
    await publisher.close();
    const started = (l: Record<string, unknown>): string | undefined => (l.message === 'service started' ? (l.url as string) : undefined);
    const began = performance.now();
    ledger = await startChild(
      ['--no-warnings', 'dist/main.js'],
      { ...settings.env, ROLE: 'ledger', DATABASE_URL: url },
      join(settings.dir, 'ledger.log'),
      started,
    );
    // From the first row written (the process is up) to the last.
    let first: number | undefined;
    let written = 0;
    const deadline = Date.now() + settings.timeoutMs;
    while (written < entries.length && Date.now() < deadline) {
      written = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM ledger_events')).rows[0]!.n);
      if (written > 0) first ??= performance.now();
      await sleep(100);
    }
    const seconds = (performance.now() - (first ?? began)) / 1000;
    log(`ledger: ${written} written in ${round(seconds)} s; COPY ${copy.perSecond}/s`);
    return { events: entries.length, ledger: { seconds: round(seconds), perSecond: Math.round(written / seconds) }, copy, written };
  } finally {
    await ledger?.stop();
    await rabbit.close();
    await pool.end();
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
}

/** The rows as one COPY stream (text format), timed. */
async function copyCeiling(pool: Pool, entries: readonly LedgerEntry[]): Promise<{ seconds: number; perSecond: number }> {
  const client = await pool.connect();
  try {
    const started = performance.now();
    const stream = client.query(
      copyFrom(
        'COPY ledger_events (received_at, event_id, tenant_id, kind, type, routing_key, message_id, wa_id, user_id, occurred_at, correlation_id, raw_key, source, handoff_attempt, handoff_last_error, event) FROM STDIN',
      ),
    );
    const lines = entries.map(
      (e) =>
        [
          e.receivedAt,
          e.eventId,
          e.tenantId,
          e.kind,
          e.type,
          e.routingKey,
          e.messageId,
          e.waId,
          e.userId,
          e.occurredAt,
          e.correlationId,
          e.rawKey,
          e.source,
          e.handoffAttempt,
          e.handoffLastError,
          e.json,
        ]
          .map(copyField)
          .join('\t') + '\n',
    );
    await pipeline(Readable.from(lines), stream);
    const seconds = (performance.now() - started) / 1000;
    return { seconds: round(seconds), perSecond: Math.round(entries.length / seconds) };
  } finally {
    client.release();
  }
}

/** A value in COPY's text format. */
function copyField(value: string | number | null): string {
  if (value === null) return '\\N';
  return String(value).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/** Texts from customers and statuses of outbound messages, in the contract's shape (about 1.4 KB each). */
function eventBody(run: string, i: number): { json: string; routingKey: string } {
  const now = new Date().toISOString();
  const tenantId = `bench-${i % TENANTS}`;
  const status = i % 2 === 1;
  const waId = String(447700900000 + (i % 20_000));
  const party = { waId, userId: null, parentUserId: null, phone: `+${waId}`, country: 'GB', name: 'Ada', username: null, isBusiness: null };
  const event = {
    schemaVersion: 1,
    schemaMinorVersion: 2,
    eventId: randomUUID(),
    correlationId: randomUUID(),
    kind: status ? 'status' : 'message',
    type: status ? (['sent', 'delivered', 'read'][i % 3] ?? 'sent') : 'text',
    tenantId,
    businessAccountId: `89${String(i % TENANTS).padStart(13, '0')}`,
    phoneNumberId: '1055500011110',
    messageId: `wamid.bench-${run}-${Math.floor(i / 2)}`,
    timestamp: now,
    receivedAt: now,
    direction: status ? 'outbound' : 'inbound',
    origin: status ? null : 'live',
    from: status ? null : party,
    to: null,
    conversation: { customer: party, groupId: null, standby: false, sequence: status ? null : i, overtook: [] },
    history: null,
    context: null,
    content: status ? null : { body: `hello from the ledger bench, message ${i}` },
    status: status
      ? {
          state: ['sent', 'delivered', 'read'][i % 3],
          previous: null,
          outOfOrder: false,
          recipient: { waId, userId: null, parentUserId: null, username: null, phone: `+${waId}`, type: null, groupId: null, participant: null },
          errors: [],
          conversation: { id: `conv-${i % 5000}`, originType: 'service', expiresAt: null },
          pricing: { billable: true, pricingModel: 'PMP', category: 'utility', type: 'regular' },
          bizOpaqueCallbackData: null,
        }
      : null,
    raw: { bucket: 'whatsapp-raw', key: `${tenantId}/${now.slice(0, 10)}/${i}.json`, ref: '0.0.messages.0' },
    metadata: { tenantName: `Tenant ${tenantId}`, displayPhoneNumber: '15550001111', source: 'meta', conversation: null, degraded: [] },
  };
  return { json: JSON.stringify(event), routingKey: `${event.kind}.${event.type}` };
}
