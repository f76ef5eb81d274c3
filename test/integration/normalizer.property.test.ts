import fc from 'fast-check';
import pLimit from 'p-limit';
import { StatusOrderStore, TokenCache } from '../../src/cache';
import { ValidationError } from '../../src/errors';
import { loadConfig } from '../../src/config';
import { GraphApiClient, MediaHostPolicy, TenantThrottle } from '../../src/integrations';
import { listUpdates, parseEnvelope, type Update } from '../../src/meta';
import { createLogger, Metrics } from '../../src/observability';
import { createS3, MediaStore } from '../../src/storage';
import { TenantResolver, TenantsFileSource } from '../../src/tenants';
import { TenantCache } from '../../src/cache';
import type { InboundEvent } from '../../src/contract';
import { AccessTokens, MediaService } from '../../src/worker';
import { buildEvent, type BuildContext } from '../../src/worker/normalize/event-builder';
import { tenant } from '../helpers/fixtures';
import { GraphStub } from '../../support/graph-stub';
import { Harness } from '../helpers/harness';
import { schemaErrors } from '../helpers/schema';

jest.setTimeout(180_000);

const acme = tenant('acme', '820000000000001', 'acme-secret');
const json = fc.jsonValue({ maxDepth: 3 });
const idLike = fc.oneof(fc.string(), fc.integer(), fc.constantFrom('wamid.ID', 'PHONE_NUMBER', '16505551234', '+44 7700 900123', 'US.123', ''));
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });
const TYPES = [
  'text',
  'image',
  'video',
  'audio',
  'document',
  'sticker',
  'location',
  'contacts',
  'interactive',
  'button',
  'reaction',
  'order',
  'system',
  'edit',
  'revoke',
  'request_welcome',
  'unsupported',
  'unknown',
  'media_placeholder',
];

/** A message as Meta might send it, or not: any field missing, of the wrong type, or unheard of. */
const message = fc.record(
  {
    id: idLike,
    from: idLike,
    from_user_id: idLike,
    from_parent_user_id: idLike,
    to: idLike,
    to_user_id: idLike,
    group_id: idLike,
    history_context: fc.oneof(json, fc.record({ status: fc.constantFrom('READ', 'DELIVERED', 'PLAYED') })),
    system: fc.oneof(
      json,
      fc.record(
        { type: fc.constantFrom('user_changed_number', 'user_changed_user_id', 'customer_identity_changed'), user_id: idLike, wa_id: idLike },
        { requiredKeys: [] },
      ),
    ),
    timestamp: fc.oneof(fc.string(), fc.integer(), fc.constant('1763800000')),
    type: fc.oneof(fc.constantFrom(...TYPES), fc.string()),
    text: fc.oneof(json, fc.record({ body: json })),
    image: fc.oneof(
      json,
      fc.record({
        id: idLike,
        mime_type: fc.oneof(fc.string(), fc.constant('image/jpeg')),
        sha256: json,
        url: fc.constantFrom('not a url', 'http://127.0.0.1:9/x'),
      }),
    ),
    audio: fc.record({ id: idLike, mime_type: fc.constant('audio/ogg; codecs=opus'), voice: json }),
    interactive: fc.oneof(
      json,
      fc.record({
        type: fc.oneof(fc.constantFrom('button_reply', 'list_reply', 'nfm_reply'), fc.string()),
        nfm_reply: fc.record({ response_json: fc.oneof(fc.string(), json) }),
        button_reply: json,
        list_reply: json,
      }),
    ),
    reaction: fc.oneof(json, fc.record({ message_id: idLike, emoji: json })),
    location: fc.oneof(json, fc.record({ latitude: json, longitude: json })),
    order: fc.oneof(json, fc.record({ product_items: fc.oneof(json, fc.array(json)) })),
    edit: fc.oneof(json, fc.record({ original_message_id: idLike, message: json })),
    context: json,
    referral: json,
    errors: fc.oneof(json, fc.array(json)),
    surprise: json,
  },
  { requiredKeys: [] },
);

const statusItem = fc.record(
  {
    id: idLike,
    status: fc.oneof(fc.constantFrom('sent', 'delivered', 'read', 'played', 'failed', 'deleted'), fc.string()),
    timestamp: json,
    recipient_id: idLike,
    recipient_type: fc.constantFrom('individual', 'group', undefined),
    errors: fc.oneof(json, fc.array(json)),
    conversation: json,
    pricing: json,
  },
  { requiredKeys: [] },
);

