import type { InboundEvent } from '../../src/contract';
import { QUEUES, shardQueueName } from '../../src/messaging';
import { listUpdates, parseEnvelope, shardsOf } from '../../src/meta';
import { tenant } from '../helpers/fixtures';
import { Harness, type QueueReader, type RunningService } from '../helpers/harness';
import { eventually, sleep } from '../helpers/wait';
import { image, messagesChange, status, text, webhook } from '../helpers/webhooks';
import { GraphStub, type StubMedia } from '../../support/graph-stub';
import { sampleMedia } from '../../support/media-samples';

jest.setTimeout(120_000);

const acme = tenant('acme', '830000000000017', 'acme-secret', { accessToken: 'token-acme' });
const customerOf = (i: number): string => `4477009${String(10_000 + i)}`;

/**
 * The measurement, from outside: customers each send a photo (its download takes 1.5 s)
 * and 30 ms later a text, in separate POSTs; the events must reach the queue photo first.
 */
describe('per-conversation order', () => {
  let harness: Harness;
  let graph: GraphStub;
  let service: RunningService;
  let events: QueueReader;
  let run = 0;

  beforeAll(async () => {
    graph = await new GraphStub().start();
    harness = await Harness.create('order', [acme]);
    service = await harness.start('all', { WHATSAPP_GRAPH_URL: graph.url, MEDIA_CONCURRENCY: '16', ORDER_HOLD_MS: '10000', HANDOFF_SHARDS: '4' });
    events = harness.reader(QUEUES.messages);
  });
  afterAll(async () => {
    await harness.close();
    await graph.stop();
  });

  /** POSTs one customer's message alone, as Meta sends each one. */
  async function post(customer: string, message: ReturnType<typeof text>): Promise<number> {
    const body = webhook(acme.businessAccountId, [messagesChange({ messages: [message], contacts: [{ wa_id: customer, profile: { name: 'C' } }] })]);
    const res = await harness.post(service, body, acme.appSecret);
    expect(res.status).toBe(200);
    return Date.now();
  }

  function photo(customer: string, id: string, steps: Pick<StubMedia, 'lookup' | 'download'> = { download: ['slow'] }): ReturnType<typeof image> {
    graph.add({ id, mimeType: 'image/jpeg', body: sampleMedia('image/jpeg', 4000), token: 'token-acme', ...steps });
    return image(`wamid.${id}`, { id, mime_type: 'image/jpeg' }, customer);
  }

  const of = (wamid: string): InboundEvent | undefined => events.bodies<InboundEvent>().find((e) => e.messageId === wamid);
  const indexOf = (wamid: string): number => events.bodies<InboundEvent>().findIndex((e) => e.messageId === wamid);

  it('12 conversations, a slow photo then a text in separate POSTs: 12 of 12 in order, and another conversation is not held back', async () => {
    const tag = `${harness.id}-${run++}`;
    const customers = Array.from({ length: 12 }, (_, i) => customerOf(i));
    await Promise.all(
      customers.map(async (customer, i) => {
        await post(customer, photo(customer, `photo-${tag}-${i}`));
        await sleep(30);
        await post(customer, text(`wamid.text-${tag}-${i}`, 'did you get my photo?', customer));
      }),
    );
    const lone = customerOf(99);
    const postedAt = await post(lone, text(`wamid.lone-${tag}`, 'hello', lone));
    const loneArrival = await eventually(() => events.arrivalOf((e) => e.messageId === `wamid.lone-${tag}`), 10_000, 'the lone text');

    await eventually(() => customers.every((_, i) => of(`wamid.photo-${tag}-${i}`) && of(`wamid.text-${tag}-${i}`)), 30_000, 'every photo and text');
    const inOrder = customers.filter((_, i) => indexOf(`wamid.photo-${tag}-${i}`) < indexOf(`wamid.text-${tag}-${i}`));
    expect(inOrder).toHaveLength(12);
    // The lone customer had nothing slow in flight: its text is not held behind the others' photos.
    expect(loneArrival - postedAt).toBeLessThan(1000);
    expect(indexOf(`wamid.lone-${tag}`)).toBeLessThan(Math.min(...customers.map((_, i) => indexOf(`wamid.photo-${tag}-${i}`))));
    for (const [i] of customers.entries()) {
      const [photoEvent, textEvent] = [of(`wamid.photo-${tag}-${i}`)!, of(`wamid.text-${tag}-${i}`)!];
      expect(textEvent.conversation!.sequence).toBe(photoEvent.conversation!.sequence! + 1);
      expect(textEvent.conversation!.overtook).toEqual([]);
    }
  });

  it('media that cannot be fetched does not hold the conversation: the photo is published with its error, the text right after', async () => {
    const tag = `${harness.id}-${run++}`;
    const customer = customerOf(50);
    await post(customer, photo(customer, `gone-${tag}`, { lookup: [404] }));
    await sleep(30);
    const postedAt = await post(customer, text(`wamid.after-gone-${tag}`, 'and now?', customer));
    const arrival = await eventually(() => events.arrivalOf((e) => e.messageId === `wamid.after-gone-${tag}`), 10_000, 'the text');
    expect(arrival - postedAt).toBeLessThan(3000); // ORDER_HOLD_MS is 10 s here
    expect(indexOf(`wamid.gone-${tag}`)).toBeLessThan(indexOf(`wamid.after-gone-${tag}`));
    expect((of(`wamid.gone-${tag}`)!.content!.media as { error: unknown }).error).toBeTruthy();
  });

  it("a webhook carrying several conversations is split by shard and each keeps its order, Meta's timestamps first", async () => {
    const tag = `${harness.id}-${run++}`;
    // Two customers whose conversations are in different shards (of the 4 here).
    const shard = (customer: string): number =>
      shardsOf(
        listUpdates(parseEnvelope(Buffer.from(webhook(acme.businessAccountId, [messagesChange({ messages: [text('x', 'x', customer)] })]))).entries),
        4,
      )[0]!;
    const a = customerOf(60);
    const b = Array.from({ length: 20 }, (_, i) => customerOf(61 + i)).find((c) => shard(c) !== shard(a))!;
    // One POST, two customers, each with a later message listed before an earlier one.
    const messages = [
      { ...text(`wamid.a2-${tag}`, 'second', a), timestamp: '1763800002' },
      { ...text(`wamid.b2-${tag}`, 'second', b), timestamp: '1763800002' },
      { ...text(`wamid.a1-${tag}`, 'first', a), timestamp: '1763800001' },
      { ...text(`wamid.b1-${tag}`, 'first', b), timestamp: '1763800001' },
    ];
    const contacts = [a, b].map((waId) => ({ wa_id: waId, profile: { name: 'C' } }));
    // And statuses to both, which are not in the sequence: they go with the first message's hand-off.
    const statuses = [status(`wamid.out-a-${tag}`, 'delivered', a), status(`wamid.out-b-${tag}`, 'read', b)];
    const res = await harness.post(service, webhook(acme.businessAccountId, [messagesChange({ messages, contacts, statuses })]), acme.appSecret);
    expect(res.status).toBe(200);
    const wamids = ['a1', 'a2', 'b1', 'b2', 'out-a', 'out-b'].map((m) => `wamid.${m}-${tag}`);
    await eventually(() => wamids.every((wamid) => of(wamid)), 10_000, 'the four messages and two statuses');
    for (const customer of ['a', 'b']) {
      expect(indexOf(`wamid.${customer}1-${tag}`)).toBeLessThan(indexOf(`wamid.${customer}2-${tag}`));
      expect(of(`wamid.${customer}2-${tag}`)!.conversation!.sequence).toBe(of(`wamid.${customer}1-${tag}`)!.conversation!.sequence! + 1);
      expect(of(`wamid.out-${customer}-${tag}`)!.conversation!.sequence).toBeNull();
    }
    // Each published once, though the payload went in two hand-offs.
    for (const wamid of wamids) expect(events.bodies<InboundEvent>().filter((e) => e.messageId === wamid)).toHaveLength(1);
  });
});

