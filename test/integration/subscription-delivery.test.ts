import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { Pool } from 'pg';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import type { InboundEvent } from '../../src/contract';
import { EXCHANGES, QUEUES } from '../../src/messaging';
import { isPrivateAddress } from '../../src/subscriptions';
import { SubscriberEndpoint, type EndpointRequest } from '../helpers/endpoint';
import { runCli } from '../helpers/cli';
import { tenant } from '../helpers/fixtures';
import { Harness, type RunningService } from '../helpers/harness';
import { spawnService, type Spawned } from '../helpers/process';
import { eventually, sleep } from '../helpers/wait';
import { messagesChange, status, text, webhook } from '../helpers/webhooks';

jest.setTimeout(180_000);

const ADMIN_TOKEN = 'admin-token-for-deliveries-0123456789ab';
const acme = tenant('acme', '891000000000001', 'acme-secret', { rateLimitPerMinute: 100_000 });
const other = tenant('other', '891000000000002', 'other-secret', { rateLimitPerMinute: 100_000 });

/** Short retries: the schedule is configuration, and what is tested is how it is followed. */
const DELIVERY_ENV = {
  ADMIN_TOKEN,
  ALLOW_INSECURE_ENDPOINTS: 'true',
  DELIVERY_RETRY_SCHEDULE_MS: '300,300,300,300,300,300',
  DELIVERY_POLL_MS: '100',
  DELIVERY_TIMEOUT_MS: '40000',
  DELIVERY_ENDPOINT_CONCURRENCY: '4',
};

interface Created {
  id: string;
  secret: string;
}

const cli = (env: NodeJS.ProcessEnv, args: string[]): ReturnType<typeof runCli> => runCli('subscriptions', env, args);

const bodyOf = <T>(res: { body: unknown }): T => res.body as T;
const messageIdOf = (req: EndpointRequest): string | undefined => (JSON.parse(req.body) as InboundEvent).messageId ?? undefined;

