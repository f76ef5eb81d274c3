import { createHash } from 'node:crypto';
import request from 'supertest';
import { QUEUES } from '../../src/messaging';
import type { JsonObject } from '../../src/meta';
import { signPayload } from '../../src/receiver';
import { tenant } from '../helpers/fixtures';
import { GraphStub } from '../../support/graph-stub';
import { Harness, type QueueReader, type RunningService } from '../helpers/harness';
import { sampleMedia } from '../../support/media-samples';
import { stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';
import { message, messagesChange, notification, status, text, webhook } from '../helpers/webhooks';

jest.setTimeout(120_000);

const PHONE = '447700900123';
const NAME = 'Ada Lovelace';
const acme = tenant('acme', '860000000000001', 'acme-app-secret-7f3k', { accessToken: 'EAAGacmeAccessToken0123456789abcdef' });
const globex = tenant('globex', '860000000000002', 'globex-app-secret-q9z1', { accessToken: 'EAAGglobexAccessToken0123456789ab' });

const CARD = { wa_id: PHONE, profile: { name: NAME } };
let seq = 0;
/** A webhook of one change for `t`'s account; each has an entry time of its own. */
function body(t: typeof acme, change: JsonObject): string {
  return webhook(t.businessAccountId, [change], 1763800000 + seq++);
}
const textFrom = (t: typeof acme, words: string): string => body(t, messagesChange({ contacts: [CARD], messages: [text(`wamid.obs-${seq++}`, words, PHONE)] }));

/** `name{labels} value` lines of a Prometheus exposition, as a map. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('observability', () => {
  let harness: Harness;
  let graph: GraphStub;
  let service: RunningService;
  let events: QueueReader;
  const sentBodies: string[] = [];
  const correlations: string[] = [];

  beforeAll(async () => {
    graph = await new GraphStub().start();
    harness = await Harness.create('observability', [acme, globex]);
    // Debug lines too: the request lines of accepted webhooks are at debug, and redaction must hold for every level.
    service = await harness.start('all', { WHATSAPP_GRAPH_URL: graph.url, GRAPH_MAX_ATTEMPTS: '1', LOG_LEVEL: 'debug' }, { defaultMetrics: true });
    events = harness.reader(QUEUES.messages);

    const post = async (payload: string, t: typeof acme): Promise<request.Response> => {
      sentBodies.push(payload);
      const res = await harness.post(service, payload, t.appSecret);
      correlations.push(res.headers['x-correlation-id'] as string);
      return res;
    };
    const image = sampleMedia('image/jpeg', 4000);
    graph.add({ id: 'obs-image', mimeType: 'image/jpeg', body: image, token: acme.accessToken });
    const texts = ['first private words', 'second private words', 'third private words'].map((t) => textFrom(acme, t));
    for (const t of texts) expect((await post(t, acme)).status).toBe(200);
    expect((await post(texts[0]!, acme)).body).toMatchObject({ status: 'duplicate' });
    const media = (id: string): JsonObject =>
      messagesChange({
        contacts: [CARD],
        messages: [message(`wamid.obs-${id}`, 'image', { id, mime_type: 'image/jpeg', caption: 'a private caption' }, PHONE)],
      });
    expect((await post(body(acme, media('obs-image')), acme)).status).toBe(200);
    expect((await post(body(acme, media('obs-missing')), acme)).status).toBe(200);
    for (const state of ['sent', 'read']) {
      expect((await post(body(acme, messagesChange({ statuses: [status('wamid.obs-out', state, PHONE, '1763800001')] })), acme)).status).toBe(200);
    }
    expect((await post(body(acme, notification('message_template_status_update', { event: 'APPROVED', message_template_id: 1 })), acme)).status).toBe(200);
    expect((await post(textFrom(globex, 'globex private words'), globex)).status).toBe(200);

    expect((await harness.post(service, textFrom(acme, 'forged private words'), 'wrong-secret')).status).toBe(401);
    expect((await harness.post(service, textFrom(acme, 'forged private words 2'), 'wrong-secret')).status).toBe(401);
    expect((await harness.post(service, textFrom(tenant('x', '860000000000404', 's'), 'nobody'), 's')).status).toBe(404);
    expect((await harness.post(service, `{"object":"whatsapp_business_account","entry":[{"from":"${PHONE}"`, 's')).status).toBe(400);

    await events.waitFor(8, 20_000);
  });
  afterAll(async () => {
    await harness.close();
    await graph.stop();
  });

  it('when traffic has passed, then /metrics exposes every named metric with counts that match what was sent', async () => {
    // A hand-off is acked once its event marks are written, which may be a few ms after its events arrived.
    // Hand-offs are acked by the consumers of the process queues: every shard's, and the unsharded one.
    const acked = (metrics: Map<string, number>): number =>
      [...metrics]
        .filter(([name]) => /^worker_handoff_outcome_total\{queue="whatsapp\.webhooks\.process[^"]*",outcome="ack"\}$/.test(name))
        .reduce((n, [, v]) => n + v, 0);
    const res = await eventually(
      async () => {
        const scraped = await request(service.handle.url).get('/metrics');
        return acked(parseMetrics(scraped.text)) >= 9 && scraped;
      },
      10_000,
      'the nine hand-offs acked',
    );
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    for (const name of [
      'webhook_received_total',
      'webhook_processing_duration_seconds',
      'media_download_duration_seconds',
      'media_download_size_bytes',
      'minio_upload_duration_seconds',
      'rabbitmq_publish_total',
      'rabbitmq_publish_failures_total',
      'cache_hit_total',
      'cache_miss_total',
      'http_request_duration_seconds',
      'rabbitmq_publish_duration_seconds',
      'worker_lag_seconds',
      'worker_handoff_outcome_total',
      'events_published_total',
      'media_failures_total',
      'order_hold_events_total',
      'order_hold_seconds',
      'order_hold_expired_total',
      'process_cpu_user_seconds_total',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(res.text).toContain(`# TYPE ${name} `);
    }
    const m = parseMetrics(res.text);
    const get = (key: string): number | undefined => m.get(key);
    expect(get('webhook_received_total{tenant="acme",message_type="text",status="accepted"}')).toBe(3);
    expect(get('webhook_received_total{tenant="acme",message_type="text",status="duplicate"}')).toBe(1);
    expect(get('webhook_received_total{tenant="acme",message_type="image",status="accepted"}')).toBe(2);
    expect(get('webhook_received_total{tenant="acme",message_type="status",status="accepted"}')).toBe(2);
    expect(get('webhook_received_total{tenant="acme",message_type="notification",status="accepted"}')).toBe(1);
    expect(get('webhook_received_total{tenant="globex",message_type="text",status="accepted"}')).toBe(1);
    expect(get('webhook_received_total{tenant="acme",message_type="unknown",status="signature_invalid"}')).toBe(2);
    expect(get('webhook_received_total{tenant="unknown",message_type="unknown",status="unknown_account"}')).toBe(1);
    expect(get('webhook_received_total{tenant="unknown",message_type="unknown",status="malformed_json"}')).toBe(1);
    expect(get('rabbitmq_publish_total{target="handoff",status="confirmed"}')).toBe(9);
    expect(get('rabbitmq_publish_total{target="event",status="confirmed"}')).toBe(9);
    expect(get('events_published_total{tenant="acme",kind="message",type="text"}')).toBe(3);
    expect(get('events_published_total{tenant="acme",kind="status",type="read"}')).toBe(1);
    expect(get('events_published_total{tenant="acme",kind="notification",type="message_template_status_update"}')).toBe(1);
    expect(get('http_request_duration_seconds_count{route="/webhook",method="POST",status="200"}')).toBe(10);
    expect(get('http_request_duration_seconds_count{route="/webhook",method="POST",status="401"}')).toBe(2);
    expect(get('media_download_size_bytes_sum{media_type="image"}')).toBe(4000);
    expect(get('media_failures_total{tenant="acme",reason="media_not_found"}')).toBe(1);
    expect(get('cache_miss_total{cache="tenant"}')).toBeGreaterThanOrEqual(2);
    // Lookups after the first per account are answered by this process's memory or by Redis.
    expect((get('cache_hit_total{cache="tenant"}') ?? 0) + (get('cache_hit_total{cache="tenant_memory"}') ?? 0)).toBeGreaterThanOrEqual(8);
    expect(get('cache_miss_total{cache="tenant_memory"}')).toBeGreaterThanOrEqual(2);
    expect(acked(m)).toBe(9);
    for (const queue of ['whatsapp.webhooks.process', 'whatsapp.webhooks.process.shard-0-of-2', 'whatsapp.webhooks.process.shard-1-of-2']) {
      expect(get(`worker_lag_seconds{queue="${queue}"}`)).toBe(0);
    }
  });

  it('when logs are captured, then every line is one JSON object, request lines carry their correlation id, and worker lines the hand-off one', () => {
    const lines = harness.logs;
    expect(lines.length).toBeGreaterThan(20);
    for (const line of lines) {
      expect(line).not.toContain('\n');
      expect(() => JSON.parse(line) as unknown).not.toThrow();
    }
    const parsed = harness.parsedLogs();
    const requestLines = parsed.filter((l) => l.message === 'request');
    expect(requestLines.length).toBeGreaterThanOrEqual(14);
    for (const line of requestLines) expect(line.correlationId).toEqual(expect.any(String));
    for (const id of correlations) expect(requestLines.some((l) => l.correlationId === id)).toBe(true);
    // An accepted webhook's line is at debug (one per webhook at full rate); a refused one's at info.
    const webhookLines = requestLines.filter((l) => l.route === '/webhook' && l.method === 'POST');
    expect(webhookLines.filter((l) => l.status === 200).length).toBeGreaterThanOrEqual(8);
    for (const line of webhookLines)
      expect({ status: line.status, level: line.level }).toEqual({ status: line.status, level: Number(line.status) < 400 ? 'debug' : 'info' });
    expect(webhookLines.some((l) => l.status === 401)).toBe(true);
    const mediaWarning = parsed.find((l) => l.message === 'media not stored; the message is published with media.error');
    const missing = events.bodies<{ messageId: string; correlationId: string }>().find((e) => e.messageId === 'wamid.obs-obs-missing');
    expect(mediaWarning).toMatchObject({ component: 'media', code: 'media_not_found', tenantId: 'acme', correlationId: missing?.correlationId });
  });

  it('when logs are captured, then none holds a phone number, a message text, a name, a token, a secret or a signature', () => {
    const all = harness.logs.join('\n');
    const signatures = sentBodies.map((b) => signPayload(b, acme.appSecret).slice(7));
    const forbidden = [
      PHONE,
      `+${PHONE}`,
      NAME,
      'private words',
      'private caption',
      acme.accessToken,
      globex.accessToken,
      acme.appSecret,
      globex.appSecret,
      ...signatures,
      createHash('sha256').update(acme.appSecret).digest('hex'),
    ];
    for (const secret of forbidden) expect({ secret, found: all.includes(secret) }).toEqual({ secret, found: false });
  });

  it('when the worker runs as its own role, then it serves /health, /ready and /metrics on its own port', async () => {
    const worker = await harness.start('worker');
    expect(worker.handle.url).not.toBe(service.handle.url);
    expect((await request(worker.handle.url).get('/health')).body).toEqual({ status: 'ok' });
    const ready = await request(worker.handle.url).get('/ready');
    expect(ready.status).toBe(200);
    expect(Object.keys((ready.body as { checks: object }).checks).sort()).toEqual(['rabbitmq', 'redis', 's3']);
    expect((await request(worker.handle.url).get('/metrics')).text).toContain('# TYPE worker_lag_seconds gauge');
    expect((await request(worker.handle.url).post('/webhook')).status).toBe(404);
    await worker.handle.stop();
  });

  describe.each([
    ['redis', 'redis'],
    ['rabbitmq', 'rabbitmq'],
    ['s3', 's3'],
  ] as const)('when %s is stopped', (service_, check) => {
    it(`then /ready answers 503 naming ${check}, fast, and 200 again once it is back`, async () => {
      await stack('stop', service_);
      try {
        const started = performance.now();
        const res = await request(service.handle.url).get('/ready');
        expect(performance.now() - started).toBeLessThan(1_500);
        expect(res.status).toBe(503);
        const checks = (res.body as { status: string; checks: Record<string, { status: string; latencyMs: number; error?: string }> }).checks;
        expect(checks[check]).toMatchObject({ status: 'down', error: expect.any(String) });
        for (const [name, result] of Object.entries(checks)) if (name !== check) expect(result).toMatchObject({ status: 'up', latencyMs: expect.any(Number) });
        expect((await request(service.handle.url).get('/health')).status).toBe(200);
      } finally {
        await stack('start', service_);
      }
      await eventually(async () => (await request(service.handle.url).get('/ready')).status === 200, 30_000, 'ready again');
    });
  });

  it('when Redis is stopped, then the receiver role stays ready (it degrades without Redis) but reports Redis down', async () => {
    const api = await harness.start('api');
    await stack('stop', 'redis');
    try {
      const res = await request(api.handle.url).get('/ready');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'ready', checks: { redis: { status: 'down', required: false }, rabbitmq: { status: 'up' } } });
    } finally {
      await stack('start', 'redis');
    }
    await api.handle.stop();
  });
});
