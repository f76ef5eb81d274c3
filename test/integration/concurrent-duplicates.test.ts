import request from 'supertest';
import { DedupStore } from '../../src/cache';
import { QUEUES } from '../../src/messaging';
import type { InboundEvent } from '../../src/contract';
import { tenant } from '../helpers/fixtures';
import { Harness, type QueueReader, type RunningService } from '../helpers/harness';
import { eventually, sleep } from '../helpers/wait';
import { messagesChange, notification, text, webhook } from '../helpers/webhooks';

jest.setTimeout(120_000);

const acme = tenant('acme', '850000000000011', 'acme-secret', { rateLimitPerMinute: 100_000 });
const ADMIN_TOKEN = 'admin-token-for-tests-0123456789abcdef';
const DAY_MS = 86_400_000;
const rotating = tenant('rotating', '850000000000012', 'new-secret', {
  previousAppSecret: 'old-secret',
  previousAppSecretExpiresAt: new Date(Date.now() + DAY_MS).toISOString(),
});
const rotated = tenant('rotated', '850000000000013', 'newer-secret', {
  previousAppSecret: 'retired-secret',
  previousAppSecretExpiresAt: new Date(Date.now() - DAY_MS).toISOString(),
});

describe('one event per message, bounded labels and private operations', () => {
  let harness: Harness;
  let service: RunningService;
  let events: QueueReader;
  let notifications: QueueReader;

  beforeAll(async () => {
    harness = await Harness.create('dupes', [acme, rotating, rotated]);
    service = await harness.start('all', { ADMIN_TOKEN, ADMIN_PORT: '0', METRICS_PORT: '0' });
    events = harness.reader(QUEUES.messages);
    notifications = harness.reader(QUEUES.notifications);
  });
  afterAll(() => harness.close());

  it('when the same signed payload is POSTed twice at the same moment, 20 times, then each message is exactly one event', async () => {
    const wamids = Array.from({ length: 20 }, (_, i) => `wamid.pair-${harness.id}-${i}`);
    const answers = await Promise.all(
      wamids.flatMap((wamid) => {
        const body = webhook(acme.businessAccountId, [messagesChange({ messages: [text(wamid)] })]);
        return [harness.post(service, body, acme.appSecret), harness.post(service, body, acme.appSecret)];
      }),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await events.waitFor(20, 20_000);
    await sleep(1500); // a second copy would arrive by now
    const mine = events.bodies<InboundEvent>().filter((e) => wamids.includes(e.messageId ?? ''));
    expect(mine.map((e) => e.messageId).sort()).toEqual([...wamids].sort());
    // Both copies of most pairs got past the receiver's dedup (its marks come after the hand-off):
    // the worker's claims are what made them one event.
    const handedOffTwice = answers.filter((a) => (a.body as { status: string }).status === 'accepted').length - 20;
    expect(handedOffTwice).toBeGreaterThan(0);
  });

  it('when an app secret is being rotated, then both secrets verify until the previous one expires, and the metric says which matched', async () => {
    const body = (account: string, n: string): string => webhook(account, [messagesChange({ messages: [text(`wamid.rot-${harness.id}-${n}`)] })]);
    expect((await harness.post(service, body(rotating.businessAccountId, 'old'), 'old-secret')).status).toBe(200);
    expect((await harness.post(service, body(rotating.businessAccountId, 'new'), 'new-secret')).status).toBe(200);
    const refused = await harness.post(service, body(rotated.businessAccountId, 'retired'), 'retired-secret');
    expect(refused.status).toBe(401);
    expect((refused.body as { error: { code: string } }).error.code).toBe('signature_invalid');
    const matched = (await service.metrics.signatureMatched.get()).values.filter((v) => v.labels.tenant === 'rotating');
    expect(Object.fromEntries(matched.map((v) => [v.labels.secret, v.value]))).toEqual({ previous: 1, current: 1 });
  });

  it('when a claim is released after a failed publish, then another copy may claim it; a live claim holds it, its own holder claims it again', async () => {
    const store = new DedupStore(harness.redis(), { keyPrefix: harness.prefix, namespace: 'claimtest', ttlSeconds: 60, claims: true });
    expect(await store.claim('acme', ['e1', 'e2'], 'h1', 10_000)).toEqual(['claimed', 'claimed']);
    expect(await store.claim('acme', ['e1', 'e2'], 'h2', 10_000)).toEqual(['held', 'held']);
    expect(await store.claim('acme', ['e1'], 'h1', 10_000)).toEqual(['claimed']);
    await store.mark('acme', ['e1']);
    await store.release('acme', ['e2'], 'h1');
    expect(await store.claim('acme', ['e1', 'e2'], 'h2', 10_000)).toEqual(['published', 'claimed']);
    // Marking ended e1's claim in the same command: nothing is left to lapse.
    expect(await harness.redis().exists(`${harness.prefix}claimtest-claim:acme:e1`)).toBe(0);
  });

  it('when a webhook is accepted, then its dedup marks last seven days (as long as Meta retries)', async () => {
    const wamid = `wamid.ttl-${harness.id}`;
    expect((await harness.post(service, webhook(acme.businessAccountId, [messagesChange({ messages: [text(wamid)] })]), acme.appSecret)).status).toBe(200);
    await events.waitFor(1);
    const rx = `${harness.prefix}rx:{acme}:m:${wamid}`;
    const ttl = await eventually(async () => ((await harness.redis().ttl(rx)) > 0 ? harness.redis().ttl(rx) : undefined), 5_000, 'the mark');
    expect(ttl).toBeGreaterThan(7 * 86_400 - 60);
  });

  it('when a notification names a field nobody has heard of, then the event keeps the name and the metric label is "other"', async () => {
    const field = `zz_invented_${harness.id}`;
    expect((await harness.post(service, webhook(acme.businessAccountId, [notification(field, { x: 1 })]), acme.appSecret)).status).toBe(200);
    const event = await eventually(() => notifications.bodies<InboundEvent>().find((e) => e.type === field), 10_000, 'the notification');
    expect(event.kind).toBe('notification');
    const labels = (await service.metrics.eventsPublished.get()).values.map((v) => v.labels.type);
    expect(labels).toContain('other');
    expect(labels).not.toContain(field);
  });

  it('when ADMIN_PORT and METRICS_PORT are set, then the public port serves neither /admin nor /metrics, and the private port serves both', async () => {
    const publicUrl = service.handle.url;
    expect((await request(publicUrl).get('/metrics')).status).toBe(404);
    expect((await request(publicUrl).post('/admin/cache/invalidate').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ all: true })).status).toBe(404);
    const privateUrl = service.handle.adminUrl!;
    expect(service.handle.metricsUrl).toBe(privateUrl);
    expect((await request(privateUrl).get('/metrics')).text).toContain('webhook_received_total');
    expect((await request(privateUrl).post('/admin/cache/invalidate').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ all: true })).status).toBe(200);
  });

  it.each([
    ['a tenant the registry does not have', { tenantId: 'ghost', from: today(), to: today() }, 404, 'unknown_tenant'],
    ['a tenant id that is a path', { tenantId: '../failed', from: today(), to: today() }, 400, 'invalid_replay'],
    ['raw payloads older than the dedup window', { tenantId: 'acme', from: '2020-01-01', to: '2020-01-02', source: 'raw' }, 400, 'replay_outside_dedup_window'],
  ])('when a replay names %s, then it is refused with a clear code', async (_what, body, status, code) => {
    const res = await request(service.handle.adminUrl!).post('/admin/replay').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send(body);
    expect(res.status).toBe(status);
    expect((res.body as { error: { code: string } }).error.code).toBe(code);
  });

  it('when raw payloads within the window are replayed, then nothing already published is published again', async () => {
    const before = events.messages.length;
    const res = await request(service.handle.adminUrl!)
      .post('/admin/replay')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ tenantId: 'acme', from: today(), to: today(), source: 'raw' });
    expect(res.status).toBe(200);
    expect((res.body as { found: number; skipped: number }).found).toBeGreaterThan(0);
    await sleep(1500);
    expect(events.messages.length).toBe(before);
  });
});

function today(): string {
  return new Date().toISOString().slice(0, 10);
}