describe('deliveries to tenants’ endpoints', () => {
  let harness: Harness;
  let service: RunningService;
  let url: string;
  let endpoint: SubscriberEndpoint;
  let seq = 0;
  let pool: Pool;

  const subscribe = async (tenantId: string, path: string, filter = ['#']): Promise<Created> => {
    const res = await request(url)
      .post('/v1/subscriptions')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ tenantId, url: `${endpoint.url}${path}`, filter });
    expect(res.status).toBe(201);
    return bodyOf<Created>(res);
  };
  /** Posts one text message of `t` and returns its wamid. */
  const sendText = async (t = acme): Promise<string> => {
    const wamid = `wamid.delivery-${harness.id}-${seq++}`;
    const res = await harness.post(service, webhook(t.businessAccountId, [messagesChange({ messages: [text(wamid, 'hello')] })]), t.appSecret);
    expect(res.status).toBe(200);
    return wamid;
  };
  const at = (path: string): EndpointRequest[] => endpoint.requests.filter((r) => r.path === path);

  beforeAll(async () => {
    harness = await Harness.create('delivery', [acme, other]);
    endpoint = await new SubscriberEndpoint().start();
    service = await harness.start('all', { ...DELIVERY_ENV, DATABASE_URL: await harness.database() });
    url = service.handle.url;
    pool = new Pool({ connectionString: await harness.database(), max: 1 });
  });
  afterAll(async () => {
    await pool.end();
    await endpoint.stop();
    await harness.close();
  });

  it('when an event matches a subscription, then its endpoint gets it signed the Standard Webhooks way, and one that does not match gets nothing', async () => {
    const messages = await subscribe('acme', '/signed', ['message.*']);
    await subscribe('acme', '/statuses-only', ['status.#']);
    const wamid = await sendText();
    await eventually(() => at('/signed').length === 1, 20_000, 'the delivery');
    const [req] = at('/signed');
    const verified = new Webhook(messages.secret).verify(req!.body, req!.headers as Record<string, string>) as InboundEvent;
    expect(verified.messageId).toBe(wamid);
    expect(verified.tenantId).toBe('acme');
    expect(req!.headers['webhook-id']).toBe(`msg_${verified.eventId}`);
    expect(req!.headers['content-type']).toBe('application/json');
    expect(Math.abs(Number(req!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    // Another secret does not verify it.
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(req!.body, req!.headers as Record<string, string>)).toThrow();
    await sleep(1000);
    expect(at('/statuses-only')).toHaveLength(0);
  });

  it('when the secret is rotated with an overlap, then deliveries verify with either secret', async () => {
    const created = await subscribe('acme', '/rotating', ['message.*']);
    const rotated = await request(url)
      .post(`/v1/subscriptions/${created.id}/rotate-secret`)
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ overlapSeconds: 600 });
    const fresh = bodyOf<Created>(rotated).secret;
    await sendText();
    await eventually(() => at('/rotating').length === 1, 20_000, 'the delivery');
    const [req] = at('/rotating');
    expect(String(req!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [created.secret, fresh]) expect(new Webhook(secret).verify(req!.body, req!.headers as Record<string, string>)).toBeTruthy();
  });

  it('when an endpoint fails 5 times then recovers, then each event is delivered once per webhook-id, and the log shows every attempt', async () => {
    const sub = await subscribe('other', '/flaky', ['message.*']);
    const failures = new Map<string, number>();
    const previous = endpoint.answer;
    endpoint.answer = (req) => {
      if (req.path !== '/flaky') return previous(req);
      const id = String(req.headers['webhook-id']);
      const n = failures.get(id) ?? 0;
      failures.set(id, n + 1);
      return n < 5 ? { status: 500, body: 'not now' } : { status: 200, body: 'ok' };
    };
    try {
      const wamids = [await sendText(other), await sendText(other), await sendText(other)];
      await eventually(
        () =>
          new Set(
            at('/flaky')
              .filter((r) => (failures.get(String(r.headers['webhook-id'])) ?? 0) >= 6)
              .map(messageIdOf),
          ).size === 3,
        30_000,
        'every event delivered',
      );
      await sleep(1500);
      const ids = new Set(at('/flaky').map((r) => String(r.headers['webhook-id'])));
      expect(ids.size).toBe(3);
      for (const id of ids) expect(endpoint.of(id)).toHaveLength(6);
      expect(new Set(at('/flaky').map(messageIdOf))).toEqual(new Set(wamids));

      const log = await request(url).get(`/v1/subscriptions/${sub.id}/deliveries`).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
      const deliveries = bodyOf<{ data: Array<{ id: string; status: string; attempts: number }> }>(log).data;
      expect(deliveries.map((d) => [d.status, d.attempts])).toEqual([
        ['delivered', 6],
        ['delivered', 6],
        ['delivered', 6],
      ]);
      const one = await request(url).get(`/v1/subscriptions/${sub.id}/deliveries/${deliveries[0]!.id}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
      const attempts = bodyOf<{ log: Array<{ attempt: number; statusCode: number; response: string; latencyMs: number }> }>(one).log;
      expect(attempts.map((a) => [a.attempt, a.statusCode, a.response])).toEqual([
        [1, 500, 'not now'],
        [2, 500, 'not now'],
        [3, 500, 'not now'],
        [4, 500, 'not now'],
        [5, 500, 'not now'],
        [6, 200, 'ok'],
      ]);
      const failedOnly = await request(url).get(`/v1/subscriptions/${sub.id}/deliveries?status=failed`).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
      expect(bodyOf<{ data: unknown[] }>(failedOnly).data).toEqual([]);
    } finally {
      endpoint.answer = previous;
    }
  });

  it('when an endpoint answers 429 with Retry-After: 2, then it is not tried again sooner', async () => {
    await subscribe('other', '/busy', ['message.*']);
    const previous = endpoint.answer;
    let first = true;
    endpoint.answer = (req) => {
      if (req.path !== '/busy') return previous(req);
      if (!first) return { status: 204 };
      first = false;
      return { status: 429, headers: { 'Retry-After': '2' } };
    };
    try {
      await sendText(other);
      await eventually(() => at('/busy').length === 2, 20_000, 'the second attempt');
      const [one, two] = at('/busy');
      expect(two!.at - one!.at).toBeGreaterThanOrEqual(2000);
      expect(two!.headers['webhook-id']).toBe(one!.headers['webhook-id']);
    } finally {
      endpoint.answer = previous;
    }
  });

  it('when an endpoint answers 410, then its subscription is disabled and gets nothing more until resumed', async () => {
    const sub = await subscribe('other', '/gone', ['message.*']);
    const previous = endpoint.answer;
    endpoint.answer = (req) => (req.path === '/gone' ? { status: 410 } : previous(req));
    try {
      await sendText(other);
      await eventually(
        async () => {
          const res = await request(url).get(`/v1/subscriptions/${sub.id}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
          return bodyOf<{ enabled: boolean }>(res).enabled === false;
        },
        20_000,
        'the subscription disabled',
      );
      const got = await request(url).get(`/v1/subscriptions/${sub.id}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
      expect(bodyOf<{ disabledReason: string }>(got).disabledReason).toBe('gone');
      expect((await service.metrics.subscriptionsDisabled.get()).values).toEqual([
        expect.objectContaining({ labels: { tenant: 'other', reason: 'gone' }, value: 1 }),
      ]);
      await sendText(other);
      await sleep(1500);
      expect(at('/gone')).toHaveLength(1);
      // Resumed: what waited meanwhile is delivered.
      endpoint.answer = previous;
      await request(url).post(`/v1/subscriptions/${sub.id}/resume`).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
      await eventually(() => at('/gone').length === 2, 20_000, 'the delivery that waited');
    } finally {
      endpoint.answer = previous;
    }
  });

  it('when one endpoint takes 30 s to answer, then another endpoint’s deliveries are not delayed', async () => {
    const slowEndpoint = await new SubscriberEndpoint().start();
    slowEndpoint.answer = () => ({ status: 200, delayMs: 30_000 });
    try {
      const slow = await request(url)
        .post('/v1/subscriptions')
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .send({ tenantId: 'acme', url: `${slowEndpoint.url}/slow`, filter: ['message.*'] });
      expect(slow.status).toBe(201);
      await subscribe('acme', '/healthy', ['message.*']);
      const started = Date.now();
      const wamids: string[] = [];
      for (let i = 0; i < 10; i++) wamids.push(await sendText());
      await eventually(() => at('/healthy').length === 10, 20_000, 'the healthy endpoint’s deliveries');
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(new Set(at('/healthy').map(messageIdOf))).toEqual(new Set(wamids));
      // The slow one holds its own slots only: some of its attempts are still waiting for an answer.
      expect(slowEndpoint.requests.length).toBeGreaterThan(0);
      expect(slowEndpoint.requests.length).toBeLessThanOrEqual(4);
    } finally {
      await slowEndpoint.stop();
    }
  });

  it('when a delivery failed, then it can be resent, or every failure since a time replayed, with the same webhook-id', async () => {
    const sub = await subscribe('other', '/refusing', ['message.*']);
    const previous = endpoint.answer;
    endpoint.answer = (req) => (req.path === '/refusing' ? { status: 400, body: 'bad' } : previous(req));
    try {
      const since = new Date(Date.now() - 1000).toISOString();
      await sendText(other);
      await sendText(other);
      const failed = async (): Promise<Array<{ id: string; webhookId: string }>> =>
        bodyOf<{ data: Array<{ id: string; webhookId: string }> }>(
          await request(url).get(`/v1/subscriptions/${sub.id}/deliveries?status=failed`).set('Authorization', `Bearer ${ADMIN_TOKEN}`),
        ).data;
      await eventually(async () => (await failed()).length === 2, 20_000, 'two failed deliveries');
      expect(at('/refusing')).toHaveLength(2);
      endpoint.answer = (req) => (req.path === '/refusing' ? { status: 200 } : previous(req));
      const [first] = await failed();
      const resent = await request(url).post(`/v1/subscriptions/${sub.id}/deliveries/${first!.id}/resend`).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
      expect(resent.status).toBe(202);
      await eventually(() => at('/refusing').length === 3, 20_000, 'the resent delivery');
      expect(at('/refusing')[2]!.headers['webhook-id']).toBe(first!.webhookId);
      // Resent with the whole schedule before it: its attempts count again from one, the log keeps both.
      const resentOne = async (): Promise<{ status: string; attempts: number; log: Array<{ statusCode: number }> }> =>
        bodyOf(await request(url).get(`/v1/subscriptions/${sub.id}/deliveries/${first!.id}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`));
      await eventually(async () => (await resentOne()).status === 'delivered', 10_000, 'the resent delivery recorded');
      expect((await resentOne()).attempts).toBe(1);
      expect((await resentOne()).log.map((a) => a.statusCode)).toEqual([400, 200]);
      // The operator command sees the same log.
      const listed = await cli(harness.env({ DATABASE_URL: await harness.database() }), ['deliveries', sub.id, '--status', 'failed']);
      expect(listed.code).toBe(0);
      expect((JSON.parse(listed.stdout) as unknown[]).length).toBe(1);
      const replayed = await request(url).post(`/v1/subscriptions/${sub.id}/replay`).set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ since });
      expect(bodyOf<{ resent: number }>(replayed).resent).toBe(1);
      await eventually(() => at('/refusing').length === 4, 20_000, 'the replayed delivery');
      await eventually(async () => (await failed()).length === 0, 10_000, 'no failed delivery left');
    } finally {
      endpoint.answer = previous;
    }
  });

  it('when the log is read page by page, then each page goes on from the last, and a page after a delivery no longer in the log is a 400', async () => {
    const sub = await subscribe('acme', '/paged', ['message.*']);
    const wamids = [await sendText(), await sendText(), await sendText(), await sendText(), await sendText()];
    await eventually(() => at('/paged').length >= wamids.length, 20_000, 'the deliveries');
    const page = async (query: string): Promise<{ status: number; body: { data: Array<{ id: string }>; next: string | null } }> => {
      const res = await request(url).get(`/v1/subscriptions/${sub.id}/deliveries${query}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
      return { status: res.status, body: res.body as { data: Array<{ id: string }>; next: string | null } };
    };
    const seen: string[] = [];
    for (let query = '?limit=2'; ;) {
      const { status: code, body } = await page(query);
      expect(code).toBe(200);
      seen.push(...body.data.map((d) => d.id));
      if (!body.next) break;
      query = `?limit=2&before=${body.next}`;
    }
    expect(seen).toHaveLength(wamids.length);
    expect(new Set(seen).size).toBe(wamids.length);
    // The retention job removes the delivery a cursor names: the next page is refused, not empty.
    const first = await page('?limit=2');
    await pool.query('DELETE FROM deliveries WHERE id = $1', [first.body.next]);
    const after = await page(`?limit=2&before=${first.body.next}`);
    expect(after.status).toBe(400);
    expect((after.body as unknown as { error: { code: string } }).error.code).toBe('cursor_gone');
  });

  it('when another tenant’s key names a subscription’s deliveries, then it finds nothing and changes nothing', async () => {
    const sub = await subscribe('acme', '/private', ['message.*']);
    await sendText();
    await eventually(() => at('/private').length === 1, 20_000, 'the delivery');
    const keyRes = await request(url).post('/admin/api-keys').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ tenantId: 'other', name: 'intruder' });
    const intruder = bodyOf<{ key: string }>(keyRes).key;
    const ownerKey = bodyOf<{ key: string }>(
      await request(url).post('/admin/api-keys').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ tenantId: 'acme', name: 'owner' }),
    ).key;
    const list = await request(url).get(`/v1/subscriptions/${sub.id}/deliveries`).set('Authorization', `Bearer ${ownerKey}`);
    const [delivery] = bodyOf<{ data: Array<{ id: string }> }>(list).data;
    expect(delivery).toBeDefined();
    for (const res of [
      await request(url).get(`/v1/subscriptions/${sub.id}/deliveries`).set('Authorization', `Bearer ${intruder}`),
      await request(url).get(`/v1/subscriptions/${sub.id}/deliveries/${delivery!.id}`).set('Authorization', `Bearer ${intruder}`),
      await request(url).post(`/v1/subscriptions/${sub.id}/deliveries/${delivery!.id}/resend`).set('Authorization', `Bearer ${intruder}`),
      await request(url)
        .post(`/v1/subscriptions/${sub.id}/replay`)
        .set('Authorization', `Bearer ${intruder}`)
        .send({ since: new Date(0).toISOString() }),
    ])
      expect(res.status).toBe(404);
    await sleep(1000);
    expect(at('/private')).toHaveLength(1);
  });

  it('when events flow, then the metrics count deliveries by outcome and the backlog per tenant', async () => {
    const outcomes = (await service.metrics.subscriptionDeliveries.get()).values.map((v) => v.labels.outcome);
    expect(new Set(outcomes)).toEqual(new Set(['delivered', 'retry', 'failed', 'gone']));
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/subscription_delivery_attempt_seconds_bucket/);
    expect(text).toMatch(/subscription_oldest_undelivered_seconds/);
  });

  it('when an event on the exchange has a tenant id PostgreSQL refuses (a NUL), then that event alone is dead-lettered and the ones beside it are delivered', async () => {
    await subscribe('acme', '/beside-refused', ['message.*']);
    const dead = harness.reader(QUEUES.deadEvents);
    const eventId = randomUUID();
    const publisher = harness.amqp().createPublisher({ confirm: true });
    // Published with the next texts, so that it shares their fan-out batch.
    const sending = [sendText(), sendText()];
    await publisher.send(
      { exchange: EXCHANGES.events, routingKey: 'message.text', contentType: 'application/json', messageId: eventId },
      { eventId, tenantId: 'acme\u0000x', kind: 'message', type: 'text', correlationId: randomUUID(), receivedAt: new Date().toISOString() },
    );
    await publisher.close();
    const wamids = await Promise.all(sending);
    await eventually(() => wamids.every((w) => at('/beside-refused').some((r) => messageIdOf(r) === w)), 20_000, 'the texts beside it delivered');
    const [letter] = await dead.waitFor(1, 20_000);
    expect(letter!.messageId).toBe(eventId);
    expect(letter!.headers?.['x-first-death-queue']).toBe(QUEUES.subscriptionFanout);
    await dead.close();
  });
});