describe('a bounded hold', () => {
  let harness: Harness;
  let graph: GraphStub;
  let service: RunningService;
  let events: QueueReader;

  beforeAll(async () => {
    graph = await new GraphStub().start();
    harness = await Harness.create('order-hold', [acme]);
    service = await harness.start('all', { WHATSAPP_GRAPH_URL: graph.url, ORDER_HOLD_MS: '300' });
    events = harness.reader(QUEUES.messages);
  });
  afterAll(async () => {
    await harness.close();
    await graph.stop();
  });

  it('past ORDER_HOLD_MS the text is published ahead, naming the photo it overtook; the photo follows with the smaller number', async () => {
    const customer = customerOf(70);
    graph.add({ id: 'slow-photo', mimeType: 'image/jpeg', body: sampleMedia('image/jpeg', 4000), token: 'token-acme', download: ['slow'] });
    const post = (message: ReturnType<typeof text>): Promise<unknown> =>
      harness.post(service, webhook(acme.businessAccountId, [messagesChange({ messages: [message] }, customer)]), acme.appSecret).expect(200);
    await post(image('wamid.slow-photo', { id: 'slow-photo', mime_type: 'image/jpeg' }, customer));
    await sleep(30);
    await post(text('wamid.impatient', 'hello?', customer));
    await events.waitFor(2, 15_000);
    const [first, second] = events.bodies<InboundEvent>();
    expect([first!.messageId, second!.messageId]).toEqual(['wamid.impatient', 'wamid.slow-photo']);
    expect(first!.conversation!.overtook).toEqual([second!.eventId]);
    expect(second!.conversation!.sequence).toBeLessThan(first!.conversation!.sequence!);
    expect(second!.conversation!.overtook).toEqual([]);
    const metrics = await service.metrics.registry.getSingleMetricAsString('order_hold_expired_total');
    expect(metrics).toMatch(/order_hold_expired_total\{tenant="acme"\} 1/);
  });
});

