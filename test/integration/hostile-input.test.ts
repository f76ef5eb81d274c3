import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tenant } from '../helpers/fixtures';
import { Harness, type RunningService } from '../helpers/harness';
import { postRaw, WRONG_SIGNATURE, type RawAnswer } from '../helpers/http-post';
import { HttpStub } from '../helpers/http-stub';
import { spawnService, type Spawned } from '../helpers/process';
import { eventually, sleep } from '../helpers/wait';
import { messagesChange, text, webhook } from '../helpers/webhooks';

jest.setTimeout(180_000);

const acme = tenant('acme', '870000000000001', 'acme-secret', { rateLimitPerMinute: 100_000 });
const BAD_SIGNATURE = WRONG_SIGNATURE;

const postUnsigned = postRaw;

/** The process's resident memory, or undefined once it has exited (so a sampler never throws). */
function rssBytes(pid: number): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const line = status.split('\n').find((l) => l.startsWith('VmRSS:')) ?? '';
  return Number(/(\d+)/.exec(line)?.[1] ?? 0) * 1024;
}

async function redisKeys(harness: Harness): Promise<string[]> {
  return harness.redis().keys(`${harness.prefix}*`);
}

describe('hostile input at the receiver', () => {
  describe('a receiver in a process of its own', () => {
    let harness: Harness;
    let receiver: Spawned;
    let url: string;
    let keysBefore: string[];

    beforeAll(async () => {
      harness = await Harness.create('hostile-rss', [acme]);
      receiver = spawnService({ ...harness.env(), ROLE: 'api', LOG_LEVEL: 'info' });
      ({ url } = await receiver.started(60_000));
      // Warm up: the first requests load code and grow the heap once.
      for (let i = 0; i < 20; i++) await postUnsigned(url, webhook(acme.businessAccountId, [messagesChange({ messages: [text(`wamid.warm-${i}`)] })]));
      // What start-up wrote (the tenants file warmed into the cache): nothing an unsigned request may add to.
      keysBefore = (await redisKeys(harness)).sort();
    });
    afterAll(async () => {
      receiver.child.kill('SIGKILL');
      await receiver.exit;
      await harness.close();
    });

    /**
     * Sends 150 POSTs of `body` at once, after a few to let the heap grow once to hold bodies of
     * that size (what any large webhook costs): the answers, and how much the flood added to the
     * receiver's RSS at its peak.
     */
    const flood = async (body: Buffer): Promise<{ answers: RawAnswer[]; growth: number }> => {
      for (let i = 0; i < 5; i++) await Promise.all([postUnsigned(url, body), postUnsigned(url, body)]);
      await sleep(500);
      const pid = receiver.child.pid!;
      const before = rssBytes(pid)!;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid) ?? 0)), 20);
      try {
        const answers = await Promise.all(Array.from({ length: 150 }, () => postUnsigned(url, body)));
        return { answers, growth: Math.max(peak, rssBytes(pid) ?? 0) - before };
      } catch (err) {
        // A connection cut without an answer: say whether the receiver died, and why.
        const exited = receiver.child.exitCode !== null || receiver.child.signalCode !== null;
        const how = exited ? `exited (${receiver.child.exitCode ?? receiver.child.signalCode}): ${receiver.stderr.join('').slice(-2000)}` : 'is still running';
        throw new Error(`a POST got no answer (${String(err)}); the receiver ${how}`, { cause: err });
      } finally {
        clearInterval(sampler);
      }
    };
    /** Refused with `code` (`status`), or shed before the body was read (503, Retry-After): never accepted. */
    const expectRefused = (answers: RawAnswer[], status: number, code: string): void => {
      expect(answers.every((a) => a.status === status || a.status === 503)).toBe(true);
      expect(answers.filter((a) => a.status === status).every((a) => a.body.includes(code))).toBe(true);
      expect(answers.filter((a) => a.status === 503).every((a) => a.body.includes('receiver_busy') && a.headers['retry-after'] === '1')).toBe(true);
    };

    it('when 150 unsigned POSTs of 3.4 MB each (one huge entry id) arrive at once, then all are refused and RSS grows by less than 64 MB', async () => {
      const huge = Buffer.from(JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '9'.repeat(3_400_000), changes: [] }] }));
      const { answers, growth } = await flood(huge);
      expectRefused(answers, 400, 'invalid_account_id');
      expect(growth).toBeLessThan(64 * 1024 * 1024);
      expect((await redisKeys(harness)).sort()).toEqual(keysBefore);
    });

    it('when 150 POSTs of 3.4 MB each name a real tenant with a wrong signature, then all are refused with 401 and RSS grows by less than 64 MB', async () => {
      const change = {
        field: 'messages',
        value: { metadata: { phone_number_id: '1' }, messages: [{ id: 'wamid.forged', type: 'text', text: { body: 'x'.repeat(3_400_000) } }] },
      };
      const forged = Buffer.from(JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: acme.businessAccountId, changes: [change] }] }));
      const { answers, growth } = await flood(forged);
      expectRefused(answers, 401, 'signature_invalid');
      expect(growth).toBeLessThan(64 * 1024 * 1024);
      expect((await redisKeys(harness)).sort()).toEqual(keysBefore);
    });

    it('when an unsigned POST carries 100,000 entries, then it is refused as too many updates and writes nothing to Redis', async () => {
      const entries = Array.from({ length: 100_000 }, (_, i) => ({ id: String(800_000_000_000 + i), changes: [] }));
      const answer = await postUnsigned(url, JSON.stringify({ object: 'whatsapp_business_account', entry: entries }));
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'too_many_updates' } });
      expect((await redisKeys(harness)).sort()).toEqual(keysBefore);
    });

    it('when unsigned POSTs name many unknown accounts, then each is a 404 and no negative-cache key reaches Redis', async () => {
      for (let i = 0; i < 30; i++) {
        const answer = await postUnsigned(url, webhook(`77000000000${i}`, [messagesChange({ messages: [text(`wamid.u-${i}`)] })]));
        expect(answer.status).toBe(404);
      }
      expect((await redisKeys(harness)).sort()).toEqual(keysBefore);
    });
  });

  describe('a receiver in this process', () => {
    let harness: Harness;
    let api: RunningService;
    let tenantService: HttpStub;

    beforeAll(async () => {
      harness = await Harness.create('hostile', [acme]);
      api = await harness.start('api', {
        MAX_ACCOUNTS_PER_WEBHOOK: '2',
        RECEIVER_MAX_INFLIGHT_BYTES: '200000',
        HTTP_REQUEST_TIMEOUT_MS: '1500',
        HTTP_HEADERS_TIMEOUT_MS: '1000',
      });
      tenantService = await new HttpStub().start();
    });
    afterAll(async () => {
      await harness.close();
      await tenantService.stop();
    });

    it.each([
      ['an entry id with a space', webhook('12 34', []), 400, 'invalid_account_id'],
      [
        'a phone number id of 65 characters',
        JSON.stringify({
          object: 'whatsapp_business_account',
          entry: [{ id: '1', changes: [{ field: 'messages', value: { metadata: { phone_number_id: '1'.repeat(65) } } }] }],
        }),
        400,
        'invalid_account_id',
      ],
      [
        'three distinct accounts (limit 2)',
        JSON.stringify({ object: 'whatsapp_business_account', entry: ['1', '2', '3'].map((id) => ({ id, changes: [] })) }),
        400,
        'too_many_accounts',
      ],
    ])('when the POST carries %s, then it is refused before any tenant lookup', async (_what, body, status, code) => {
      const answer = await postUnsigned(api.handle.url, body);
      expect(answer.status).toBe(status);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code } });
      expect(harness.parsedLogs().some((l) => l.code === code && typeof l.correlationId === 'string')).toBe(true);
      expect((await api.metrics.webhookReceived.get()).values.some((v) => v.labels.status === code)).toBe(true);
    });

    it('when a client holds the body budget with a slow upload, then a second large POST is shed with 503 and Retry-After before its body is read', async () => {
      const slow = new Socket();
      await new Promise<void>((resolve) => slow.connect(Number(new URL(api.handle.url).port), '127.0.0.1', resolve));
      slow.on('error', () => undefined).resume();
      slow.write(
        `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hub-Signature-256: ${BAD_SIGNATURE}\r\nContent-Length: 150000\r\n\r\n{`,
      );
      await sleep(200);
      const shed = await postUnsigned(api.handle.url, Buffer.alloc(100_000, 0x20));
      expect(shed.status).toBe(503);
      expect(shed.headers['retry-after']).toBe('1');
      expect(JSON.parse(shed.body)).toMatchObject({ error: { code: 'receiver_busy' } });
      expect((await api.metrics.receiverShed.get()).values[0]?.value).toBe(1);
      // The slow client is cut at HTTP_REQUEST_TIMEOUT_MS, and its reservation is given back.
      const closed = await eventually(() => slow.destroyed || slow.readableEnded, 5_000, 'the slow client to be cut');
      expect(closed).toBe(true);
      await eventually(async () => (await api.metrics.receiverInflightBytes.get()).values[0]?.value === 0, 5_000, 'the reservation to be released');
      slow.destroy();
    });

    it('when a client sends its headers one byte at a time, then the connection is closed at HTTP_HEADERS_TIMEOUT_MS', async () => {
      const drip = new Socket();
      await new Promise<void>((resolve) => drip.connect(Number(new URL(api.handle.url).port), '127.0.0.1', resolve));
      drip.on('error', () => undefined).resume();
      const started = Date.now();
      const header = 'POST /webhook HTTP/1.1\r\nHost: x\r\nX-Slow: ';
      let i = 0;
      const timer = setInterval(() => drip.writable && drip.write(header[i++ % header.length] ?? 'a'), 100);
      await eventually(() => drip.destroyed || drip.readableEnded, 10_000, 'the dripping client to be cut');
      clearInterval(timer);
      expect(Date.now() - started).toBeLessThan(8_000);
      drip.destroy();
    });
  });

  describe('a Tenant Service that answers 4xx', () => {
    let harness: Harness;
    let api: RunningService;
    let tenants: HttpStub;

    beforeAll(async () => {
      tenants = await new HttpStub().start();
      tenants.handler = (req) => (req.path.endsWith(`/${acme.businessAccountId}`) ? { status: 200, body: acme } : { status: 400 });
      harness = await Harness.create('hostile-ts', []);
      api = await harness.start('api', {
        TENANTS_FILE: '',
        TENANT_SERVICE_URL: tenants.url,
        TENANT_MEMORY_CACHE_TTL_SECONDS: '0',
        BREAKER_VOLUME_THRESHOLD: '3',
        TENANT_CACHE_TTL_SECONDS: '1',
      });
    });
    afterAll(async () => {
      await harness.close();
      await tenants.stop();
    });

    it('when unsigned senders make it answer 400 and 403 for their ids, then the breaker stays closed and the real tenant is still served', async () => {
      for (let i = 0; i < 20; i++) {
        const answer = await postUnsigned(api.handle.url, webhook(`66000000000${i}`, [messagesChange({ messages: [text(`wamid.ts-${i}`)] })]));
        expect(answer.status).toBe(404);
      }
      tenants.handler = (req) => (req.path.endsWith(`/${acme.businessAccountId}`) ? { status: 200, body: acme } : { status: 403 });
      for (let i = 20; i < 30; i++) {
        const answer = await postUnsigned(api.handle.url, webhook(`66000000000${i}`, [messagesChange({ messages: [text(`wamid.ts-${i}`)] })]));
        expect(answer.status).toBe(500);
        expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'tenant_service_rejected' } });
      }
      const state = (await api.metrics.circuitState.get()).values.find((v) => v.labels.name === 'tenant_service')?.value;
      expect(state).toBe(0);
      await sleep(1100); // the cached record expires: the service is asked again
      const real = await harness.post(api, webhook(acme.businessAccountId, [messagesChange({ messages: [text('wamid.ts-real')] })]), acme.appSecret);
      expect(real.status).toBe(200);
    });
  });
});
