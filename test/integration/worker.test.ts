import type { AsyncMessage } from 'rabbitmq-client';
import { eventIdOf, routingKeyOf, type InboundEvent } from '../../src/contract';
import { QUEUES } from '../../src/messaging';
import { listUpdates, parseEnvelope } from '../../src/meta';
import { FIXTURE_SECRET, fixtureTenants, tenant, webhookFixtures } from '../helpers/fixtures';
import { Harness, type QueueReader, type RunningService } from '../helpers/harness';
import { schemaErrors } from '../helpers/schema';
import { eventually, sleep } from '../helpers/wait';
import { messagesChange, status, text, webhook } from '../helpers/webhooks';

jest.setTimeout(180_000);

const acme = tenant('acme', '800000000000001', 'acme-secret');

/** A status of `wamid` at `1763800000 + at` seconds: the order Meta saw the states in. */
function statusAt(wamid: string, state: string, at: number): string {
  return webhook(acme.businessAccountId, [messagesChange({ statuses: [status(wamid, state, undefined, String(1763800000 + at))] })]);
}
/** The envelope `webhook()` builds, around changes written as JSON text: the poison below cannot go through JSON.stringify. */
function envelope(changes: string[]): string {
  return `{"object":"whatsapp_business_account","entry":[{"id":"${acme.businessAccountId}","time":1763800000,"changes":[${changes.join(',')}]}]}`;
}
/** A notification nested deeper than V8 can serialize (as JSON text): our pipeline cannot publish it. */
function poison(): string {
  const depth = 6000;
  return `{"field":"account_update","value":{"event":"X","deep":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}}`;
}