describe('workers sharing the shards', () => {
  let harness: Harness;
  let api: RunningService;
  let events: QueueReader;
  const SHARDS = 6;

  beforeAll(async () => {
    harness = await Harness.create('order-share', [acme]);
    api = await harness.start('api', { HANDOFF_SHARDS: String(SHARDS) });
    events = harness.reader(QUEUES.messages);
  });
  afterAll(async () => harness.close());

  const holders = async (): Promise<Array<string | null>> =>
    harness.redis().mget(Array.from({ length: SHARDS }, (_, index) => `${harness.prefix}{shards}:lease:${shardQueueName({ index, count: SHARDS })}`));
  const worker = (): Promise<RunningService> => harness.start('worker', { HANDOFF_SHARDS: String(SHARDS), SHARD_LEASE_MS: '1000' });

  /** Each of `n` customers sends two texts in separate POSTs; resolves when all arrived, checking the order. */
  async function conversations(tag: string, n: number): Promise<void> {
    const customers = Array.from({ length: n }, (_, i) => `4477003${String(10_000 + i)}`);
    for (const customer of customers) {
      for (const k of [1, 2]) {
        const body = webhook(acme.businessAccountId, [messagesChange({ messages: [text(`wamid.${tag}-${customer}-${k}`, `text ${k}`, customer)] }, customer)]);
        await harness.post(api, body, acme.appSecret).expect(200);
      }
    }
    const index = (wamid: string): number => events.bodies<InboundEvent>().findIndex((e) => e.messageId === wamid);
    await eventually(() => customers.every((c) => index(`wamid.${tag}-${c}-2`) >= 0 && index(`wamid.${tag}-${c}-1`) >= 0), 20_000, `the texts of ${tag}`);
    for (const c of customers) expect(index(`wamid.${tag}-${c}-1`)).toBeLessThan(index(`wamid.${tag}-${c}-2`));
  }

  it('two workers take half the shards each; when one stops, the other takes them all and nothing is lost', async () => {
    const first = await worker();
    await eventually(async () => (await holders()).every((h) => h !== null), 10_000, 'the first worker holding every shard');
    await worker();
    await eventually(
      async () => {
        const held = await holders();
        const counts = [...new Set(held)].map((member) => held.filter((h) => h === member).length);
        return counts.length === 2 && counts.every((c) => c === SHARDS / 2) && !held.includes(null);
      },
      15_000,
      'each worker holding half the shards',
    );
    await conversations('shared', 20);

    await first.handle.stop();
    await eventually(async () => new Set(await holders()).size === 1 && !(await holders()).includes(null), 10_000, 'the second worker holding every shard');
    await conversations('alone', 20);
  });
});

describe('changing HANDOFF_SHARDS', () => {
  let harness: Harness;
  let events: QueueReader;

  beforeAll(async () => {
    harness = await Harness.create('order-reshard', [acme]);
    events = harness.reader(QUEUES.messages);
  });
  afterAll(async () => harness.close());

  it('with HANDOFF_SHARDS_PREVIOUS the workers finish the old shards before the new ones: nothing lost, no conversation reordered', async () => {
    const customers = Array.from({ length: 12 }, (_, i) => `4477004${String(10_000 + i)}`);
    const send = async (api: RunningService, round: string): Promise<void> => {
      for (const customer of customers) {
        const body = webhook(acme.businessAccountId, [messagesChange({ messages: [text(`wamid.${round}-${customer}`, round, customer)] }, customer)]);
        await harness.post(api, body, acme.appSecret).expect(200);
      }
    };
    // Receivers at 2 shards hand off while no worker runs; then receivers at 3 (step 1 of the runbook).
    const before = await harness.start('api', { HANDOFF_SHARDS: '2' });
    await send(before, 'old');
    await before.handle.stop();
    const after = await harness.start('api', { HANDOFF_SHARDS: '3' });
    await send(after, 'new');
    expect(await harness.handoffDepth(2)).toBeGreaterThan(0);
    expect(await harness.handoffDepth(3)).toBeGreaterThan(0);

    // Step 2: workers at 3, finishing the 2 first.
    await harness.start('worker', { HANDOFF_SHARDS: '3', HANDOFF_SHARDS_PREVIOUS: '2', SHARD_LEASE_MS: '1000' });
    const index = (wamid: string): number => events.bodies<InboundEvent>().findIndex((e) => e.messageId === wamid);
    await eventually(() => customers.every((c) => index(`wamid.old-${c}`) >= 0 && index(`wamid.new-${c}`) >= 0), 20_000, 'every old and new text');
    const lastOld = Math.max(...customers.map((c) => index(`wamid.old-${c}`)));
    const firstNew = Math.min(...customers.map((c) => index(`wamid.new-${c}`)));
    expect(lastOld).toBeLessThan(firstNew);
    expect(harness.parsedLogs().some((line) => line.message === 'previous generation of shards drained; consuming the new one')).toBe(true);
  });
});
