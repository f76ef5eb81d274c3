import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import request from 'supertest';
import { EXCHANGES, QUEUES } from '../../src/messaging';
import { listUpdates, parseEnvelope, shardsOf, type Update } from '../../src/meta';
import { signPayload } from '../../src/receiver';
import { FIXTURE_SECRET, fixtureTenants, tenant, webhookFixtures } from '../helpers/fixtures';
import { Harness, HARNESS_SHARDS, type RunningService } from '../helpers/harness';
import { stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';
import { messagesChange, text, webhook } from '../helpers/webhooks';

jest.setTimeout(120_000);

const tenantA = tenant('tenant-a', '900000000000001', 'secret-of-a', { verifyToken: 'verify-a' });
const tenantB = tenant('tenant-b', '900000000000002', 'secret-of-b', { verifyToken: 'verify-b' });

function payloadFor(accountId: string, wamid = `wamid.${Math.random().toString(36).slice(2)}`): string {
  return webhook(accountId, [messagesChange({ messages: [text(wamid, 'hi there')] })]);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Hand-offs a payload makes: per account (each fixture account is one tenant), one per shard its updates fall in. */
function shardsSpanned(bytes: Buffer): number {
  const byAccount = new Map<string, Update[]>();
  for (const update of listUpdates(parseEnvelope(bytes).entries)) byAccount.set(update.accountId, [...(byAccount.get(update.accountId) ?? []), update]);
  return [...byAccount.values()].reduce((n, updates) => n + new Set(shardsOf(updates, HARNESS_SHARDS)).size, 0) || 1;
}

describe('receiver', () => {
  let harness: Harness;
  let api: RunningService;

  beforeAll(async () => {
    harness = await Harness.create('receiver', [...fixtureTenants(), tenantA, tenantB]);
    api = await harness.start('api');
  });
  afterAll(async () => harness.close());

  /** Whether tenant A's raw bucket holds a payload for each of `wamids`. */
  const archivedAll = async (wamids: readonly string[]): Promise<boolean> => {
    const found = new Set<string>();
    for await (const o of harness.objects().list(harness.rawBucket, `${tenantA.id}/`)) {
      const stored = (await harness.objects().get(harness.rawBucket, o.key))?.body.toString() ?? '';
      for (const wamid of wamids) if (stored.includes(wamid)) found.add(wamid);
    }
    return wamids.every((wamid) => found.has(wamid));
  };

  describe('when every published fixture is posted, signed with its tenant secret', () => {
    const fixtures = webhookFixtures().filter((f) => (f.json.entry?.length ?? 0) > 0);
    const responses: Array<{ name: string; correlationId: string; tenantId: string }> = [];
    // A queue of our own on the shards exchange (as an operator may bind one, with `#`), so the
    // hand-offs can be read here while the shard queues keep them for the worker.
    const tap = `test.handoff-tap`;
    beforeAll(async () => {
      await harness.amqp().queueDeclare({ queue: tap, durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await harness.amqp().queueBind({ queue: tap, exchange: EXCHANGES.shards, routingKey: '#' });
    });

    it('then each answers 200, makes one hand-off per shard its conversations fall in, and the same POST again makes none', async () => {
      expect(fixtures.length).toBeGreaterThan(140);
      const accountToTenant = new Map(harness.tenants.map((t) => [t.businessAccountId, t.id]));
      let handoffs = await harness.handoffDepth();
      for (const f of fixtures) {
        await harness.clearMarks();
        const first = await harness.post(api, f.bytes, FIXTURE_SECRET);
        expect({ name: f.name, status: first.status, body: first.body as unknown }).toMatchObject({ name: f.name, status: 200, body: { status: 'accepted' } });
        handoffs += shardsSpanned(f.bytes);
        expect(await harness.handoffDepth()).toBe(handoffs);
        responses.push({
          name: f.name,
          correlationId: first.headers['x-correlation-id'] as string,
          tenantId: accountToTenant.get(String(f.json.entry?.[0]?.id))!,
        });

        const again = await harness.post(api, f.bytes, FIXTURE_SECRET);
        expect({ name: f.name, status: again.status, body: again.body as unknown }).toMatchObject({ name: f.name, status: 200, body: { status: 'duplicate' } });
        expect(await harness.handoffDepth()).toBe(handoffs);
      }
      // One durable copy per webhook: the worker archives beside its events, not from a second queue.
      expect(await harness.depth(QUEUES.archive)).toBe(0);
    });

    it('then each hand-off carries the exact bytes, the tenant, a raw key, the correlation id and its shard', async () => {
      const reader = harness.reader(tap);
      const total = fixtures.reduce((n, f) => n + shardsSpanned(f.bytes), 0);
      const messages = await reader.waitFor(total);
      expect(messages).toHaveLength(total);
      fixtures.forEach((f, i) => {
        const expected = responses[i]!;
        const mine = messages.filter((msg) => msg.correlationId === expected.correlationId);
        expect({ name: f.name, handoffs: mine.length }).toEqual({ name: f.name, handoffs: shardsSpanned(f.bytes) });
        expect(new Set(mine.map((msg) => String(msg.headers?.['x-shard']))).size).toBe(mine.length);
        for (const msg of mine) {
          expect(Buffer.isBuffer(msg.body) && msg.body.equals(f.bytes)).toBe(true);
          expect(msg.headers?.['x-tenant-id']).toBe(expected.tenantId);
          expect(msg.headers?.['x-raw-key']).toMatch(new RegExp(`^${expected.tenantId}/\\d{4}-\\d{2}-\\d{2}/\\d{13}-[A-Za-z0-9._=-]+\\.json$`));
          expect(msg.headers?.['x-shard']).toMatch(/^[01]\/2$/);
          expect(msg.messageId).toEqual(expect.any(String));
        }
        // One archive per payload: every hand-off but the first says it is taken care of.
        expect(mine.filter((msg) => msg.headers?.['x-archived'] !== true)).toHaveLength(1);
      });
      await reader.close();
    });

    it('then a worker archives every payload byte for byte under its tenant', async () => {
      const worker = await harness.start('worker');
      const objects = harness.objects();
      const listed = await eventually(
        async () => {
          const keys: string[] = [];
          for await (const o of objects.list(harness.rawBucket, '')) keys.push(o.key);
          return keys.length >= fixtures.length ? keys : undefined;
        },
        60_000,
        'every raw payload archived',
      );
      expect(listed).toHaveLength(fixtures.length);
      const expected = new Map(fixtures.map((f) => [sha(f.bytes), f.name]));
      const seen = new Set<string>();
      for (const key of listed) {
        const stored = await objects.get(harness.rawBucket, key);
        const digest = sha(stored!.body);
        expect(expected.has(digest)).toBe(true);
        seen.add(digest);
        expect(stored!.metadata['tenant-id']).toBe(key.split('/')[0]);
      }
      expect(seen.size).toBe(expected.size);
      // The worker counts each payload it wrote, once.
      const archivedCount = (await worker.metrics.rawArchived.get()).values.reduce((n, v) => n + v.value, 0);
      expect(archivedCount).toBe(fixtures.length);
      await worker.handle.stop();
    });

    it('then the metrics count what was accepted and what was a duplicate', async () => {
      const metric = await api.metrics.webhookReceived.get();
      const total = (status: string): number => metric.values.filter((v) => v.labels.status === status).reduce((n, v) => n + v.value, 0);
      expect(total('accepted')).toBeGreaterThanOrEqual(fixtures.length);
      expect(total('duplicate')).toBe(total('accepted'));
    });
  });

  describe('when the input is bad', () => {
    const good = payloadFor(tenantA.businessAccountId);
    const cases: Array<{ name: string; send: () => request.Test; status: number; code: string }> = [
      {
        name: 'the signature header is missing',
        send: () => request(api.handle.url).post('/webhook').set('Content-Type', 'application/json').send(good),
        status: 401,
        code: 'signature_missing',
      },
      {
        name: 'the signature header is malformed',
        send: () => request(api.handle.url).post('/webhook').set('Content-Type', 'application/json').set('X-Hub-Signature-256', 'sha1=abc').send(good),
        status: 401,
        code: 'signature_malformed',
      },
      { name: 'the signature is wrong', send: () => harness.post(api, good, 'not-the-secret'), status: 401, code: 'signature_invalid' },
      {
        name: 'the body was changed after signing',
        send: () =>
          request(api.handle.url)
            .post('/webhook')
            .set('Content-Type', 'application/json')
            .set('X-Hub-Signature-256', signPayload(good, tenantA.appSecret))
            .send(good.replace('hi there', 'hi thera')),
        status: 401,
        code: 'signature_invalid',
      },
      { name: 'the account is unknown', send: () => harness.post(api, payloadFor('404404404'), 'anything'), status: 404, code: 'unknown_account' },
      {
        name: 'the JSON is malformed',
        send: () => harness.post(api, '{"object": "whatsapp_business_account", "entry": [', 'x'),
        status: 400,
        code: 'malformed_json',
      },
      {
        name: 'the object is not WhatsApp',
        send: () => harness.post(api, JSON.stringify({ object: 'instagram', entry: [] }), 'x'),
        status: 422,
        code: 'unsupported_object',
      },
      {
        name: 'entry is not an array',
        send: () => harness.post(api, JSON.stringify({ object: 'whatsapp_business_account', entry: {} }), 'x'),
        status: 400,
        code: 'invalid_envelope',
      },
      {
        name: 'entry is empty',
        send: () => harness.post(api, JSON.stringify({ object: 'whatsapp_business_account', entry: [] }), 'x'),
        status: 400,
        code: 'empty_entry',
      },
      {
        name: 'the content type is not JSON',
        send: () => harness.post(api, good, tenantA.appSecret, { 'Content-Type': 'text/plain' }),
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        name: 'the body is over the limit',
        send: () => harness.post(api, JSON.stringify({ object: 'whatsapp_business_account', entry: [], pad: 'x'.repeat(3_670_017) }), 'x'),
        status: 413,
        code: 'payload_too_large',
      },
    ];

    it.each(cases)('when $name, then $status $code, a log line with the correlation id, a metric, and no hand-off', async ({ send, status, code }) => {
      const before = await harness.handoffDepth();
      const countBefore = (await api.metrics.webhookReceived.get()).values.filter((v) => v.labels.status === code).reduce((n, v) => n + v.value, 0);
      const res = await send().set('X-Correlation-Id', `bad-${code}`);
      expect(res.status).toBe(status);
      expect(res.body).toEqual({ error: { code, message: expect.any(String), correlationId: `bad-${code}` } });
      expect(res.headers['x-correlation-id']).toBe(`bad-${code}`);
      expect(await harness.handoffDepth()).toBe(before);
      const lines = harness.parsedLogs().filter((l) => l.correlationId === `bad-${code}`);
      expect(lines.some((l) => l.code === code && l.message === 'request' && l.status === status)).toBe(true);
      const countAfter = (await api.metrics.webhookReceived.get()).values.filter((v) => v.labels.status === code).reduce((n, v) => n + v.value, 0);
      expect(countAfter).toBe(countBefore + 1);
    });
  });

  describe('when the request is unusual at the HTTP level', () => {
    /** Writes a request by hand, half-closes, and returns whatever came back before the socket closed. */
    const rawRequest = (head: string, body: Buffer): Promise<string> =>
      new Promise((resolve, reject) => {
        const { port } = new URL(api.handle.url);
        const socket = connect(Number(port), '127.0.0.1');
        let answer = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (answer += chunk));
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
        socket.end(Buffer.concat([Buffer.from(head.replaceAll('\n', '\r\n')), body]));
      });

    it('then a compressed body gets 415 unsupported_encoding and no hand-off', async () => {
      const before = await harness.handoffDepth();
      const res = await harness.post(api, payloadFor(tenantA.businessAccountId), tenantA.appSecret, { 'Content-Encoding': 'gzip' });
      expect(res.status).toBe(415);
      expect((res.body as { error: { code: string } }).error.code).toBe('unsupported_encoding');
      expect(await harness.handoffDepth()).toBe(before);
    });

    it('then a body that ends before its Content-Length is not handed off, and its log line says body_incomplete', async () => {
      const before = await harness.handoffDepth();
      const body = Buffer.from(payloadFor(tenantA.businessAccountId));
      const head = `POST /webhook HTTP/1.1\nHost: x\nContent-Type: application/json\nX-Correlation-Id: short-body\nX-Hub-Signature-256: ${signPayload(body, tenantA.appSecret)}\nContent-Length: ${body.length + 100}\n\n`;
      const answer = await rawRequest(head, body);
      // The client is gone (it closed its side): whether it still reads an answer is up to it.
      expect(answer === '' || answer.startsWith('HTTP/1.1 400')).toBe(true);
      await eventually(async () => harness.parsedLogs().some((l) => l.correlationId === 'short-body' && l.code === 'body_incomplete'), 5_000, 'error line');
      expect(await harness.handoffDepth()).toBe(before);
    });

    it('then a query string or another spelling of the path is served as POST /webhook', async () => {
      const before = await harness.handoffDepth();
      const answered = async (): Promise<number> =>
        (await api.metrics.httpDuration.get()).values
          .filter((v) => v.metricName === 'http_request_duration_seconds_count' && v.labels.route === '/webhook' && String(v.labels.status) === '200')
          .reduce((n, v) => n + v.value, 0);
      const answeredBefore = await answered();
      for (const path of ['/webhook?source=meta', '/Webhook/']) {
        const body = payloadFor(tenantA.businessAccountId);
        const res = await request(api.handle.url)
          .post(path)
          .set('Content-Type', 'application/json; charset=UTF-8')
          .set('X-Hub-Signature-256', signPayload(body, tenantA.appSecret))
          .set('X-Correlation-Id', `path-${path.length}`)
          .send(body);
        expect({ path, status: res.status, body: res.body as unknown }).toEqual({
          path,
          status: 200,
          body: { status: 'accepted', correlationId: `path-${path.length}` },
        });
        expect(res.headers['x-ratelimit-limit']).toEqual(expect.any(String));
      }
      expect(await harness.handoffDepth()).toBe(before + 2);
      // Both counted as the webhook route (their request lines are at debug, below this harness's level).
      expect(await answered()).toBe(answeredBefore + 2);
    });
  });

  describe('when two tenants have different secrets and verify tokens', () => {
    it('then each tenant is accepted with its own secret and refused with the other', async () => {
      expect((await harness.post(api, payloadFor(tenantA.businessAccountId), tenantA.appSecret)).status).toBe(200);
      expect((await harness.post(api, payloadFor(tenantB.businessAccountId), tenantB.appSecret)).status).toBe(200);
      const crossed = await harness.post(api, payloadFor(tenantA.businessAccountId), tenantB.appSecret);
      expect(crossed.status).toBe(401);
      expect((crossed.body as { error: { code: string } }).error.code).toBe('signature_invalid');
    });

    it("then GET /webhook echoes the challenge for either tenant's verify token and refuses any other", async () => {
      for (const token of ['verify-a', 'verify-b']) {
        const res = await request(api.handle.url).get('/webhook').query({ 'hub.mode': 'subscribe', 'hub.verify_token': token, 'hub.challenge': '1158201444' });
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/^text\/plain/);
        expect(res.text).toBe('1158201444');
      }
      const wrong = await request(api.handle.url).get('/webhook').query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'nope', 'hub.challenge': '1' });
      expect(wrong.status).toBe(403);
      const incomplete = await request(api.handle.url).get('/webhook').query({ 'hub.mode': 'subscribe' });
      expect(incomplete.status).toBe(400);
    });
  });

  describe('when RabbitMQ is down', () => {
    it('then the webhook gets 503 and leaves no hand-off behind, and once the broker is back the same payload is accepted and handed off once', async () => {
      const body = payloadFor(tenantA.businessAccountId);
      const failures = async (reason: string): Promise<number> =>
        (await api.metrics.rabbitmqPublishFailures.get()).values.find((v) => v.labels.target === 'handoff' && v.labels.reason === reason)?.value ?? 0;
      const before = await harness.handoffDepth();
      const timeoutsBefore = await failures('timeout');
      await stack('stop', 'rabbitmq');
      let refused;
      try {
        refused = await harness.post(api, body, tenantA.appSecret);
      } finally {
        await stack('start', 'rabbitmq');
      }
      expect(refused.status).toBe(503);
      expect((refused.body as { error: { code: string } }).error.code).toBe('broker_unavailable');
      // Refused without being sent: the publish waited for the connection, which was not back in time.
      expect(await failures('connection')).toBeGreaterThanOrEqual(1);
      expect(await failures('timeout')).toBe(timeoutsBefore);

      await eventually(async () => (await request(api.handle.url).get('/ready')).status === 200, 30_000, 'receiver ready again');
      // A publish held back for the reconnect would land now: a hand-off for a webhook answered 503.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await harness.handoffDepth()).toBe(before);
      const accepted = await harness.post(api, body, tenantA.appSecret);
      expect(accepted.body).toMatchObject({ status: 'accepted' });
      expect(await harness.handoffDepth()).toBe(before + 1);
      const again = await harness.post(api, body, tenantA.appSecret);
      expect(again.body).toMatchObject({ status: 'duplicate' });
      expect(await harness.handoffDepth()).toBe(before + 1);
    });
    it('then a webhook that arrives while the broker restarts waits for it, within its confirm timeout, and is accepted and handed off once', async () => {
      const patient = await harness.start('api', { PUBLISH_CONFIRM_TIMEOUT_MS: '30000' });
      const body = payloadFor(tenantA.businessAccountId);
      const before = await harness.handoffDepth();
      await stack('stop', 'rabbitmq');
      let answer;
      try {
        const posted = harness.post(patient, body, tenantA.appSecret);
        await new Promise((resolve) => setTimeout(resolve, 500));
        await stack('start', 'rabbitmq');
        answer = await posted;
      } finally {
        await stack('start', 'rabbitmq');
      }
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ status: 'accepted' });
      await eventually(async () => (await harness.handoffDepth()) >= before + 1, 10_000, 'the hand-off in the process queue');
      expect(await harness.handoffDepth()).toBe(before + 1);
      await patient.handle.stop();
    });
  });

  describe('when the object store is down', () => {
    it('then the webhook is still acknowledged fast, its events are published, and its archive appears once the store is back', async () => {
      // Hand-offs count as late only after a minute here: this case is about the store failing.
      const worker = await harness.start('worker', { WORKER_ARCHIVE_DEFER_AFTER_MS: '60000' });
      const events = harness.reader(QUEUES.messages);
      const wamid = `wamid.s3-outage-${harness.id}`;
      await stack('stop', 's3');
      let res: request.Response | undefined;
      let elapsed: number | undefined;
      try {
        const started = performance.now();
        res = await harness.post(api, payloadFor(tenantA.businessAccountId, wamid), tenantA.appSecret);
        elapsed = performance.now() - started;
        await eventually(() => events.bodies().some((e) => e.messageId === wamid), 15_000, 'the event while the store is down');
        expect(
          await harness
            .objects()
            .exists(harness.rawBucket, 'x')
            .catch(() => 'down'),
        ).toBe('down');
      } finally {
        await stack('start', 's3');
      }
      expect(res?.status).toBe(200);
      expect(elapsed).toBeLessThan(1_000);
      const key = await eventually(
        async () => {
          for await (const o of harness.objects().list(harness.rawBucket, `${tenantA.id}/`)) {
            const stored = await harness.objects().get(harness.rawBucket, o.key);
            if (stored?.body.toString().includes(wamid)) return o.key;
          }
          return undefined;
        },
        30_000,
        'the raw archive after the store came back',
      );
      expect(key).toMatch(new RegExp(`^${tenantA.id}/`));
      // The PUT failed beside the events, so the hand-off went to the archive queue, whose consumer wrote it.
      const deferred = await worker.metrics.rawArchiveDeferred.get();
      expect(deferred.values.find((v) => v.labels.tenant === tenantA.id && v.labels.reason === 'store_failed')?.value).toBeGreaterThanOrEqual(1);
      await worker.handle.stop();
      await events.close(); // a reader left open would share the queue's deliveries with the next test's
    });
  });

  describe('when the object store is slower than the traffic', () => {
    it('then past WORKER_MAX_INLINE_ARCHIVES PUTs under way the archives go to the archive queue, events are not held, and every archive is written once the store answers', async () => {
      // Three hand-offs at once: without the cap, three hung PUTs would hold them and the other events would wait.
      const worker = await harness.start('worker', { WORKER_MAX_INLINE_ARCHIVES: '2', RABBITMQ_PREFETCH: '3', WORKER_ARCHIVE_DEFER_AFTER_MS: '60000' });
      const events = harness.reader(QUEUES.messages);
      const wamids = Array.from({ length: 6 }, (_, i) => `wamid.s3-slow-${i}-${harness.id}`);
      // The S3 server stops answering but keeps its connections: PUTs hang instead of failing.
      await stack('pause', 's3');
      try {
        for (const wamid of wamids) {
          expect((await harness.post(api, payloadFor(tenantA.businessAccountId, wamid), tenantA.appSecret)).status).toBe(200);
        }
        await eventually(() => wamids.every((wamid) => events.bodies().some((e) => e.messageId === wamid)), 10_000, 'every event while the store hangs');
        // Two PUTs hang beside their events; the other four did not wait for one (counted once the copy is confirmed).
        const busy = async (): Promise<number> =>
          (await worker.metrics.rawArchiveDeferred.get()).values.find((v) => v.labels.tenant === tenantA.id && v.labels.reason === 'store_busy')?.value ?? 0;
        await eventually(async () => (await busy()) >= 4, 5_000, 'four raw payloads handed to the archive queue');
      } finally {
        await stack('resume', 's3');
      }
      await eventually(() => archivedAll(wamids), 30_000, 'every raw archive once the store answers');
      await worker.handle.stop();
      await events.close();
    });
  });

  describe('when hand-offs reach the worker late (it is behind)', () => {
    it('then their events are published at once and their archives wait in the archive queue until the worker has caught up', async () => {
      const wamids = Array.from({ length: 3 }, (_, i) => `wamid.late-${i}-${harness.id}`);
      // No worker yet: the hand-offs wait in the broker, as when workers are short of CPU.
      for (const wamid of wamids) {
        expect((await harness.post(api, payloadFor(tenantA.businessAccountId, wamid), tenantA.appSecret)).status).toBe(200);
      }
      await new Promise((r) => setTimeout(r, 600));
      const worker = await harness.start('worker', { WORKER_ARCHIVE_DEFER_AFTER_MS: '300' });
      const events = harness.reader(QUEUES.messages);
      await eventually(() => wamids.every((wamid) => events.bodies().some((e) => e.messageId === wamid)), 10_000, "the late webhooks' events");
      const behind = async (): Promise<number> =>
        (await worker.metrics.rawArchiveDeferred.get()).values.find((v) => v.labels.tenant === tenantA.id && v.labels.reason === 'worker_behind')?.value ?? 0;
      await eventually(async () => (await behind()) >= 3, 5_000, 'three raw payloads handed to the archive queue as late');
      await eventually(() => archivedAll(wamids), 30_000, 'every late webhook archived once the worker caught up');
      await worker.handle.stop();
      await events.close();
    });
  });
});