describe('an endpoint whose name resolves to our own network', () => {
  it('when it was accepted at creation (a host name), then the delivery is refused before any connection is opened', async () => {
    // This machine's own name: an ordinary host name when registered, a private address when resolved.
    const name = hostname();
    const { address } = await lookup(name);
    expect(isPrivateAddress(address)).toBe(true);
    const harness = await Harness.create('delivery-ssrf', [acme]);
    const endpoint = await new SubscriberEndpoint().start();
    try {
      const strict = await harness.start('all', {
        ADMIN_TOKEN,
        DATABASE_URL: await harness.database(),
        DELIVERY_RETRY_SCHEDULE_MS: '200',
        DELIVERY_POLL_MS: '100',
      });
      const created = await request(strict.handle.url)
        .post('/v1/subscriptions')
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .send({ tenantId: 'acme', url: `https://${name}:${endpoint.port}/hook`, filter: ['message.*'] });
      expect(created.status).toBe(201);
      const id = bodyOf<Created>(created).id;
      const wamid = `wamid.ssrf-${harness.id}`;
      await harness.post(strict, webhook(acme.businessAccountId, [messagesChange({ messages: [text(wamid, 'x')] })]), acme.appSecret);
      const list = async (): Promise<Array<{ status: string; attempts: number; lastError: string | null }>> =>
        bodyOf<{ data: Array<{ status: string; attempts: number; lastError: string | null }> }>(
          await request(strict.handle.url).get(`/v1/subscriptions/${id}/deliveries`).set('Authorization', `Bearer ${ADMIN_TOKEN}`),
        ).data;
      await eventually(async () => (await list())[0]?.status === 'failed', 20_000, 'the delivery to fail');
      const [delivery] = await list();
      expect(delivery!.attempts).toBe(2);
      expect(delivery!.lastError).toMatch(new RegExp(`^retries exhausted .*endpoint_address_refused: ${name} resolves to an address that is not public`));
      // The address itself is not told (the log is the tenant's to read).
      expect(delivery!.lastError).not.toContain(address);
      expect(endpoint.connections).toBe(0);
    } finally {
      await endpoint.stop();
      await harness.close();
    }
  });
});

