import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import request from 'supertest';
import type { InboundEvent } from '../../src/contract';
import { ledgerEntryOf, LedgerStore, type LedgerEntry, type MessageTrace } from '../../src/ledger';
import { Batcher, QUEUES } from '../../src/messaging';
import { refusesValues } from '../../src/subscriptions';
import { GraphStub } from '../../support/graph-stub';
import { sampleMedia } from '../../support/media-samples';
import { runCli } from '../helpers/cli';
import { FIXTURE_SECRET, fixtureTenants, tenant, webhookFixtures } from '../helpers/fixtures';
import { Harness, type QueueReader, type RunningService } from '../helpers/harness';
import { spawnService, type Spawned } from '../helpers/process';
import { stack } from '../helpers/stack';
import { eventually, sleep } from '../helpers/wait';
import { image, messagesChange, status, text, webhook } from '../helpers/webhooks';

jest.setTimeout(240_000);

const ADMIN_TOKEN = 'admin-token-for-the-ledger-0123456789abc';
const acme = tenant('acme', '892000000000001', 'acme-secret', { rateLimitPerMinute: 100_000 });
const today = (): string => new Date().toISOString().slice(0, 10);

interface EventRowOut {
  event_id: string;
  tenant_id: string;
  kind: string;
  type: string;
  message_id: string | null;
  correlation_id: string;
  raw_key: string;
  received_at: Date;
  occurred_at: Date;
  event: InboundEvent;
}

