import { QUEUES } from '../../src/messaging';
import type { InboundEvent } from '../../src/contract';
import { tenant } from '../helpers/fixtures';
import { Harness, type QueueReader, type RunningService } from '../helpers/harness';
import { HttpStub } from '../helpers/http-stub';
import { eventually, sleep } from '../helpers/wait';
import { messagesChange, notification, text, webhook } from '../helpers/webhooks';

jest.setTimeout(90_000);

const acme = tenant('acme', '890000000000001', 'acme-secret');
let seq = 0;
/** A text from `waId` to `accountId`, with its wamid. */
function textWebhook(accountId: string, waId = '447700900123'): { body: string; wamid: string } {
  const wamid = `wamid.ext-${seq++}`;
  return { body: webhook(accountId, [messagesChange({ messages: [text(wamid, 'x', waId)] }, waId)]), wamid };
}
const breakerState = async (service: RunningService, name: string): Promise<number | undefined> =>
  (await service.metrics.circuitState.get()).values.find((v) => v.labels.name === name)?.value;

describe('external services', () => {
  describe('when the Tenant Service keeps failing', () => {
    let harness: Harness;
    let tenants: HttpStub;
    let api: RunningService;

    beforeAll(async () => {
      tenants = await new HttpStub().start();
      tenants.handler = (req) => (req.path.endsWith(`/${acme.businessAccountId}`) ? { status: 200, body: acme } : { status: 404 });
      harness = await Harness.create('breaker', []);
      api = await harness.start('api', {
        TENANTS_FILE: '',
        TENANT_SERVICE_URL: tenants.url,
        TENANT_MEMORY_CACHE_TTL_SECONDS: '0',
        EXTERNAL_MAX_ATTEMPTS: '2',
        EXTERNAL_RETRY_DELAY_MS: '10',
        BREAKER_VOLUME_THRESHOLD: '3',
        BREAKER_RESET_TIMEOUT_MS: '1000',
      });
    });
    afterAll(async () => {
      await harness.close();
      await tenants.stop();
    });

    it('then its circuit opens (calls stop reaching it, answers are an immediate 503) and closes again once it recovers', async () => {
      expect(await breakerState(api, 'tenant_service')).toBe(0);
      tenants.failWith = 500;
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await harness.post(api, textWebhook(`89000000000010${i}`).body, 'x')).status);
      expect(statuses).toEqual([503, 503, 503]);
      expect(tenants.requests).toHaveLength(6); // two attempts each
      expect(await breakerState(api, 'tenant_service')).toBe(1);

      const started = performance.now();
      const fast = await harness.post(api, textWebhook('890000000000200').body, 'x');
      expect(fast.status).toBe(503);
      expect((fast.body as { error: { code: string } }).error.code).toBe('tenant_service_unavailable');
      expect(performance.now() - started).toBeLessThan(200);
      expect(tenants.requests).toHaveLength(6);
      expect((await api.metrics.circuitRejected.get()).values[0]?.value).toBe(1);

      tenants.failWith = undefined;
      await sleep(1_100);
      const recovered = await harness.post(api, textWebhook(acme.businessAccountId).body, acme.appSecret);
      expect(recovered.status).toBe(200);
      expect(await breakerState(api, 'tenant_service')).toBe(0);
      const logs = harness.parsedLogs().map((l) => l.message);
      expect(logs).toEqual(expect.arrayContaining(['circuit opened: calls fail fast until a trial call succeeds', 'circuit closed: calls go through again']));
    });
  });

  describe('when a State Manager is configured', () => {
    let harness: Harness;
    let state: HttpStub;
    let service: RunningService;
    let events: QueueReader;
    /** Tracking the State Manager accepted (answered 2xx); refused attempts are not deliveries. */
    const delivered: Array<{ eventId: string; tenantId: string }> = [];
    const posts = (): Array<{ eventId: string; tenantId: string }> => delivered;

    beforeAll(async () => {
      state = await new HttpStub().start();
      state.handler = (req) => {
        if (req.method === 'GET' && req.path.startsWith('/state/mapping/447700900123'))
          return { status: 200, body: { conversationId: 'conv-1', assignedTo: 'bot' } };
        if (req.method === 'POST' && req.path === '/state/message') {
          delivered.push(JSON.parse(req.body) as { eventId: string; tenantId: string });
          return { status: 201, body: { ok: true } };
        }
        return { status: 404 };
      };
      harness = await Harness.create('state', [acme]);
      service = await harness.start('all', {
        STATE_MANAGER_URL: state.url,
        EXTERNAL_MAX_ATTEMPTS: '2',
        EXTERNAL_RETRY_DELAY_MS: '10',
        BREAKER_VOLUME_THRESHOLD: '3',
        BREAKER_RESET_TIMEOUT_MS: '500',
      });
      events = harness.reader(QUEUES.messages);
    });
    afterAll(async () => {
      await harness.close();
      await state.stop();
    });

    it('then each message event carries the conversation mapping and the message is recorded there', async () => {
      const { body, wamid } = textWebhook(acme.businessAccountId);
      expect((await harness.post(service, body, acme.appSecret)).status).toBe(200);
      const event = await eventually(() => events.bodies<InboundEvent>().find((e) => e.messageId === wamid), 10_000, 'the event');
      expect(event.metadata).toMatchObject({ conversation: { conversationId: 'conv-1', assignedTo: 'bot' }, degraded: [] });
      await eventually(() => posts().some((p) => p.eventId === event.eventId), 10_000, 'the State Manager to be told');
      const recorded = state.requests.find((r) => r.method === 'POST');
      expect(JSON.parse(recorded!.body)).toMatchObject({
        tenantId: 'acme',
        messageId: wamid,
        type: 'text',
        direction: 'inbound',
        from: { waId: '447700900123' },
      });
    });

    it('then while it is down events are still published (marked degraded), and its backlog is delivered once it is back', async () => {
      state.failWith = 503;
      const sent = Array.from({ length: 5 }, () => textWebhook(acme.businessAccountId));
      for (const { body } of sent) expect((await harness.post(service, body, acme.appSecret)).status).toBe(200);
      const published = await eventually(
        () => {
          const mine = events.bodies<InboundEvent>().filter((e) => sent.some((s) => s.wamid === e.messageId));
          return mine.length === 5 ? mine : undefined;
        },
        15_000,
        'the events while the State Manager is down',
      );
      for (const event of published) expect(event.metadata).toMatchObject({ conversation: null, degraded: ['state-manager'] });
      expect(posts().filter((p) => published.some((e) => e.eventId === p.eventId))).toHaveLength(0);
      await eventually(async () => (await breakerState(service, 'state_manager')) === 1, 10_000, 'the circuit to open');

      state.failWith = undefined;
      await eventually(() => published.every((e) => posts().some((p) => p.eventId === e.eventId)), 30_000, 'the tracking backlog to be delivered');
      expect(await breakerState(service, 'state_manager')).toBe(0);
    });

    it("then the business's echoes are published but not tracked (the State Manager hears what customers send live)", async () => {
      const wamid = `wamid.echo-${seq++}`;
      const echo = webhook(acme.businessAccountId, [
        notification('smb_message_echoes', {
          metadata: { display_phone_number: '15550001111', phone_number_id: '1055500011110' },
          message_echoes: [{ from: '15550001111', to: '447700900123', id: wamid, timestamp: '1763800000', type: 'text', text: { body: 'sent from the app' } }],
        }),
      ]);
      const live = textWebhook(acme.businessAccountId);
      for (const body of [echo, live.body]) expect((await harness.post(service, body, acme.appSecret)).status).toBe(200);
      const [echoed, sent] = await eventually(
        () => {
          const found = [wamid, live.wamid].map((id) => events.bodies<InboundEvent>().find((e) => e.messageId === id));
          return found.every(Boolean) ? found : undefined;
        },
        10_000,
        'both events',
      );
      expect(echoed).toMatchObject({ direction: 'outbound', origin: 'echo', metadata: { conversation: null, degraded: [] } });
      await eventually(() => posts().some((p) => p.eventId === sent!.eventId), 10_000, 'the live message to be tracked');
      expect(posts().some((p) => p.eventId === echoed!.eventId)).toBe(false);
    });

    it('then a message no consumer can read, on the process queue or the outbox, goes as it came to the dead-letter queue, counted, and both keep serving', async () => {
      const dead = harness.reader(QUEUES.dead);
      const publisher = harness.amqp().createPublisher({ confirm: true });
      await publisher.send(
        { routingKey: QUEUES.process, messageId: 'garbage-process', headers: { 'x-handoff-type': 'something.else' } },
        Buffer.from('not a hand-off'),
      );
      await publisher.send({ routingKey: QUEUES.stateOutbox, messageId: 'garbage-outbox', contentType: 'application/json' }, '"not a tracking message"');
      await publisher.close();
      const letters = await dead.waitFor(2, 10_000);
      const byId = new Map(letters.map((m) => [m.messageId, m]));
      expect(byId.get('garbage-process')?.headers).toMatchObject({ 'x-queue': QUEUES.process, 'x-error': expect.any(String) });
      expect(String(byId.get('garbage-process')?.body)).toBe('not a hand-off');
      expect(byId.get('garbage-outbox')?.headers).toMatchObject({
        'x-queue': QUEUES.stateOutbox,
        'x-error': expect.stringContaining('not a tracking message'),
      });
      const deadLettered = (await service.metrics.handoffOutcome.get()).values.filter((v) => v.labels.outcome === 'dead_letter');
      expect(deadLettered.find((v) => v.labels.queue === QUEUES.process)?.value).toBeGreaterThanOrEqual(1);
      expect(deadLettered.find((v) => v.labels.queue === QUEUES.stateOutbox)?.value).toBe(1);

      const after = textWebhook(acme.businessAccountId);
      expect((await harness.post(service, after.body, acme.appSecret)).status).toBe(200);
      const event = await eventually(() => events.bodies<InboundEvent>().find((e) => e.messageId === after.wamid), 10_000, 'the next event');
      await eventually(() => posts().some((p) => p.eventId === event.eventId), 10_000, 'the next tracking call');
    });
  });
});