describe('a delivery worker killed mid-fan-out', () => {
  it('when it is killed with kill -9 and started again, then every event reaches the endpoint (at least once, same webhook-id)', async () => {
    const harness = await Harness.create('delivery-kill', [acme]);
    const endpoint = await new SubscriberEndpoint().start();
    endpoint.answer = () => ({ status: 200, delayMs: 20 });
    let delivery: Spawned | undefined;
    try {
      const database = await harness.database();
      const api = await harness.start('api', { ...DELIVERY_ENV, DATABASE_URL: database });
      await harness.start('worker', { DATABASE_URL: database });
      const made = await request(api.handle.url)
        .post('/v1/subscriptions')
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .send({ tenantId: 'acme', url: `${endpoint.url}/crm`, filter: ['#'] });
      expect(made.status).toBe(201);
      const env = harness.env({
        ...DELIVERY_ENV,
        DATABASE_URL: database,
        ROLE: 'delivery',
        LOG_LEVEL: 'info',
        DELIVERY_ENDPOINT_CONCURRENCY: '2',
        DELIVERY_TIMEOUT_MS: '5000',
      });
      delivery = spawnService(env);
      await delivery.started(60_000);

      // Webhooks keep coming while the delivery worker is killed: events are being fanned out and delivered at that moment.
      const wamids = Array.from({ length: 150 }, (_, i) => `wamid.kill-${harness.id}-${i}`);
      let posted = 0;
      const posting = (async () => {
        for (let i = 0; i < wamids.length; i += 5) {
          const batch = wamids.slice(i, i + 5);
          const res = await harness.post(
            api,
            webhook(acme.businessAccountId, [
              messagesChange({ messages: batch.map((w) => text(w, 'x')), statuses: [status(`${batch[0]!}.out`, 'delivered')] }),
            ]),
            acme.appSecret,
          );
          expect(res.status).toBe(200);
          posted += batch.length;
          await sleep(30);
        }
      })();
      await eventually(() => endpoint.requests.length >= 20, 60_000, 'deliveries under way');
      delivery.child.kill('SIGKILL');
      await delivery.exit;
      expect(posted).toBeLessThan(wamids.length);
      delivery = spawnService(env);
      await delivery.started(60_000);
      await posting;

      // What the killed process had claimed comes back when its lease ends (3 × DELIVERY_TIMEOUT_MS + 30 s).
      const delivered = (): Set<string | undefined> => new Set(endpoint.requests.map(messageIdOf));
      await eventually(() => wamids.every((w) => delivered().has(w)), 120_000, 'every event delivered after the restart');
      // Same webhook-id for every copy of an event: a receiver can drop the copies.
      const idsByMessage = new Map<string, Set<string>>();
      for (const req of endpoint.requests) {
        const id = messageIdOf(req) ?? `status:${String(req.headers['webhook-id'])}`;
        idsByMessage.set(id, (idsByMessage.get(id) ?? new Set()).add(String(req.headers['webhook-id'])));
      }
      for (const ids of idsByMessage.values()) expect(ids.size).toBe(1);
    } finally {
      delivery?.child.kill('SIGKILL');
      await delivery?.exit;
      await endpoint.stop();
      await harness.close();
    }
  });
});