describe('the message ledger', () => {
  let harness: Harness;
  let graph: GraphStub;
  let service: RunningService;
  let db: Pool;
  let readers: QueueReader[];
  let url: string;
  const published = (): InboundEvent[] => readers.flatMap((r) => r.bodies<InboundEvent>());

  const ledgerCount = async (): Promise<number> => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM ledger_events')).rows[0]!.n);
  const traceOf = async (wamid: string): Promise<MessageTrace> => {
    const res = await request(url)
      .get(`/admin/messages/${encodeURIComponent(wamid)}`)
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(res.status).toBe(200);
    return res.body as MessageTrace;
  };
  const inLedger = async (eventIds: string[]): Promise<void> => {
    await eventually(
      async () => (await db.query('SELECT 1 FROM ledger_events WHERE event_id = ANY($1::uuid[])', [eventIds])).rowCount === new Set(eventIds).size,
      20_000,
      `${eventIds.length} event(s) in the ledger`,
    );
  };

  const duplicatesSeen = async (): Promise<number> => {
    const metric = await service.metrics.registry.getSingleMetric('ledger_events_total')?.get();
    return metric?.values.find((v) => v.labels.outcome === 'duplicate')?.value ?? 0;
  };
  /** Waits until `measure` has not changed for two seconds. */
  const settled = async (measure: () => number): Promise<void> => {
    for (let last = measure(); ;) {
      await sleep(2000);
      const now = measure();
      if (now === last) return;
      last = now;
    }
  };

  beforeAll(async () => {
    graph = await new GraphStub().start();
    harness = await Harness.create('ledger', [...fixtureTenants(), acme]);
    const database = await harness.database();
    service = await harness.start('all', {
      DATABASE_URL: database,
      ADMIN_TOKEN,
      WHATSAPP_GRAPH_URL: graph.url,
      GRAPH_MAX_ATTEMPTS: '1',
      MEDIA_MAX_ATTEMPTS: '1',
      LEDGER_BATCH_MS: '50',
    });
    url = service.handle.url;
    db = new Pool({ connectionString: database, max: 2 });
    readers = [harness.reader(QUEUES.messages), harness.reader(QUEUES.notifications)];
  });
  afterAll(async () => {
    await db.end();
    await harness.close();
    await graph.stop();
  });

  it('when every fixture goes through the service, then each event is one ledger row whose fields are the event’s, and each message has its row', async () => {
    const fixtures = webhookFixtures().filter((f) => (f.json.entry?.length ?? 0) > 0);
    for (const fixture of fixtures) {
      // Fixtures reuse each other's wamids: each one is new to the service (and, for the ledger, a copy where ids repeat).
      await harness.clearMarks();
      expect((await harness.post(service, fixture.bytes, FIXTURE_SECRET)).status).toBe(200);
      // Its events published before the next fixture's marks are cleared (they may share wamids).
      await eventually(async () => (await harness.handoffDepth()) === 0, 15_000, `events of ${fixture.name}`);
      await sleep(200);
    }
    await eventually(async () => (await harness.handoffDepth()) === 0, 20_000, 'the hand-offs');
    const events = published();
    const byId = new Map<string, InboundEvent[]>();
    for (const e of events) byId.set(e.eventId, [...(byId.get(e.eventId) ?? []), e]);
    expect(byId.size).toBeGreaterThan(0);
    await inLedger([...byId.keys()]);

    const { rows } = await db.query<EventRowOut>('SELECT * FROM ledger_events');
    // Once per event id, whichever copy came first.
    expect(rows).toHaveLength(byId.size);
    for (const row of rows) {
      const copies = byId.get(row.event_id);
      expect(copies).toBeDefined();
      const copy = copies!.find((c) => c.correlationId === row.correlation_id)!;
      expect(copy).toBeDefined();
      expect(row.event).toEqual(copy);
      expect(row).toMatchObject({ tenant_id: copy.tenantId, kind: copy.kind, type: copy.type, message_id: copy.messageId, raw_key: copy.raw.key });
      expect(row.received_at.toISOString()).toBe(new Date(copy.receivedAt).toISOString());
      expect(row.occurred_at.toISOString()).toBe(new Date(copy.timestamp).toISOString());
    }
    // A message (or status) event leaves its message's row, with the message's type or the status's state.
    const messages = await db.query<{ tenant_id: string; message_id: string; type: string | null; state: string | null; direction: string | null }>(
      'SELECT tenant_id, message_id, type, state, direction FROM ledger_messages',
    );
    const rowOf = new Map(messages.rows.map((m) => [`${m.tenant_id}/${m.message_id}`, m]));
    for (const copies of byId.values()) {
      const e = copies[0]!;
      if ((e.kind !== 'message' && e.kind !== 'status') || !e.messageId) continue;
      const row = rowOf.get(`${e.tenantId}/${e.messageId}`);
      expect(row).toBeDefined();
      // (Fixtures reuse wamids: a status may name a wamid another fixture has as a customer's message.)
      if (e.kind === 'status') expect(row!.state).not.toBeNull();
      if (e.kind === 'message' && e.direction === 'inbound') expect(row!.type).not.toBeNull();
    }
    // The daily counts are the events written, by kind and type.
    const stats = await request(url).get('/admin/stats').set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(stats.status).toBe(200);
    const days = (stats.body as { days: Array<{ total: number }> }).days;
    expect(days.reduce((n, d) => n + d.total, 0)).toBe(byId.size);
  });

  it('when payloads are replayed and their events published again, then the ledger writes nothing twice', async () => {
    const before = await ledgerCount();
    const dailyBefore = (await db.query<{ n: string }>('SELECT sum(events) AS n FROM ledger_daily')).rows[0]!.n;
    const copiesBefore = published().length;
    const duplicatesBefore = await duplicatesSeen();
    await harness.clearMarks();
    const tenants = [...new Set(published().map((e) => e.tenantId))];
    for (const tenantId of tenants) {
      const res = await request(url)
        .post('/admin/replay')
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .send({ tenantId, from: today(), to: today(), source: 'raw', allowRepublish: true });
      expect(res.status).toBe(200);
    }
    // The same events again (same ids, same receipt time), on the contract's queues and the ledger's.
    await eventually(() => published().length > copiesBefore, 30_000, 'the replayed events');
    await settled(() => published().length);
    const copies = published().length - copiesBefore;
    // The ledger took every copy and wrote none.
    await eventually(async () => (await duplicatesSeen()) - duplicatesBefore === copies, 30_000, `${copies} copies seen by the ledger`);
    expect(await ledgerCount()).toBe(before);
    expect((await db.query<{ n: string }>('SELECT sum(events) AS n FROM ledger_daily')).rows[0]!.n).toBe(dailyBefore);
  });

  it('when statuses arrive read, then delivered, then sent, then the message stays read with all three times and the trace flags the late ones', async () => {
    const wamid = `wamid.ledger-order-${harness.id}`;
    const states: Array<[string, string]> = [
      ['read', '1763800300'],
      ['delivered', '1763800200'],
      ['sent', '1763800100'],
    ];
    for (const [state, ts] of states) {
      const res = await harness.post(
        service,
        webhook(acme.businessAccountId, [messagesChange({ statuses: [status(wamid, state, '447700900123', ts)] })]),
        acme.appSecret,
      );
      expect(res.status).toBe(200);
      // One at a time, in this order: the second is processed after the first.
      const mine = await eventually(() => published().find((e) => e.messageId === wamid && e.type === state), 15_000, `status ${state}`);
      await inLedger([mine.eventId]);
    }
    const row = (await db.query('SELECT * FROM ledger_messages WHERE message_id = $1', [wamid])).rows[0] as Record<string, unknown>;
    expect(row).toMatchObject({ tenant_id: 'acme', state: 'read', direction: 'outbound', out_of_order: 2 });
    expect((row.read_at as Date).toISOString()).toBe('2025-11-22T08:31:40.000Z');
    expect((row.delivered_at as Date).toISOString()).toBe('2025-11-22T08:30:00.000Z');
    expect((row.sent_at as Date).toISOString()).toBe('2025-11-22T08:28:20.000Z');

    const trace = await traceOf(wamid);
    expect(trace.message?.state).toBe('read');
    expect(trace.statuses.map((s) => [s.state, s.outOfOrder])).toEqual([
      ['read', false],
      ['delivered', true],
      ['sent', true],
    ]);
    expect(trace.posts).toHaveLength(3);
    expect(trace.steps.filter((line) => line.includes('OUT OF ORDER'))).toHaveLength(2);
    // The stats count each state once, in the outbound funnel.
    const stats = await request(url).get(`/admin/stats?tenantId=acme`).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    const funnel = (stats.body as { days: Array<{ funnel: { sent: number; delivered: number; read: number } }> }).days[0]!.funnel;
    expect(funnel).toMatchObject({ sent: 1, delivered: 1, read: 1 });
    // The command prints the same figures.
    const cli = await runCli('stats', harness.env({ DATABASE_URL: await harness.database() }), ['--tenant', 'acme']);
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toEqual(stats.body);
    expect((await runCli('stats', harness.env({ DATABASE_URL: await harness.database() }), ['--from', 'yesterday'])).code).toBe(2);
  });

  it('when a photo’s hand-off is retried through an object-store outage and its media then cannot be fetched, then the trace shows the POST, the retry and the media failure', async () => {
    const wamid = `wamid.ledger-trace-${harness.id}`;
    const mediaId = `media-ledger-${harness.id}`;
    // The first attempt fetches the photo and cannot store it (the object store is down); by the retry Meta has let it expire.
    graph.add({ id: mediaId, mimeType: 'image/jpeg', body: sampleMedia('image/jpeg', 4096), lookup: ['ok', 404] });
    await stack('stop', 's3');
    let correlationId: string;
    try {
      const res = await harness.post(
        service,
        webhook(acme.businessAccountId, [messagesChange({ messages: [image(wamid, { id: mediaId, mime_type: 'image/jpeg' })] })]),
        acme.appSecret,
      );
      expect(res.status).toBe(200);
      correlationId = String(res.headers['x-correlation-id']);
      await eventually(() => graph.count('download', mediaId) >= 1, 15_000, 'the first download');
      await sleep(1000);
    } finally {
      await stack('start', 's3');
    }
    const event = await eventually(() => published().find((e) => e.messageId === wamid), 30_000, 'the photo’s event');
    await inLedger([event.eventId]);

    const trace = await traceOf(wamid);
    expect(trace.posts).toEqual([expect.objectContaining({ correlationId, rawKey: event.raw.key, source: 'meta', failed: null })]);
    expect(trace.events).toHaveLength(1);
    expect(trace.events[0]!.attempt).toBeGreaterThan(1);
    expect(trace.events[0]!.retriedAfter).toMatch(/object_store_unavailable/);
    expect(trace.media?.error?.code).toBeTruthy();
    expect(trace.message).toMatchObject({ direction: 'inbound', type: 'image', state: 'received' });
    const steps = trace.steps.join('\n');
    expect(steps).toContain(`POST received`);
    expect(steps).toContain(correlationId);
    expect(steps).toMatch(/retry: published by attempt \d+ of the hand-off; the attempt before failed: /);
    expect(steps).toMatch(/media: not stored \(/);

    // The command prints the same steps.
    const cli = await runCli('trace', harness.env({ DATABASE_URL: await harness.database() }), [wamid]);
    expect(cli.code).toBe(0);
    expect(cli.stdout.trim().split('\n')).toEqual(trace.steps);
    const missing = await runCli('trace', harness.env({ DATABASE_URL: await harness.database() }), ['wamid.none']);
    expect(missing.code).toBe(1);
  });

  it('when a tenant key asks for its own message, then it gets the trace, and another tenant’s message is not found to it', async () => {
    const key = await request(url).post('/admin/api-keys').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ tenantId: 'acme', name: 'ledger' });
    expect(key.status).toBe(201);
    const token = (key.body as { key: string }).key;
    const wamid = `wamid.ledger-own-${harness.id}`;
    expect((await harness.post(service, webhook(acme.businessAccountId, [messagesChange({ messages: [text(wamid)] })]), acme.appSecret)).status).toBe(200);
    const mine = await eventually(() => published().find((e) => e.messageId === wamid), 15_000, 'the text');
    await inLedger([mine.eventId]);
    const own = await request(url).get(`/v1/messages/${wamid}`).set('Authorization', `Bearer ${token}`);
    expect(own.status).toBe(200);
    expect((own.body as MessageTrace).tenantId).toBe('acme');
    const foreign = published().find((e) => e.tenantId !== 'acme' && e.messageId)!;
    const theirs = await request(url)
      .get(`/v1/messages/${encodeURIComponent(foreign.messageId!)}`)
      .set('Authorization', `Bearer ${token}`);
    expect(theirs.status).toBe(404);
    const asked = await request(url)
      .get(`/v1/messages/${encodeURIComponent(foreign.messageId!)}?tenantId=${foreign.tenantId}`)
      .set('Authorization', `Bearer ${token}`);
    expect(asked.status).toBe(404);
    const stats = await request(url).get(`/v1/stats?tenantId=${foreign.tenantId}`).set('Authorization', `Bearer ${token}`);
    expect(stats.status).toBe(400);
    const ownStats = await request(url).get('/v1/stats').set('Authorization', `Bearer ${token}`);
    expect((ownStats.body as { days: Array<{ tenantId: string }> }).days.every((d) => d.tenantId === 'acme')).toBe(true);
    expect((await request(url).get(`/v1/messages/${wamid}`)).status).toBe(401);
  });

  it('when a customer’s text holds a NUL and half an emoji, then the ledger writes it (each as U+FFFD) with the events beside it, and goes on writing', async () => {
    const odd = `wamid.ledger-nul-${harness.id}`;
    const plain = `wamid.ledger-plain-${harness.id}`;
    // JSON.stringify writes both as escapes (\u0000, \ud83d), as Meta would: jsonb refuses them.
    const body = webhook(acme.businessAccountId, [messagesChange({ messages: [text(odd, 'a\u0000b \ud83d'), text(plain, 'fine')] })]);
    expect(JSON.stringify(body)).toContain('\\u0000');
    expect((await harness.post(service, body, acme.appSecret)).status).toBe(200);
    const events = await eventually(
      () => {
        const both = [odd, plain].map((w) => published().find((e) => e.messageId === w));
        return both.every(Boolean) ? (both as InboundEvent[]) : undefined;
      },
      15_000,
      'both texts published',
    );
    await inLedger(events.map((e) => e.eventId));
    const row = await db.query<{ event: InboundEvent }>('SELECT event FROM ledger_events WHERE message_id = $1', [odd]);
    expect(JSON.stringify(row.rows[0]!.event)).toContain('a\ufffdb \ufffd');
    expect((await traceOf(odd)).message).toMatchObject({ type: 'text', state: 'received' });
    // Later events are written as before: nothing holds the ledger.
    const after = `wamid.ledger-after-nul-${harness.id}`;
    expect((await harness.post(service, webhook(acme.businessAccountId, [messagesChange({ messages: [text(after)] })]), acme.appSecret)).status).toBe(200);
    await inLedger([(await eventually(() => published().find((e) => e.messageId === after), 15_000, 'the next text')).eventId]);
  });
});