/** Contacts as Meta sends them now: a wa_id, business-scoped user ids, a username, any of them missing. */
const contact = fc.record(
  { wa_id: idLike, user_id: idLike, parent_user_id: idLike, profile: fc.oneof(json, fc.record({ name: json, username: json }, { requiredKeys: [] })) },
  { requiredKeys: [] },
);
const metadata = fc.oneof(json, fc.record({ display_phone_number: idLike, phone_number_id: fc.constantFrom('106540352242922', 'PHONE_NUMBER_ID') }));
const messages = fc.oneof(json, fc.array(message, { maxLength: 4 }));
const party = fc.record({ wa_id: idLike, user_id: idLike, input: idLike, errors: fc.oneof(json, fc.array(json)) }, { requiredKeys: [] });

const change = fc.oneof(
  fc.record({
    field: fc.constantFrom('messages', 'standby'),
    value: fc.record(
      {
        metadata,
        contacts: fc.oneof(json, fc.array(contact)),
        messages,
        statuses: fc.oneof(json, fc.array(statusItem, { maxLength: 4 })),
        errors: json,
      },
      { requiredKeys: [] },
    ),
  }),
  fc.record({
    field: fc.constantFrom('smb_message_echoes', 'history'),
    value: fc.record(
      {
        metadata,
        contacts: fc.oneof(json, fc.array(contact)),
        message_echoes: messages,
        messages,
        history: fc.oneof(
          json,
          fc.array(
            fc.record(
              {
                metadata: fc.oneof(json, fc.record({ phase: json, chunk_order: json, progress: json })),
                threads: fc.oneof(json, fc.array(fc.record({ id: idLike, messages }, { requiredKeys: [] }), { maxLength: 3 })),
                errors: fc.oneof(json, fc.array(json)),
              },
              { requiredKeys: [] },
            ),
            { maxLength: 2 },
          ),
        ),
      },
      { requiredKeys: [] },
    ),
  }),
  fc.record({
    field: fc.constantFrom('user_id_update', 'calls', 'group_participants_update', 'group_settings_update', 'messaging_handovers'),
    value: fc.record(
      {
        metadata,
        contacts: fc.oneof(json, fc.array(contact)),
        user_id_update: fc.oneof(
          json,
          fc.array(
            fc.record({ wa_id: idLike, user_id: fc.oneof(json, fc.record({ previous: idLike, current: idLike })), timestamp: json }, { requiredKeys: [] }),
          ),
        ),
        calls: fc.oneof(
          json,
          fc.array(
            fc.record(
              {
                id: idLike,
                from: idLike,
                to: idLike,
                to_user_id: idLike,
                event: json,
                direction: fc.constantFrom('USER_INITIATED', 'BUSINESS_INITIATED', 'x'),
                duration: json,
                errors: json,
              },
              { requiredKeys: [] },
            ),
          ),
        ),
        statuses: fc.oneof(json, fc.array(json)),
        groups: fc.oneof(
          json,
          fc.array(
            fc.record(
              {
                group_id: idLike,
                type: json,
                added_participants: fc.oneof(json, fc.array(party)),
                failed_participants: fc.oneof(json, fc.array(party)),
                group_subject: json,
                group___proto__: json,
              },
              { requiredKeys: [] },
            ),
          ),
        ),
        sender: fc.oneof(json, fc.record({ phone_number: idLike })),
        recipient: fc.oneof(json, fc.record({ phone_number_id: idLike })),
        type: fc.oneof(fc.constantFrom('control_passed', '__proto__'), fc.string()),
        control_passed: json,
      },
      { requiredKeys: [] },
    ),
  }),
  fc.record({
    field: fc.oneof(fc.string({ minLength: 1 }), fc.constantFrom('account_update', 'calls', 'user_preferences')),
    value: fc.dictionary(fc.string(), json),
  }),
);

/** Messages a change carries, counted straight from the JSON (not by the code under test): each must become a message event. */
function messagesIn(body: string): number {
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value.filter((v) => typeof v === 'object' && v !== null && !Array.isArray(v)) : []);
  const parsed = JSON.parse(body) as { entry: Array<{ changes: Array<{ field: string; value: Record<string, unknown> }> }> };
  let count = 0;
  for (const { field, value } of parsed.entry[0]!.changes) {
    if (field === 'messages' || field === 'standby') count += list(value.messages).length;
    if (field === 'smb_message_echoes') count += list(value.message_echoes).length;
    if (field === 'history') {
      count += list(value.messages).length + list(value.message_echoes).length;
      for (const chunk of list(value.history) as Array<Record<string, unknown>>) {
        for (const thread of list(chunk.threads) as Array<Record<string, unknown>>) count += list(thread.messages).length;
      }
    }
  }
  return count;
}

