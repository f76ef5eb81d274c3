import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { v5 as uuidv5 } from 'uuid';
import { routingKeyOf, type InboundEvent } from '../../src/contract';
import { EVENT_BINDINGS, QUEUES } from '../../src/messaging';
import { listUpdates, obj, parseEnvelope, str, type Update } from '../../src/meta';
import { composedFixtures, FIXTURE_SECRET, fixtureTenants, webhookFixtures, type Fixture } from '../helpers/fixtures';
import { GraphStub } from '../../support/graph-stub';
import { Harness, type QueueReader, type RunningService } from '../helpers/harness';
import { sampleMedia } from '../../support/media-samples';
import { eventually } from '../helpers/wait';

jest.setTimeout(120_000);

const DOC = join(__dirname, '../../docs/events.md');
const NAMESPACE = '1b671a64-40d5-491e-99b0-da01ff1f3341';

/**
 * docs/events.md shows one real event per kind and type: the first fixture (by name) of each
 * type is posted through the running service, and what arrives on the queues is printed, with
 * the fields that change from run to run pinned to fixed values. Run with UPDATE_DOCS=1 to
 * rewrite the page; otherwise the test fails when the page is stale.
 */
describe('docs/events.md', () => {
  let harness: Harness;
  let graph: GraphStub;
  let service: RunningService;
  let readers: QueueReader[];

  beforeAll(async () => {
    graph = await new GraphStub().start();
    harness = await Harness.create('docs', fixtureTenants());
    service = await harness.start('all', { WHATSAPP_GRAPH_URL: graph.url, GRAPH_MAX_ATTEMPTS: '1', MEDIA_MAX_ATTEMPTS: '1' });
    readers = [harness.reader(QUEUES.messages), harness.reader(QUEUES.notifications)];
  });
  afterAll(async () => {
    await harness.close();
    await graph.stop();
  });

  it('when the first fixture of every type goes through the service, then the page shows exactly what was published', async () => {
    const examples = new Map<string, { fixture: Fixture; event: InboundEvent; routingKey: string }>();
    for (const fixture of [...webhookFixtures(), ...composedFixtures()].filter((f) => (f.json.entry?.length ?? 0) > 0)) {
      const updates = listUpdates(parseEnvelope(fixture.bytes).entries);
      const wanted = updates.filter((u) => !examples.has(shapeOf(u)));
      if (wanted.length === 0) continue;
      for (const u of updates) {
        const media = obj(u.item[u.type]);
        const id = str(media?.id);
        const mimeType = str(media?.mime_type);
        if (u.kind === 'message' && id && mimeType) {
          const sample = mimeType.startsWith('image/webp') && media?.animated === true ? 'image/webp;animated' : mimeType.split(';')[0]!;
          graph.add({ id, mimeType, body: sampleMedia(sample, 2048) });
        }
      }
      await harness.clearMarks();
      const correlationId = uuidv5(fixture.name, NAMESPACE);
      expect((await harness.post(service, fixture.bytes, FIXTURE_SECRET, { 'X-Correlation-Id': correlationId })).status).toBe(200);
      const distinct = new Set(updates.map((u) => u.key)).size;
      const received = await eventually(
        () => {
          const mine = readers.flatMap((r) => r.messages).filter((m) => m.correlationId === correlationId);
          return mine.length >= distinct ? mine : undefined;
        },
        15_000,
        `events of ${fixture.name}`,
      );
      // The next fixture may reuse these wamids: its marks are cleared only once these are written.
      await eventually(
        async () =>
          (
            await Promise.all(
              received.map((m) => harness.redis().exists(`${harness.prefix}ev:{${(m.body as InboundEvent).tenantId}}:${(m.body as InboundEvent).eventId}`)),
            )
          ).every(Boolean),
        10_000,
        `the event marks of ${fixture.name}`,
      );
      // In the payload's order (conversations are published side by side, so arrival order varies between runs).
      const position = (msg: (typeof received)[number]): number => updates.findIndex((u) => u.ref === (msg.body as InboundEvent).raw.ref);
      for (const msg of [...received].sort((a, b) => position(a) - position(b))) {
        const event = msg.body as InboundEvent;
        const key = shapeOf(updates.find((u) => u.ref === event.raw.ref)!);
        if (!examples.has(key)) examples.set(key, { fixture, event, routingKey: msg.routingKey });
      }
    }

    const page = render(
      [...examples.entries()].sort(([a], [b]) => a.localeCompare(b)),
      harness,
    );
    if (process.env.UPDATE_DOCS === '1') writeFileSync(DOC, page);
    expect(readFileSync(DOC, 'utf8')).toBe(page);
  });
});

