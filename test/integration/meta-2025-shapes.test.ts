import type { AsyncMessage } from 'rabbitmq-client';
import { QUEUES } from '../../src/messaging';
import { listUpdates, parseEnvelope } from '../../src/meta';
import type { InboundEvent } from '../../src/contract';
import { FIXTURE_SECRET, fixture, fixtureTenants } from '../helpers/fixtures';
import { GraphStub } from '../../support/graph-stub';
import { Harness, type QueueReader, type RunningService } from '../helpers/harness';
import { sampleMedia } from '../../support/media-samples';
import { schemaErrors } from '../helpers/schema';
import { eventually, sleep } from '../helpers/wait';
import { notification, webhook } from '../helpers/webhooks';

jest.setTimeout(180_000);

describe("Meta's 2025-26 shapes", () => {
  let harness: Harness;
  let graph: GraphStub;
  let service: RunningService;
  let readers: QueueReader[];
  const published = (correlationId: string): AsyncMessage[] => readers.flatMap((r) => r.messages).filter((m) => m.correlationId === correlationId);

  /** Posts a body, waits for one event per distinct update, checks each against the schema, and returns them with their routing keys. */
  async function through(body: Buffer | string, secret: string, timeoutMs = 15_000): Promise<Array<InboundEvent & { routingKey: string }>> {
    await harness.clearMarks();
    const res = await harness.post(service, body, secret);
    expect(res.status).toBe(200);
    const correlationId = res.headers['x-correlation-id'] as string;
    const expected = new Set(listUpdates(parseEnvelope(Buffer.from(body)).entries).map((u) => u.key)).size;
    await eventually(() => published(correlationId).length >= expected, timeoutMs, 'every event of the payload');
    await sleep(20);
    const events = published(correlationId).map((m) => ({ ...(m.body as InboundEvent), routingKey: m.routingKey }));
    expect(events).toHaveLength(expected);
    for (const { routingKey, ...event } of events) {
      expect({ ref: event.raw.ref, routingKey: typeof routingKey, errors: schemaErrors(event) }).toEqual({
        ref: event.raw.ref,
        routingKey: 'string',
        errors: [],
      });
    }
    return events;
  }
  const fromFixture = (name: string): ReturnType<typeof through> => through(fixture(name).bytes, FIXTURE_SECRET);
  const byRef = <T extends { raw: { ref: string } }>(events: T[], ref: string): T => {
    const found = events.find((e) => e.raw.ref === ref);
    expect({ ref, found: Boolean(found) }).toEqual({ ref, found: true });
    return found!;
  };

  beforeAll(async () => {
    graph = await new GraphStub().start();
    graph.add({ id: 'media-hist-1', mimeType: 'image/jpeg', body: sampleMedia('image/jpeg', 2048) });
    graph.add({ id: 'media-voicemail', mimeType: 'audio/ogg', body: sampleMedia('audio/ogg', 2048) });
    harness = await Harness.create('shapes', fixtureTenants());
    service = await harness.start('all', { WHATSAPP_GRAPH_URL: graph.url, GRAPH_MAX_ATTEMPTS: '1', MEDIA_MAX_ATTEMPTS: '1' });
    readers = [harness.reader(QUEUES.messages), harness.reader(QUEUES.notifications)];
  });
  afterAll(async () => {
    await harness.close();
    await graph.stop();
  });

  describe('echoes', () => {
    it('when the business answers from the WhatsApp Business app, then the echo is an outbound message event to the customer, and the 1.0 notification stays', async () => {
      const events = await fromFixture('smb-message-echoes-text__pywa.json');
      expect(byRef(events, '0.0.e0')).toMatchObject({
        kind: 'message',
        type: 'text',
        routingKey: 'message.text.echo',
        messageId: '<WHATSAPP_MESSAGE_ID>',
        direction: 'outbound',
        origin: 'echo',
        from: { waId: '<BUSINESS_DISPLAY_PHONE_NUMBER>' },
        to: { waId: '<WHATSAPP_USER_PHONE_NUMBER>', userId: '<BSUID>', parentUserId: '<PARENT_BSUID>', name: 'Test Name' },
        conversation: { customer: { waId: '<WHATSAPP_USER_PHONE_NUMBER>', userId: '<BSUID>' }, groupId: null, standby: false },
        content: { body: 'Test message' },
      });
      expect(byRef(events, '0.0.n')).toMatchObject({ kind: 'notification', type: 'smb_message_echoes', routingKey: 'notification.smb_message_echoes' });
    });

    it('when an echo edits or deletes a message, then it is an edit or revoke event whose customer is the side that is not the business number', async () => {
      const edit = byRef(await fromFixture('smb-message-echoes-edit__pywa.json'), '0.0.e0');
      expect(edit).toMatchObject({
        type: 'edit',
        direction: 'outbound',
        origin: 'echo',
        content: { originalMessageId: 'wamid.zzzzzz', message: { type: 'text', content: { body: 'Text was edited' } } },
        conversation: { customer: { waId: '972987654321', userId: 'US.13491208655302741918' } },
      });
      const revoke = byRef(await fromFixture('smb-message-echoes-delete__pywa.json'), '0.0.e0');
      expect(revoke).toMatchObject({ type: 'revoke', routingKey: 'message.revoke.echo', content: { originalMessageId: 'wamid.zzzzzz' } });
    });

    it('when echoes come under field history, then they are echo events with the BSUIDs and username of the customer', async () => {
      const events = await fromFixture('history-message-echoes-bsuid__vaam-meta-whatsapp-rs.json');
      expect(byRef(events, '0.0.e0')).toMatchObject({
        messageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=',
        direction: 'outbound',
        origin: 'echo',
        from: { waId: '15550783881', phone: '+15550783881' },
        to: { waId: '16505551234', userId: 'US.13491208655302741918', parentUserId: 'US.ENT.11815799212886844830', username: 'pablomorales' },
      });
      expect(byRef(events, '0.0.n').content).toMatchObject({ field: 'history', echoes: 1, chunks: [] });
    });
  });

  describe('history', () => {
    it('when a history chunk carries threads, then every message is a history event with its direction, thread, chunk and status, and the chunk its progress', async () => {
      const events = await fromFixture('history-threads-media-placeholder__composed.json');
      const history = { threadId: '16505551234', phase: 0, chunkOrder: 1, progress: 55 };
      expect(byRef(events, '0.0.h0t0m0')).toMatchObject({
        type: 'text',
        routingKey: 'message.text.history',
        direction: 'outbound',
        origin: 'history',
        to: { waId: '16505551234' },
        conversation: { customer: { waId: '16505551234', phone: '+16505551234' } },
        history: { ...history, status: 'READ' },
      });
      expect(byRef(events, '0.0.h0t0m1')).toMatchObject({
        type: 'media_placeholder',
        messageId: 'wamid.hist-media',
        content: { placeholder: true },
        history: { status: 'PLAYED' },
      });
      expect(byRef(events, '0.0.h0t0m2')).toMatchObject({ direction: 'inbound', from: { waId: '16505551234' }, to: null, content: { body: 'Thanks!' } });
      expect(byRef(events, '0.0.h0t1m0')).toMatchObject({
        direction: 'outbound',
        to: { waId: '12125557890' },
        history: { threadId: '12125557890', status: 'DELIVERED' },
      });
      expect(byRef(events, '0.0.n').content).toMatchObject({
        field: 'history',
        chunks: [{ phase: 0, chunkOrder: 1, progress: 55, threads: 2, messages: 4, errors: [] }],
      });
    });

    it("when a placeholder's media contents follow under the same wamid, then they are a second event of that wamid, with the media stored", async () => {
      const events = await fromFixture('history-media-placeholder-contents__composed.json');
      const image = byRef(events, '0.0.m0');
      expect(image).toMatchObject({
        type: 'image',
        messageId: 'wamid.hist-media',
        origin: 'history',
        direction: 'inbound',
        content: { caption: 'Black Prince echeveria' },
      });
      expect(image.content?.media).toMatchObject({ id: 'media-hist-1', key: expect.stringMatching(/^fx-\d+\/image\/.+\/wamid\.hist-media\.jpg$/) });
      expect((image.content?.media as { error?: unknown }).error).toBeUndefined();
    });

    it('when one history chunk describes thousands of messages (Meta says it may), then it is accepted and every message becomes an event', async () => {
      const messages = Array.from({ length: 10_000 }, (_, i) => ({
        from: i % 2 === 0 ? '15550783881' : '16505551234',
        id: `wamid.bulk-history-${i}`,
        timestamp: String(1739230000 + i),
        type: 'text',
        text: { body: `message ${i}` },
        history_context: { status: 'READ' },
      }));
      const change = notification('history', {
        messaging_product: 'whatsapp',
        metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
        history: [{ metadata: { phase: 1, chunk_order: 3, progress: 80 }, threads: [{ id: '16505551234', messages }] }],
      });
      const events = await through(webhook('102290129340398', [change]), FIXTURE_SECRET, 60_000);
      expect(events.filter((e) => e.kind === 'message')).toHaveLength(10_000);
      expect(new Set(events.map((e) => e.messageId)).size).toBe(10_001);
      expect(byRef(events, '0.0.h0t0m9999')).toMatchObject({
        direction: 'inbound',
        content: { body: 'message 9999' },
        history: { chunkOrder: 3, progress: 80 },
      });
    });

    it('when the business declined to share its history, then the notification carries the error', async () => {
      const [event] = await fromFixture('history-sharing-declined__composed.json');
      expect(event?.content).toMatchObject({
        field: 'history',
        chunks: [{ threads: 0, messages: 0, errors: [{ code: 2593109, details: 'History sharing is turned off by the business' }] }],
      });
    });
  });

  describe('groups', () => {
    it('when a customer writes in a group, then the message carries the group id', async () => {
      const [event] = await fromFixture('message-group-text-group-id__vaam-meta-whatsapp-rs.json');
      expect(event).toMatchObject({
        kind: 'message',
        messageId: 'wamid.HASDI128HJOPUERIH82ahdasd09ASDHi5>',
        direction: 'inbound',
        origin: 'live',
        from: { waId: '16505551234', name: 'Tiago Mingo' },
        conversation: { groupId: 'HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA', customer: { waId: '16505551234' } },
      });
    });

    it('when a group message is delivered to a participant, then the status names the group and the participant by every id', async () => {
      const [event] = await fromFixture('status-delivered-group-participant-bsuid__vaam-meta-whatsapp-rs.json');
      const group = 'Y2FwaV9ncm91cDoxOTUwNTU1MDA3OToxMjAzNjMzOTQzMjAdOTY0MTUZD';
      expect(event).toMatchObject({
        direction: 'outbound',
        conversation: { groupId: group, customer: { waId: '16505551234', userId: 'US.13491208655302741918', username: 'pablomorales' } },
        status: {
          recipient: {
            type: 'group',
            groupId: group,
            waId: null,
            participant: '16505551234',
            participantWaId: '16505551234',
            participantUserId: 'US.13491208655302741918',
            participantParentUserId: 'US.ENT.11815799212886844830',
          },
          conversation: { originType: 'group_marketing' },
        },
      });
    });

    it('when participants are removed and some fail, then the notification lists each with its ids and errors', async () => {
      const [event] = await fromFixture('group-participants-remove-partial-fail__vaam-meta-whatsapp-rs.json');
      expect(event).toMatchObject({
        type: 'group_participants_update',
        conversation: { groupId: 'Y2FwaV9ncm91cDoxOTUwNTU1MDA3OToxMjAzNjMzOTQzMjAdOTY0MTUZD' },
      });
      expect(event?.content).toMatchObject({
        event: 'group_participants_remove',
        groups: [
          {
            type: 'group_participants_remove',
            requestId: '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f',
            initiatedBy: 'business',
            removed: [{ input: '16505551234', phone: '+16505551234' }],
            failed: [{ input: '16505551235', errors: [{ code: 131212 }] }],
            errors: [{ code: 131201 }],
          },
        ],
      });
    });

    it('when a group is created, joined, reconfigured or suspended, then each change is typed', async () => {
      const [created] = await fromFixture('group-lifecycle-update__piusalfred.json');
      expect(created?.content).toMatchObject({
        event: 'group_create',
        groups: [{ groupId: 'GROUP_ID_123', subject: 'SDK Test Group', inviteLink: 'https://chat.whatsapp.com/ABC123', joinApprovalMode: 'auto_approve' }],
      });
      const [joined] = await fromFixture('group-participants-update__piusalfred.json');
      expect(joined?.content).toMatchObject({ groups: [{ reason: 'invite_link', added: [{ waId: '16505551234', phone: '+16505551234' }] }] });
      const [settings] = await fromFixture('group-settings-update__piusalfred.json');
      expect(settings?.content).toMatchObject({
        groups: [
          { settings: { subject: { text: 'New Subject', updated: true }, description: { text: 'New Description', updated: false, errors: [{ code: 100 }] } } },
        ],
      });
      const [suspended] = await fromFixture('group-status-update__piusalfred.json');
      expect(suspended).toMatchObject({ conversation: { groupId: 'GROUP_ID_999' }, content: { event: 'group_suspend' } });
    });
  });

  describe('identity', () => {
    it('when Meta sends a username and both user ids, then the sender keeps all of them', async () => {
      const [event] = await fromFixture('message-text-username-from-user-id-parent-bsuid__whatsapp-api-js.json');
      expect(event?.from).toEqual({
        waId: '16315551181',
        userId: 'US.13491208655302741918',
        parentUserId: 'US.11815799212886844830',
        phone: '+16315551181',
        country: 'US',
        name: 'test user name',
        username: '@testusername',
        isBusiness: null,
      });
      const [bsuidOnly] = await fromFixture('message-interactive-nfm-reply-address-message-bsuid__vaam-meta-whatsapp-rs.json');
      expect(bsuidOnly).toMatchObject({
        from: { waId: '919876543210', userId: 'IN.13491208655302741918', name: 'Sheena Nelson' },
        content: { subtype: 'nfm_reply' },
      });
    });

    it("when a status spells the recipient's parent user id the older way, then it is read all the same", async () => {
      const [event] = await fromFixture('status-sent-pmp-recipient-user-id-contacts__whatsapp-api-js.json');
      expect(event?.status?.recipient).toMatchObject({ waId: '16315551181', userId: 'US.13491208655302741918', parentUserId: 'US.11815799212886844830' });
      expect(event?.status?.pricing).toMatchObject({ pricingModel: 'PMP', type: 'regular' });
      expect(event?.conversation?.customer).toMatchObject({ name: 'test user name', parentUserId: 'US.11815799212886844830' });
    });

    it('when Meta rotates a business-scoped user id, then an identity_changed event gives the previous and current ids', async () => {
      const events = await fromFixture('user-id-update-bsuid-rotation__vaam-meta-whatsapp-rs.json');
      expect(byRef(events, '0.0.u0')).toMatchObject({
        kind: 'notification',
        type: 'identity_changed',
        routingKey: 'notification.identity_changed',
        timestamp: '2025-06-15T23:27:53.000Z',
        conversation: { customer: { waId: '16505551234', userId: 'US.20837465019283746501', name: 'Pablo M.' } },
        content: {
          reason: 'user_id_update',
          previous: { waId: '16505551234', userId: 'US.13491208655302741918', parentUserId: 'US.ENT.11815799212886844830' },
          current: { waId: '16505551234', userId: 'US.20837465019283746501', parentUserId: 'US.ENT.20837465019283746502' },
        },
      });
      expect(byRef(events, '0.0.n')).toMatchObject({ type: 'user_id_update' });
    });

    it('when a system message says the customer changed user id or number, then the message is kept and an identity_changed event follows', async () => {
      const rotation = await fromFixture('message-system-user-changed-user-id__composed.json');
      expect(byRef(rotation, '0.0.m0')).toMatchObject({
        type: 'system',
        from: { waId: null, userId: 'US.111', username: 'kai' },
        content: { systemType: 'user_changed_user_id', userId: 'US.222' },
      });
      expect(byRef(rotation, '0.0.m0i')).toMatchObject({
        type: 'identity_changed',
        content: {
          reason: 'user_changed_user_id',
          messageId: 'wamid.rotation',
          previous: { waId: null, userId: 'US.111' },
          current: { waId: null, userId: 'US.222', parentUserId: 'US.ENT.333' },
        },
        conversation: { customer: { userId: 'US.222', name: 'Kai' } },
      });
      const number = await fromFixture('message-system-user-changed-number__pywa.json');
      expect(byRef(number, '0.0.m0i').content).toMatchObject({
        reason: 'user_changed_number',
        previous: { waId: '972987654321' },
        current: { waId: '972912345678' },
      });
      const older = await fromFixture('message-system-user-changed-number__piusalfred.json');
      expect(byRef(older, '0.0.m0i').content).toMatchObject({ previous: { waId: '15550002222' }, current: { waId: '15550003333' } });
    });

    it('when the business username is approved, then the notification says which and how', async () => {
      const [event] = await fromFixture('business-username-updates-approved__vaam-meta-whatsapp-rs.json');
      expect(event).toMatchObject({
        metadata: { displayPhoneNumber: '15550783881' },
        content: { event: 'approved', username: 'lucky_shrub', status: 'approved' },
      });
    });
  });

  describe('calls', () => {
    it('when a business-initiated call is created, then the caller, callee, direction and customer are normalized', async () => {
      const [event] = await fromFixture('calls-call-created-business-initiated-bsuid__vaam-meta-whatsapp-rs.json');
      expect(event).toMatchObject({ type: 'calls', direction: 'outbound', conversation: { customer: { waId: '16315553602', username: 'pablomorales' } } });
      expect(event?.content).toMatchObject({
        event: 'call_created',
        calls: [
          {
            callId: 'wacid.ABGGFjFVU2AfAgo6V-Hc5eCgK5Gh',
            event: 'call_created',
            direction: 'outbound',
            to: { waId: '16315553601', userId: 'US.13491208655302741918' },
            timestamp: '2022-12-21T17:47:04.000Z',
          },
        ],
      });
    });

    it('when a user calls and when a call ends with errors, then direction, session, duration and errors are there', async () => {
      const [connect] = await fromFixture('calls-connect-user-initiated__pywa.json');
      expect(connect).toMatchObject({ direction: 'inbound', conversation: { customer: { waId: '972987654321', name: 'Test Name' } } });
      expect(connect?.content).toMatchObject({ calls: [{ event: 'connect', direction: 'inbound', sdpType: 'offer' }] });
      const [terminate] = await fromFixture('calls-terminate-with-errors__pywa.json');
      expect(terminate?.content).toMatchObject({
        event: 'terminate',
        calls: [
          {
            status: 'COMPLETED',
            startedAt: '2022-12-21T17:47:04.000Z',
            endedAt: '2022-12-21T17:49:04.000Z',
            durationSeconds: 120,
            bizOpaqueCallbackData: 'random_string',
          },
        ],
        errors: [{ code: 12455, details: 'ERROR_DETAILS' }],
      });
    });

    it('when a call rings, then the call status is typed', async () => {
      const [event] = await fromFixture('calls-status-ringing__pywa.json');
      expect(event?.content).toMatchObject({
        event: 'ringing',
        statuses: [{ callId: 'wacid.ABGGFjFVU2AfAgo6V', type: 'call', status: 'RINGING', recipient: { waId: '163155536021' } }],
      });
    });

    it('when a voicemail arrives as an audio message, then it keeps its wacid id and its media is stored under it', async () => {
      const [event] = await fromFixture('message-audio-voicemail-wacid__composed.json');
      expect(event).toMatchObject({ type: 'audio', messageId: 'wacid.voicemail-1', content: { voice: true } });
      expect(event?.content?.media).toMatchObject({ key: expect.stringMatching(/^fx-\d+\/audio\/.+\/wacid\.voicemail-1\.ogg$/) });
      expect((event?.content?.media as { error?: unknown }).error).toBeUndefined();
    });
  });

  describe('handovers and standby', () => {
    it('when thread control passes, then the notification says from whom to whom, for which customer and number', async () => {
      const [event] = await fromFixture('messaging-handovers-control-passed__vaam-meta-whatsapp-rs.json');
      expect(event).toMatchObject({
        phoneNumberId: '106540352242922',
        metadata: { displayPhoneNumber: '15550783881' },
        conversation: { customer: { waId: '16505551234', phone: '+16505551234' } },
        content: {
          event: 'control_passed',
          handover: {
            type: 'control_passed',
            previousOwnerRole: 'ai_agent',
            newOwnerRole: 'escalation',
            metadata: 'WhatsApp user requested human agent',
            conversationContext: { type: 'summary' },
          },
        },
      });
    });

    it('when messages and statuses come under standby, then they are message and status events flagged standby', async () => {
      const events = await fromFixture('standby-text-and-status__composed.json');
      expect(byRef(events, '0.0.m0')).toMatchObject({
        kind: 'message',
        routingKey: 'message.text',
        origin: 'live',
        direction: 'inbound',
        conversation: { standby: true, customer: { name: 'Ada' } },
      });
      expect(byRef(events, '0.0.s0')).toMatchObject({ kind: 'status', type: 'read', conversation: { standby: true } });
      expect(byRef(events, '0.0.n')).toMatchObject({ type: 'standby' });
    });
  });

  describe('template integrity and flows', () => {
    it('when a template is paused, miscategorized or a flow is published, then each is a notification with its value whole', async () => {
      const [paused] = await fromFixture('template-status-update-paused__vaam-meta-whatsapp-rs.json');
      expect(paused).toMatchObject({ type: 'message_template_status_update', content: { event: 'PAUSED' } });
      const [category] = await fromFixture('template-correct-category-detection__vaam-meta-whatsapp-rs.json');
      expect(category).toMatchObject({ type: 'template_correct_category_detection', content: { value: { correct_category: 'MARKETING' } } });
      const [flow] = await fromFixture('flows-status-change-draft-to-published__vaam-meta-whatsapp-rs.json');
      expect(flow).toMatchObject({ type: 'flows', phoneNumberId: null, content: { event: 'FLOW_STATUS_CHANGE', value: { new_status: 'PUBLISHED' } } });
    });
  });
});