const payload = fc
  .record({ changes: fc.array(change, { maxLength: 4 }), time: maybe(fc.oneof(fc.integer(), fc.string())) })
  .map(({ changes, time }) =>
    JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: acme.businessAccountId, ...(time === undefined ? {} : { time }), changes }] }),
  );

describe('normalizer (property-based, against real Redis and the object store)', () => {
  let harness: Harness;
  let graph: GraphStub;
  let ctx: Omit<BuildContext, 'receivedAt'>;

  beforeAll(async () => {
    harness = await Harness.create('property', [acme]);
    graph = await new GraphStub().start();
    const config = harness.env();
    const metrics = new Metrics({ defaultMetrics: false });
    const logger = createLogger({ level: 'error' });
    const redis = harness.redis();
    const s3 = createS3(loadConfig(config).s3);
    await harness.objects().ensureBucket(harness.mediaBucket);
    const tenants = new TenantResolver(
      new TenantsFileSource([acme]),
      new TenantCache(redis, metrics, { keyPrefix: harness.prefix, ttlSeconds: 60 }),
      logger,
      metrics,
    );
    const throttle = new TenantThrottle(redis, { perSecond: 1000, keyPrefix: harness.prefix });
    ctx = {
      tenantId: acme.id,
      tenant: acme,
      correlationId: 'property-test',
      source: 'meta',
      raw: { bucket: harness.rawBucket, key: 'acme/2026-11-23/x.json' },
      statusOrder: new StatusOrderStore(redis, { keyPrefix: harness.prefix, ttlSeconds: 60 }),
      media: new MediaService(
        {
          graph: new GraphApiClient({
            baseUrl: graph.url,
            apiVersion: 'v21.0',
            timeoutMs: 2000,
            maxAttempts: 1,
            throttle: (t) => throttle.wait(t),
            hosts: new MediaHostPolicy([], graph.url),
            metrics,
          }),
          store: new MediaStore(s3, s3, harness.mediaBucket, metrics),
          tokens: new AccessTokens(new TokenCache(redis, { keyPrefix: harness.prefix, ttlSeconds: 60 }), tenants, logger),
          limit: pLimit(8),
          logger,
          metrics,
        },
        { urlTtlSeconds: 3600, idleTimeoutMs: 2000, downloadTimeoutMs: 10_000, maxAttempts: 1 },
      ),
    };
    // The processors below read the tenant through this resolver: it must know acme.
    expect(await tenants.resolve({ by: 'account', id: acme.businessAccountId })).toMatchObject({ id: acme.id });
  });
  afterAll(async () => {
    await graph.stop();
    await harness.close();
  });

  it('when the envelope is arbitrary JSON, then parsing either succeeds or refuses it with a ValidationError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ object: fc.constant('whatsapp_business_account'), entry: json })), (value) => {
        try {
          parseEnvelope(Buffer.from(JSON.stringify(value)));
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('when payloads are well-formed or not inside a valid envelope (echoes, history threads, groups, BSUID-only contacts, missing from), then every message is a message event, every update one schema-valid event, and nothing throws', async () => {
    let updatesSeen = 0;
    await fc.assert(
      fc.asyncProperty(payload, async (body) => {
        const updates: Update[] = listUpdates(parseEnvelope(Buffer.from(body)).entries);
        const events: InboundEvent[] = await Promise.all(updates.map((u) => buildEvent(u, { ...ctx, receivedAt: '2026-11-23T10:00:00.000Z' })));
        updatesSeen += updates.length;
        expect(events).toHaveLength(updates.length);
        expect(events.filter((e) => e.kind === 'message')).toHaveLength(messagesIn(body));
        events.forEach((event, i) => {
          expect(schemaErrors(JSON.parse(JSON.stringify(event)))).toEqual([]);
          expect(event.kind).toBe(updates[i]!.kind);
          expect(event.raw.ref).toBe(updates[i]!.ref);
        });
      }),
      { numRuns: 300 },
    );
    expect(updatesSeen).toBeGreaterThan(300);
  });
});