/**
 * What an example shows: its routing key, and whether it came under standby, from or to a group, or
 * from a customer known only by a business-scoped user id (Meta's newer shapes).
 */
function shapeOf(update: Update): string {
  const key = routingKeyOf({ kind: update.kind, type: update.type, origin: update.kind === 'message' ? update.origin : null });
  if (update.standby && update.kind !== 'notification') return `${key} (standby)`;
  if (update.kind === 'status' && str(update.item.recipient_type) === 'group') return `${key} (group)`;
  if (update.kind !== 'message' || update.origin !== 'live') return key;
  if (str(update.item.group_id)) return `${key} (group)`;
  if (!str(update.item.from) && (str(update.item.from_user_id) || update.value.contacts)) return `${key} (user id only)`;
  return key;
}

/** GitHub's heading anchor. */
function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');
}

/** Pins run-specific values (times, random bucket and tenant names, presigned URLs) so the page is stable. */
function stable(event: InboundEvent, harness: Harness): unknown {
  // Without a time from Meta, `timestamp` is the receipt time: pinned with it.
  const pinned = event.timestamp === event.receivedAt ? { ...event, timestamp: '2026-11-23T10:00:00.000Z' } : event;
  const text = JSON.stringify(pinned, null, 2)
    .replaceAll(harness.rawBucket, 'webhooks-inbound')
    .replaceAll(harness.mediaBucket, 'media-inbound')
    .replace(/"tenantId": "fx-\d+"/g, '"tenantId": "acme"')
    .replace(/"tenantName": "Tenant fx-\d+"/g, '"tenantName": "Acme"')
    .replace(/fx-\d+\//g, 'acme/')
    .replace(/\d{4}-\d{2}-\d{2}\/\d{13}-/g, '2026-11-23/1795428000000-')
    .replace(/\/(image|video|audio|document|sticker)\/\d{4}-\d{2}-\d{2}\//g, '/$1/2026-11-23/')
    .replace(/-[0-9a-f]{8}\.json"/g, '-4f2a9c1e.json"')
    .replace(/"receivedAt": "[^"]+"/g, '"receivedAt": "2026-11-23T10:00:00.000Z"')
    .replace(/"urlExpiresAt": "[^"]+"/g, '"urlExpiresAt": "2026-11-23T11:00:00.000Z"')
    // Numbered in the order the examples' conversations happened to be processed in this run.
    .replace(/"sequence": \d+/g, '"sequence": 1')
    .replace(
      /"url": "http:\/\/127\.0\.0\.1:9000\/([^?"]+)\?[^"]*"/g,
      '"url": "https://minio.example.com/$1?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature=…"',
    );
  return text;
}

function render(examples: Array<[string, { fixture: Fixture; event: InboundEvent; routingKey: string }]>, harness: Harness): string {
  const bindings = EVENT_BINDINGS.map((b) => `\`${b.routingKey}\` → \`${b.queue}\``).join(', ');
  return [
    '# Event contract',
    '',
    '<!-- Generated by test/integration/event-docs.test.ts from the fixtures (UPDATE_DOCS=1 npx jest event-docs). Do not edit by hand. -->',
    '',
    'Every message, status update and notification that reaches the service becomes **one event**: a JSON object',
    'valid against [`schemas/inbound-event.v1.schema.json`](../schemas/inbound-event.v1.schema.json) (`schemaVersion: 1`,',
    '`schemaMinorVersion: 2`), published with publisher confirms to the topic exchange `whatsapp.inbound` with routing key',
    "`{kind}.{type}`, or `message.{type}.echo` / `message.{type}.history` for the business's own messages and the",
    'coexistence history: bind `message.*` for what customers send live, `message.#` for every message.',
    `Bindings: ${bindings}.`,
    '',
    "AMQP properties: persistent (`deliveryMode: 2`), `messageId` = `eventId`, `correlationId` = the webhook request's",
    'correlation id, `contentType: application/json`, headers `x-tenant-id`, `x-schema-version`, `x-schema-minor-version`,',
    'and `x-direction` / `x-origin` when the event has them.',
    '',
    'What consumers can rely on:',
    '',
    '- **`eventId` is stable**: the same update of the same tenant always gets the same id (UUID v5 of tenant, kind and',
    "  Meta's id). Delivery is at least once (a worker that crashes after publishing but before recording it publishes",
    '  again after restart), so deduplicate on `eventId`. Replays of stored payloads produce the same ids.',
    "- **`kind`** is `message`, `status` or `notification`; **`type`** is Meta's message type, the status, or the webhook",
    '  field. A type nobody has documented yet still arrives (`content.fields` keeps everything Meta sent).',
    '- **`from`** is who sent a message, as Meta identifies them: `waId` and/or `userId` (business-scoped), `parentUserId`,',
    '  `username`; `phone` is E.164 (or null when Meta sent no phone number), `country` its ISO code. **`to`** is the',
    '  recipient of an outbound message.',
    '- **`direction`** (`inbound` from the customer, `outbound` from the business) and **`origin`** (`live`, `echo`: sent',
    '  from the WhatsApp Business app, `history`: the coexistence history sync). Since 1.1, echoes and history messages are',
    '  message events: **a bot should answer only `direction: inbound`, `origin: live`** (or bind `message.*`). The change',
    '  they came in (`smb_message_echoes`, `history`) is still published as its notification, as in 1.0.',
    '- **`conversation`**: the `customer` (whichever way the event went: the sender of an inbound message, the recipient',
    '  of an outbound one or of a status, the participant in a group), the `groupId` of group messages and statuses, and',
    '  `standby: true` for updates delivered while another app had thread control (field `standby`).',
    "- **Order** (1.2): a conversation's messages (the business number and the customer's `wa_id`, else its user id; the",
    '  group for group messages; live, echoes and history alike) are published in the order they reached the service, and within one webhook',
    "  in Meta's timestamp order. `conversation.sequence` numbers them 1, 2, 3… (the same for every copy of an event), so a",
    '  consumer can check the order and spot a gap. An event waits at most `ORDER_HOLD_MS` (default 5 s) for an earlier one',
    '  still being built (a media download); past it, or when the earlier one failed, it is published with',
    "  `conversation.overtook` naming the earlier events' ids, and they follow with their smaller numbers. Conversations",
    '  never wait for each other. Statuses are ordered per message by state (`outOfOrder`), notifications not at all',
    '  (`sequence: null` for both).',
    "- **`history`** (history messages): the thread, phase, chunk order, progress and Meta's last delivery state. A",
    '  `media_placeholder` message has no media yet; its contents follow as a message event with the same `messageId`.',
    '- **`identity_changed`** notifications (from `user_id_update` and from `user_changed_user_id` / `user_changed_number`',
    "  system messages, which stay message events too) give the customer's `previous` and `current` ids, to re-key records.",
    '- **`status`**: `previous` is the state recorded before this update; `outOfOrder: true` marks a late update (say',
    '  `delivered` after `read`): it is published so nothing is lost, but the recorded state never goes back.',
    '- **Media**: `content.media` points at the copy in the `media-inbound` bucket with a presigned URL valid for an hour',
    '  (`urlExpiresAt`); when the media could not be stored, `media.error` says why and the message is published anyway.',
    "- **`raw`**: where the exact webhook bytes are archived, and the update's position in them (`ref`).",
    '',
    'The examples below are real events produced from the fixtures in `../shared/fixtures/meta-webhooks/`, and from',
    "the payloads composed after Meta's documentation in `test/fixtures/meta-webhooks/` for shapes no project publishes",
    "(IDs and texts are those fixtures'; run-specific times, names and URLs are pinned). Media bytes were served by a local",
    'stand-in for the Graph API.',
    '',
    '| Routing key | Example from fixture |',
    '| --- | --- |',
    ...examples.map(([key, { fixture }]) => `| [\`${key}\`](#${anchor(key)}) | \`${fixture.name}\` |`),
    '',
    ...examples.flatMap(([key, { fixture, event, routingKey }]) => [
      `## ${key}`,
      '',
      `Routing key \`${routingKey}\`, from \`${fixture.name}\`.`,
      '',
      '```json',
      String(stable(event, harness)),
      '```',
      '',
    ]),
  ].join('\n');
}