describe('worker', () => {
  let harness: Harness;
  let service: RunningService;
  let messages: QueueReader;
  let notifications: QueueReader;
  const byCorrelation = (id: string): AsyncMessage[] => [...messages.messages, ...notifications.messages].filter((m) => m.correlationId === id);

  beforeAll(async () => {
    harness = await Harness.create('worker', [...fixtureTenants(), acme]);
    service = await harness.start('all', { GRAPH_MAX_ATTEMPTS: '1', MEDIA_MAX_ATTEMPTS: '1' });
    messages = harness.reader(QUEUES.messages);
    notifications = harness.reader(QUEUES.notifications);
  });
  afterAll(async () => harness.close());

  describe('when every fixture is posted through the receiver', () => {
    const fixtures = webhookFixtures().filter((f) => (f.json.entry?.length ?? 0) > 0);
    const events = new Map<string, InboundEvent[]>();

    it('then each update becomes exactly one valid event with the right kind, type, ids, routing key and properties', async () => {
      const accountToTenant = new Map(harness.tenants.map((t) => [t.businessAccountId, t.id]));
      for (const f of fixtures) {
        await harness.clearMarks();
        const res = await harness.post(service, f.bytes, FIXTURE_SECRET);
        expect(res.status).toBe(200);
        const correlationId = res.headers['x-correlation-id'] as string;
        const tenantId = accountToTenant.get(String(f.json.entry?.[0]?.id))!;
        // The same wamid twice in one payload is one message: one event.
        const expected = listUpdates(parseEnvelope(f.bytes).entries).filter((u, i, all) => all.findIndex((o) => o.key === u.key) === i);
        const received = await eventually(
          () => (byCorrelation(correlationId).length >= expected.length ? byCorrelation(correlationId) : undefined),
          15_000,
          `events of ${f.name}`,
        );
        await sleep(20);
        expect({ fixture: f.name, count: byCorrelation(correlationId).length }).toEqual({ fixture: f.name, count: expected.length });

        for (const update of expected) {
          const eventId = eventIdOf(tenantId, update.kind, update.key);
          const msg = received.find((m) => m.messageId === eventId);
          expect({ fixture: f.name, ref: update.ref, found: Boolean(msg) }).toEqual({ fixture: f.name, ref: update.ref, found: true });
          const event = msg!.body as InboundEvent;
          expect({ fixture: f.name, errors: schemaErrors(event) }).toEqual({ fixture: f.name, errors: [] });
          expect(event).toMatchObject({
            eventId,
            kind: update.kind,
            type: update.type,
            messageId: update.messageId,
            tenantId,
            correlationId,
            businessAccountId: update.accountId,
          });
          expect(event.raw).toEqual({ bucket: harness.rawBucket, key: expect.stringMatching(new RegExp(`^${tenantId}/`)), ref: update.ref });
          expect(msg!.routingKey).toBe(routingKeyOf({ kind: update.kind, type: update.type, origin: update.kind === 'message' ? update.origin : null }));
          expect(msg!.exchange).toBe('whatsapp.inbound');
          expect(msg!.contentType).toBe('application/json');
          expect(msg!.durable).toBe(true);
          expect(msg!.headers?.['x-tenant-id']).toBe(tenantId);
          const queue = update.kind === 'notification' ? notifications : messages;
          expect(queue.messages.includes(msg!)).toBe(true);
        }
        events.set(
          f.name,
          received.map((m) => m.body as InboundEvent),
        );
      }
    });

    const only = (name: string, kind?: InboundEvent['kind']): InboundEvent => {
      const list = events.get(name)?.filter((e) => !kind || e.kind === kind);
      expect(list).toHaveLength(1);
      return list![0]!;
    };

    it('then message content is normalized per type', () => {
      expect(only('message-text__pywa.json').content).toEqual({ body: expect.any(String) });
      expect(only('message-location-chosen-with-name-address__pywa.json').content).toMatchObject({
        latitude: expect.any(Number),
        longitude: expect.any(Number),
        name: expect.any(String),
      });
      expect((only('message-contacts__pywa.json').content?.contacts as unknown[]).length).toBe(3);
      expect(only('message-interactive-button-reply__pywa.json').content).toMatchObject({
        subtype: 'button_reply',
        reply: { id: expect.any(String), title: expect.any(String) },
      });
      expect(only('message-interactive-list-reply-with-description__pywa.json').content).toMatchObject({
        subtype: 'list_reply',
        reply: { description: expect.any(String) },
      });
      expect(only('message-interactive-nfm-reply__pywa.json').content).toMatchObject({
        subtype: 'nfm_reply',
        flow: { name: 'flow', flowToken: 'AQAAAAACS5FpgQ_cAAAAAD0QI3s.', response: { delivery_rating: '4' } },
      });
      expect(only('message-interactive-call-permission-reply-accept__pywa.json').content).toMatchObject({
        subtype: 'call_permission_reply',
        data: { response: 'accept' },
      });
      expect(only('message-button-template-quick-reply__pywa.json').content).toMatchObject({ text: expect.any(String), payload: expect.any(String) });
      expect(only('message-reaction__pywa.json').content).toMatchObject({ emoji: expect.any(String), removed: false });
      expect(only('message-reaction-removed-no-emoji-key__pywa.json').content).toMatchObject({ emoji: null, removed: true });
      expect(only('message-reaction-removed-empty-emoji__pywa.json').content).toMatchObject({ emoji: null, removed: true });
      expect(only('message-order__pywa.json').content).toMatchObject({
        catalogId: '354160437058781',
        productItems: [{ productRetailerId: 'HAMBURGER', quantity: 3, itemPrice: 30, currency: 'ILS' }, {}, {}],
      });
      expect(only('message-system-user-changed-number__pywa.json', 'message').content).toMatchObject({ systemType: 'user_changed_number' });
      expect(only('message-system-customer-identity-changed__pywa.json').content).toMatchObject({
        systemType: 'customer_identity_changed',
        identity: { acknowledged: true },
      });
      expect(only('message-edit-image__pywa.json').content).toMatchObject({
        originalMessageId: expect.any(String),
        message: { type: 'image', content: { caption: 'Updated image caption', media: { id: '1234567890' } } },
      });
      expect(only('message-revoke__pywa.json').content).toEqual({ originalMessageId: '<ORIGINAL_WHATSAPP_MESSAGE_ID>' });
      expect(only('message-request-welcome__pywa.json')).toMatchObject({ type: 'request_welcome', content: {} });
      expect(only('message-unsupported-with-errors-and-type__pywa.json').content).toMatchObject({ unsupportedType: 'pool', errors: [{ code: 131051 }] });
      expect(only('message-unknown-with-errors__netflie.json')).toMatchObject({
        type: 'unknown',
        content: { errors: [expect.objectContaining({ code: expect.any(Number) })] },
      });
      expect(only('message-interactive-with-value-errors__pywa.json').content).toMatchObject({ subtype: 'unknown', errors: [{ code: 131000 }] });
    });

    it('then media messages keep what Meta said about the media and say why it was not stored', () => {
      const audio = only('message-audio-voice__pywa.json');
      expect(audio.content).toMatchObject({
        voice: true,
        media: { id: '1234567890987654321', mimeType: 'audio/ogg; codecs=opus', error: { code: 'graph_unavailable' } },
      });
      expect(only('message-sticker-animated__pywa.json').content).toMatchObject({ animated: true });
      expect(only('message-document__pywa.json').content).toMatchObject({ filename: 'filename.pdf', caption: 'caption' });
    });

    it('then senders keep the identity Meta sent: E.164 phone and country, user ids, and null where there is no phone', () => {
      expect(only('message-text__pywa.json').from).toMatchObject({
        waId: '972987654321',
        phone: '+972987654321',
        country: 'IL',
        name: 'Test Name',
        userId: 'US.13491208655302741918',
      });
      expect(only('message-text-bsuid-only-no-from__netflie.json').from).toMatchObject({ waId: null, phone: null, userId: 'BSUID_123', name: 'NAME' });
      expect(only('message-text-with-user-id__netflie.json').from).toMatchObject({ waId: 'PHONE_NUMBER', phone: null, userId: 'BSUID_123' });
      expect(only('message-text-contact-without-profile__netflie.json').from).toMatchObject({ name: null });
    });

    it('then context carries replies, forwards, referred products and ad referrals', () => {
      expect(only('message-text-reply-context__pywa.json').context).toMatchObject({ repliedTo: { messageId: expect.any(String) }, forwarded: false });
      expect(only('message-text-forwarded__pywa.json').context).toMatchObject({ forwarded: true, frequentlyForwarded: false });
      expect(only('message-text-frequently-forwarded__pywa.json').context).toMatchObject({ forwarded: true, frequentlyForwarded: true });
      expect(only('message-text-product-inquiry-context__piusalfred.json').context).toMatchObject({
        product: { catalogId: 'CATALOG_9999', productRetailerId: 'SKU-1234' },
      });
      expect(only('message-text-with-referral__pywa.json').context).toMatchObject({
        referral: { sourceId: 'ADID', ctwaClid: 'CTWA_CLID', headline: 'AD_TITLE' },
      });
      expect(only('message-text__pywa.json').context).toBeNull();
    });

    it('then statuses carry errors, conversation and pricing', () => {
      expect(only('status-failed__pywa.json').status).toMatchObject({
        state: 'failed',
        errors: [{ code: 130472, details: expect.stringContaining('experiment') }],
      });
      expect(only('status-delivered-pricing-marketing__netflie.json').status).toMatchObject({ pricing: { category: 'marketing' } });
      expect(only('status-read-with-conversation__netflie.json').status?.conversation).toMatchObject({ id: expect.any(String) });
      expect(only('status-sent-with-biz-opaque-callback-data__pywa.json').status?.bizOpaqueCallbackData).toEqual(expect.any(String));
      expect(only('status-read-group__pywa.json').status?.recipient).toMatchObject({ type: 'group', participant: '<GROUP_PARTICIPANT_USER_PHONE_NUMBER>' });
    });

    it('then every other field becomes a notification with its value kept whole', () => {
      for (const [name, type] of [
        ['account-update-account-violation__pywa.json', 'account_update'],
        ['template-status-update-approved__pywa.json', 'message_template_status_update'],
        ['user-preferences-marketing-signup__pywa.json', 'user_preferences'],
        ['calls-connect-user-initiated__pywa.json', 'calls'],
        ['smb-message-echoes-text__pywa.json', 'smb_message_echoes'],
        ['group-lifecycle-update__piusalfred.json', 'group_lifecycle_update'],
        ['unknown-field-synthetic__piusalfred.json', 'unknown_field_xyz'],
      ] as const) {
        const event = only(name, 'notification');
        expect(event).toMatchObject({ kind: 'notification', type, messageId: null, content: { field: type, value: expect.any(Object) } });
      }
    });
  });

  describe('when statuses of one message arrive out of order', () => {
    it('then the late one is published marked out of order and the state never goes back', async () => {
      const wamid = `wamid.order-${harness.id}`;
      const ids: string[] = [];
      for (const [state, ts] of [
        ['sent', 1],
        ['read', 3],
        ['delivered', 2],
      ] as const) {
        const res = await harness.post(service, statusAt(wamid, state, ts), acme.appSecret);
        ids.push(res.headers['x-correlation-id'] as string);
        await eventually(() => byCorrelation(res.headers['x-correlation-id'] as string).length === 1, 10_000, `${state} event`);
      }
      const [sent, read, delivered] = ids.map((id) => byCorrelation(id)[0]!.body as InboundEvent);
      expect(sent?.status).toMatchObject({ state: 'sent', previous: null, outOfOrder: false });
      expect(read?.status).toMatchObject({ state: 'read', previous: 'sent', outOfOrder: false });
      expect(delivered?.status).toMatchObject({ state: 'delivered', previous: 'read', outOfOrder: true });
      expect(await harness.redis().get(`${harness.prefix}status:acme:${wamid}`)).toBe('3:read');
      const outOfOrder = await service.metrics.statusOutOfOrder.get();
      expect(outOfOrder.values.find((v) => v.labels.tenant === 'acme' && v.labels.status === 'delivered')?.value).toBe(1);
    });
  });

  describe('when the same payload is handed off again after its events were published', () => {
    it('then no second event is published (the receiver marks were lost, the worker still dedups)', async () => {
      const body = webhook(acme.businessAccountId, [messagesChange({ messages: [text(`wamid.again-${harness.id}`)] })]);
      const first = await harness.post(service, body, acme.appSecret);
      await eventually(() => byCorrelation(first.headers['x-correlation-id'] as string).length === 1, 10_000, 'first event');
      // The receiver's marks are gone (expired, or Redis lost them): the payload is handed off again.
      const receiverMarks = await harness.redis().keys(`${harness.prefix}rx:*`);
      await harness.redis().del(...receiverMarks);
      const published = await service.metrics.eventsPublished.get();
      const before = published.values.reduce((n, v) => n + v.value, 0);
      const acked = async (): Promise<number> =>
        (await service.metrics.handoffOutcome.get()).values
          .filter((v) => String(v.labels.queue).startsWith(QUEUES.process) && v.labels.outcome === 'ack')
          .reduce((n, v) => n + v.value, 0);
      const ackedBefore = await acked();
      const second = await harness.post(service, body, acme.appSecret);
      expect(second.body).toMatchObject({ status: 'accepted' });
      await eventually(async () => (await acked()) === ackedBefore + 1, 10_000, 'the second hand-off to be processed');
      expect(byCorrelation(second.headers['x-correlation-id'] as string)).toHaveLength(0);
      expect((await service.metrics.eventsPublished.get()).values.reduce((n, v) => n + v.value, 0)).toBe(before);
    });
  });

  describe('when one update of a payload cannot be processed (poison)', () => {
    it('then the others are published once, only the failing one is retried with backoff, then dead-lettered and stored as failed, and the worker keeps serving', async () => {
      const dead = harness.reader(QUEUES.dead);
      const wamid = `wamid.partial-${harness.id}`;
      const archived = async (): Promise<number> => (await service.metrics.rawArchived.get()).values.find((v) => v.labels.tenant === 'acme')?.value ?? 0;
      const archivedBefore = await archived();
      const res = await harness.post(service, envelope([JSON.stringify(messagesChange({ messages: [text(wamid)] })), poison()]), acme.appSecret);
      expect(res.status).toBe(200);
      const correlationId = res.headers['x-correlation-id'] as string;

      const [deadLetter] = await dead.waitFor(1, 20_000);
      expect(deadLetter!.correlationId).toBe(correlationId);
      expect(deadLetter!.headers?.['x-only']).toBe('0.1.n');
      expect(deadLetter!.headers?.['x-attempt']).toBe(3);
      expect(String(deadLetter!.headers?.['x-last-error'])).toMatch(/^internal_error/);

      const published = byCorrelation(correlationId);
      expect(published.map((m) => (m.body as InboundEvent).messageId)).toEqual([wamid]);

      const rawKey = String(deadLetter!.headers?.['x-raw-key']);
      const failed = await harness.objects().get(harness.rawBucket, `failed/${rawKey}`);
      expect(failed?.body.toString()).toBe(Buffer.isBuffer(deadLetter!.body) ? deadLetter!.body.toString() : '');
      expect(failed?.metadata).toMatchObject({ only: '0.1.n', attempts: '3', 'tenant-id': 'acme', 'correlation-id': correlationId });
      // Archived once, by the first attempt, beside its events; the retries carried that and skipped it.
      expect(deadLetter!.headers?.['x-archived']).toBe(true);
      expect(await archived()).toBe(archivedBefore + 1);
      expect((await harness.objects().get(harness.rawBucket, rawKey))?.body.toString()).toBe(failed?.body.toString());

      // Every shard queue and the unsharded one: the process queues.
      const outcomes = (await service.metrics.handoffOutcome.get()).values.filter((v) => String(v.labels.queue).startsWith(QUEUES.process));
      const count = (outcome: string): number => outcomes.filter((v) => v.labels.outcome === outcome).reduce((n, v) => n + v.value, 0);
      expect(count('retry')).toBeGreaterThanOrEqual(2);
      expect(count('dead_letter')).toBe(1);

      const after = await harness.post(
        service,
        webhook(acme.businessAccountId, [messagesChange({ messages: [text(`wamid.after-${harness.id}`)] })]),
        acme.appSecret,
      );
      await eventually(() => byCorrelation(after.headers['x-correlation-id'] as string).length === 1, 10_000, 'the next webhook to be served');
    });
  });
});