describe('a delivery worker stopped while an endpoint is answering', () => {
  it('when it gets SIGTERM during a 7 s answer (with a NUL in its body), then the attempt is recorded delivered, once, before it exits', async () => {
    const harness = await Harness.create('delivery-stop', [acme]);
    const endpoint = await new SubscriberEndpoint().start();
    // Longer than the 5 s the stopping worker gives its records to be written, shorter than its timeout.
    endpoint.answer = () => ({ status: 200, delayMs: 7000, body: 'ok\u0000' });
    let delivery: Spawned | undefined;
    try {
      const database = await harness.database();
      const api = await harness.start('api', { ...DELIVERY_ENV, DATABASE_URL: database });
      await harness.start('worker', { DATABASE_URL: database });
      const made = await request(api.handle.url)
        .post('/v1/subscriptions')
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .send({ tenantId: 'acme', url: `${endpoint.url}/slow`, filter: ['message.*'] });
      expect(made.status).toBe(201);
      delivery = spawnService(
        harness.env({ ...DELIVERY_ENV, DATABASE_URL: database, ROLE: 'delivery', DELIVERY_TIMEOUT_MS: '10000', SHUTDOWN_TIMEOUT_MS: '30000' }),
      );
      await delivery.started(60_000);
      const wamid = `wamid.stop-${harness.id}`;
      expect((await harness.post(api, webhook(acme.businessAccountId, [messagesChange({ messages: [text(wamid)] })]), acme.appSecret)).status).toBe(200);
      await eventually(() => endpoint.requests.length === 1, 20_000, 'the attempt under way');
      delivery.child.kill('SIGTERM');
      expect(await delivery.exit).toBe(0);

      const db = new Pool({ connectionString: database, max: 1 });
      const { rows } = await db.query<{ status: string; attempts: number; logged: string; response: string }>(
        `SELECT d.status, d.attempts, (SELECT count(*) FROM delivery_attempts a WHERE a.delivery_id = d.id) AS logged,
                (SELECT a.response FROM delivery_attempts a WHERE a.delivery_id = d.id LIMIT 1) AS response
         FROM deliveries d WHERE d.subscription_id = $1`,
        [(made.body as Created).id],
      );
      await db.end();
      expect(rows).toEqual([{ status: 'delivered', attempts: 1, logged: '1', response: 'ok\ufffd' }]);
      expect(endpoint.requests).toHaveLength(1);
    } finally {
      delivery?.child.kill('SIGKILL');
      await delivery?.exit;
      await endpoint.stop();
      await harness.close();
    }
  });
});
