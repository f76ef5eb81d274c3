import fc from 'fast-check';
import type { InboundEvent } from '../../src/contract';
import type { JsonObject } from '../../src/meta';
import { QUEUES } from '../../src/messaging';
import { tenant } from '../helpers/fixtures';
import { Harness, type QueueReader, type RunningService } from '../helpers/harness';
import { eventually, sleep } from '../helpers/wait';
import { image, messagesChange, text, webhook } from '../helpers/webhooks';
import { GraphStub } from '../../support/graph-stub';
import { sampleMedia } from '../../support/media-samples';

jest.setTimeout(600_000);

const acme = tenant('acme', '830000000000019', 'acme-secret', { accessToken: 'token-acme', rateLimitPerMinute: 100_000 });

/** One message of a scenario: a text, or a photo whose download is quick or slow. */
interface Planned {
  conversation: number;
  kind: 'text' | 'fast-photo' | 'slow-photo';
}

/** A webhook of a scenario: one or two messages (two: Meta batching), possibly of different conversations. */
const scenario = fc.record({
  conversations: fc.integer({ min: 2, max: 6 }),
  webhooks: fc.array(
    fc.array(fc.record({ conversation: fc.nat(5), kind: fc.constantFrom<Planned['kind']>('text', 'text', 'fast-photo', 'slow-photo') }), {
      minLength: 1,
      maxLength: 2,
    }),
    { minLength: 4, maxLength: 14 },
  ),
  /** Indexes of webhooks Meta sends a second time, later. */
  redeliveries: fc.array(fc.nat(13), { maxLength: 3 }),
  gapsMs: fc.array(fc.integer({ min: 0, max: 25 }), { minLength: 14, maxLength: 14 }),
});

/**
 * Over interleavings of many conversations (texts and photos of different speeds, batched webhooks,
 * Meta's redeliveries): each conversation's events reach the queue in the order its webhooks were
 * sent, numbered 1, 2, 3… in that order; nothing is lost; a second copy is only ever the same event.
 */
describe('per-conversation order (property)', () => {
  let harness: Harness;
  let graph: GraphStub;
  let service: RunningService;
  let events: QueueReader;
  let run = 0;

  beforeAll(async () => {
    graph = await new GraphStub().start();
    graph.slowMs = 400;
    harness = await Harness.create('order-prop', [acme]);
    service = await harness.start('all', { WHATSAPP_GRAPH_URL: graph.url, ORDER_HOLD_MS: '30000', HANDOFF_SHARDS: '3', MEDIA_CONCURRENCY: '16' });
    events = harness.reader(QUEUES.messages);
  });
  afterAll(async () => {
    await harness.close();
    await graph.stop();
  });

  it('keeps every conversation in order, loses nothing and duplicates only with the same eventId', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ conversations, webhooks, redeliveries, gapsMs }) => {
        const tag = `${harness.id}-${run++}`;
        const customer = (c: number): string => `4477${String(run).padStart(4, '0')}${String(10 + (c % conversations))}`;
        const sent: Array<{ wamid: string; conversation: number }> = [];
        const bodies = webhooks.map((planned, w) => {
          const messages: JsonObject[] = planned.map((p, k) => {
            const wamid = `wamid.p-${tag}-${w}-${k}`;
            const from = customer(p.conversation);
            sent.push({ wamid, conversation: p.conversation % conversations });
            if (p.kind === 'text') return text(wamid, `message ${w}.${k}`, from);
            const id = `media-${tag}-${w}-${k}`;
            graph.add({
              id,
              mimeType: 'image/jpeg',
              body: sampleMedia('image/jpeg', 2000),
              token: 'token-acme',
              download: [p.kind === 'slow-photo' ? 'slow' : 'ok'],
            });
            return image(wamid, { id, mime_type: 'image/jpeg' }, from);
          });
          const contacts = [...new Set(planned.map((p) => customer(p.conversation)))].map((waId) => ({ wa_id: waId, profile: { name: 'C' } }));
          return webhook(acme.businessAccountId, [messagesChange({ messages, contacts })]);
        });
        // Sent one after the other (each answered before the next): that is the order each conversation must keep.
        for (const [w, body] of bodies.entries()) {
          await harness.post(service, body, acme.appSecret).expect(200);
          await sleep(gapsMs[w] ?? 0);
        }
        for (const w of redeliveries) if (bodies[w]) await harness.post(service, bodies[w], acme.appSecret).expect(200);

        const mine = (): InboundEvent[] => events.bodies<InboundEvent>().filter((e) => e.messageId?.startsWith(`wamid.p-${tag}-`));
        await eventually(() => new Set(mine().map((e) => e.messageId)).size === sent.length, 60_000, `all ${sent.length} messages of run ${tag}`);
        const arrived = mine();
        const byWamid = new Map<string, InboundEvent[]>();
        for (const event of arrived) byWamid.set(event.messageId!, [...(byWamid.get(event.messageId!) ?? []), event]);
        for (const copies of byWamid.values()) expect(new Set(copies.map((e) => `${e.eventId}#${e.conversation!.sequence}`)).size).toBe(1);
        for (let c = 0; c < conversations; c++) {
          const expected = sent.filter((s) => s.conversation === c).map((s) => s.wamid);
          const firstArrivals = [...new Set(arrived.map((e) => e.messageId!).filter((wamid) => expected.includes(wamid)))];
          expect(firstArrivals).toEqual(expected);
          const numbers = expected.map((wamid) => byWamid.get(wamid)![0]!.conversation!.sequence!);
          expect(numbers).toEqual(numbers.map((_, i) => numbers[0]! + i));
          for (const wamid of expected) expect(byWamid.get(wamid)![0]!.conversation!.overtook).toEqual([]);
        }
      }),
      { numRuns: 12 },
    );
  });
});