describe('the ledger under kill -9', () => {
  let harness: Harness;
  let service: RunningService;
  let db: Pool;
  let ledger: Spawned | undefined;

  const startLedger = async (env: Record<string, string>): Promise<Spawned> => {
    const spawned = spawnService(harness.env({ ROLE: 'ledger', DATABASE_URL: await harness.database(), ...env }));
    await spawned.started();
    return spawned;
  };

  beforeAll(async () => {
    harness = await Harness.create('ledger-kill', [acme]);
    const database = await harness.database();
    // The receiver and the worker here (they declare the ledger's queue); the ledger in a process of its own, to be killed.
    service = await harness.start('api', { DATABASE_URL: database });
    await harness.start('worker', { DATABASE_URL: database });
    db = new Pool({ connectionString: database, max: 2 });
  });
  afterAll(async () => {
    ledger?.child.kill('SIGKILL');
    await db.end();
    await harness.close();
  });

  it('when the ledger is killed with a batch in hand, then after a restart every event is in the ledger once', async () => {
    // Batches of 100 that wait 3 s to fill: the kill comes with events taken and not yet written.
    ledger = await startLedger({ LEDGER_BATCH_SIZE: '100', LEDGER_BATCH_MS: '3000' });
    const wamids = Array.from({ length: 250 }, (_, i) => `wamid.ledger-kill-${harness.id}-${i}`);
    for (let i = 0; i < wamids.length; i += 10) {
      const res = await harness.post(
        service,
        webhook(acme.businessAccountId, [messagesChange({ messages: wamids.slice(i, i + 10).map((w) => text(w)) })]),
        acme.appSecret,
      );
      expect(res.status).toBe(200);
    }
    const count = async (): Promise<number> => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM ledger_events')).rows[0]!.n);
    await eventually(async () => (await count()) >= 200, 30_000, 'two batches written');
    const atKill = await count();
    ledger.child.kill('SIGKILL');
    await ledger.exit;
    expect(atKill).toBeLessThan(wamids.length);
    // Whatever it held unacked is back in its queue.
    await eventually(async () => (await harness.depth(QUEUES.ledger)) + atKill >= wamids.length, 20_000, 'the unwritten events back in the queue');

    ledger = await startLedger({ LEDGER_BATCH_SIZE: '100', LEDGER_BATCH_MS: '100' });
    await eventually(async () => (await count()) === wamids.length, 30_000, 'every event written');
    await sleep(1000);
    const rows = await db.query<{ message_id: string; n: string }>('SELECT message_id, count(*) AS n FROM ledger_events GROUP BY message_id');
    expect(rows.rows).toHaveLength(wamids.length);
    expect(rows.rows.every((r) => r.n === '1')).toBe(true);
    expect(new Set(rows.rows.map((r) => r.message_id))).toEqual(new Set(wamids));
    const messages = await db.query<{ n: string; e: string }>('SELECT count(*) AS n, sum(events) AS e FROM ledger_messages');
    expect(messages.rows[0]).toEqual({ n: String(wamids.length), e: String(wamids.length) });
  });
});

describe('the ledger beside the failed store, and its retention', () => {
  let harness: Harness;
  let service: RunningService;
  let db: Pool;
  let events: QueueReader;

  beforeAll(async () => {
    harness = await Harness.create('ledger-failed', [acme]);
    // An outage longer than this stores the payload as failed (and dead-letters it) instead of retrying on.
    service = await harness.start('all', { DATABASE_URL: await harness.database(), ADMIN_TOKEN, TRANSIENT_RETRY_WINDOW_SECONDS: '1' });
    db = new Pool({ connectionString: await harness.database(), max: 2 });
    events = harness.reader(QUEUES.messages);
  });
  afterAll(async () => {
    await db.end();
    await harness.close();
  });

  it('when a payload was dead-lettered through a Redis outage and then replayed, then the trace shows its failed-store entry and the replayed event', async () => {
    const wamid = `wamid.ledger-failed-${harness.id}`;
    await eventually(() => harness.shardsConsumed(), 10_000, 'the worker consuming its shards');
    await stack('stop', 'redis');
    let correlationId: string;
    try {
      const res = await harness.post(service, webhook(acme.businessAccountId, [messagesChange({ messages: [text(wamid)] })]), acme.appSecret);
      expect(res.status).toBe(200);
      correlationId = String(res.headers['x-correlation-id']);
      await eventually(async () => (await harness.depth(QUEUES.dead)) === 1, 20_000, 'a dead letter');
    } finally {
      await stack('start', 'redis');
    }
    // With a 1 s retry window, a replay met by a Redis still reconnecting would be dead-lettered again.
    await eventually(async () => (await request(service.handle.url).get('/ready')).status === 200, 30_000, 'the service ready again');
    const replay = await request(service.handle.url)
      .post('/admin/replay')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ tenantId: 'acme', from: today(), to: today(), source: 'failed' });
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ found: 1, replayed: 1 });
    const event = await eventually(() => events.bodies<InboundEvent>().find((e) => e.messageId === wamid), 30_000, 'the replayed event');
    await eventually(
      async () => (await db.query('SELECT 1 FROM ledger_events WHERE event_id = $1', [event.eventId])).rowCount === 1,
      20_000,
      'the event in the ledger',
    );

    const res = await request(service.handle.url).get(`/admin/messages/${wamid}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(res.status).toBe(200);
    const trace = res.body as MessageTrace;
    expect(trace.posts).toHaveLength(1);
    expect(trace.posts[0]).toMatchObject({ correlationId, source: 'replay', failed: { key: `failed/${event.raw.key}` } });
    expect(trace.posts[0]!.failed!.error).toMatch(/redis_unavailable/);
    expect(trace.steps.join('\n')).toMatch(/failed store: failed\/acme\/.+ after \d+ attempt\(s\) at .+: redis_unavailable/);
  });

  it('when PostgreSQL refuses one event of a batch every time, then that one alone is refused and the rest of its batch is written', async () => {
    const store = new LedgerStore(db, 30);
    const receivedAt = new Date().toISOString();
    const entries = Array.from({ length: 9 }, (_, n) => {
      const made = ledgerEntryOf(
        JSON.stringify({
          eventId: randomUUID(),
          tenantId: 'acme',
          kind: 'message',
          type: 'text',
          correlationId: randomUUID(),
          receivedAt,
          messageId: `wamid.refused-${harness.id}-${n}`,
          direction: 'inbound',
        }),
        'message.text',
        {},
      );
      if (made instanceof Error) throw made;
      return made;
    });
    // What the ledger's reading would have mended, written as it is: jsonb refuses \u0000 (22P05), each time.
    const poison = { ...entries[4]!, json: entries[4]!.json.replace('"kind"', '"x":"\\u0000","kind"') };
    const failures: unknown[] = [];
    const refused: LedgerEntry[] = [];
    const batcher = new Batcher<LedgerEntry>(
      { size: 100, waitMs: 20, writers: 1, refusesItems: refusesValues },
      (batch) => store.write(batch).then(() => undefined),
      (err) => failures.push(err),
      (_err, entry) => refused.push(entry),
    );
    const outcomes = await Promise.all(entries.map((e, i) => batcher.add(i === 4 ? poison : e)));
    await batcher.close();
    expect(outcomes.filter((o) => o === 'written')).toHaveLength(8);
    expect(outcomes[4]).toBe('refused');
    expect(refused.map((e) => e.eventId)).toEqual([poison.eventId]);
    // Refusals are not outages: nothing waited for a retry.
    expect(failures).toEqual([]);
    const written = await db.query<{ event_id: string }>('SELECT event_id FROM ledger_events WHERE message_id LIKE $1', [`wamid.refused-${harness.id}-%`]);
    expect(new Set(written.rows.map((r) => r.event_id))).toEqual(new Set(entries.filter((_, i) => i !== 4).map((e) => e.eventId)));
  });

  it('when days pass the retention, then their partitions are dropped whole, stale messages removed, and an event that old is not written', async () => {
    const store = new LedgerStore(db, 30);
    const now = Date.now();
    const old = new Date(now - 40 * 86_400_000).toISOString();
    const recent = new Date(now - 10 * 86_400_000).toISOString();
    await store.ensurePartitions(new Set([old.slice(0, 10), recent.slice(0, 10)]));
    const entry = (receivedAt: string, n: number): LedgerEntry => {
      const made = ledgerEntryOf(
        JSON.stringify({
          eventId: randomUUID(),
          tenantId: 'acme',
          kind: 'message',
          type: 'text',
          correlationId: randomUUID(),
          receivedAt,
          timestamp: receivedAt,
          messageId: `wamid.retention-${harness.id}-${n}`,
          direction: 'inbound',
          raw: { key: 'k' },
          metadata: { source: 'meta' },
        }),
        'message.text',
        {},
      );
      if (made instanceof Error) throw made;
      return made;
    };
    // Written while within the retention (the clock of 20 days ago), then the clock moves on.
    expect(await store.write([entry(old, 1)], now - 20 * 86_400_000)).toMatchObject({ written: 1 });
    expect(await store.write([entry(recent, 2)], now)).toMatchObject({ written: 1 });
    await db.query("UPDATE ledger_messages SET updated_at = now() - interval '40 days' WHERE message_id = $1", [`wamid.retention-${harness.id}-1`]);
    const purged = await store.purgeExpired(now);
    expect(purged.partitions).toContain(`ledger_events_p${old.slice(0, 10).replace(/-/g, '')}`);
    expect(purged.partitions).not.toContain(`ledger_events_p${recent.slice(0, 10).replace(/-/g, '')}`);
    expect(purged.messages).toBe(1);
    const left = await db.query<{ message_id: string }>('SELECT message_id FROM ledger_events WHERE message_id LIKE $1', [`wamid.retention-${harness.id}-%`]);
    expect(left.rows.map((r) => r.message_id)).toEqual([`wamid.retention-${harness.id}-2`]);
    // Arriving now, an event received 40 days ago is past the retention: not written.
    expect(await store.write([entry(old, 3)], now)).toEqual({ written: 0, duplicates: 0, expired: 1 });
  });
});
