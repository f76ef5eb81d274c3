import type { InboundEvent } from '../../src/contract';
import { QUEUES } from '../../src/messaging';
import { tenant } from '../helpers/fixtures';
import { Harness, type QueueReader, type RunningService } from '../helpers/harness';
import { spawnService, type Spawned } from '../helpers/process';
import { eventually, sleep } from '../helpers/wait';
import { image, messagesChange, text, webhook } from '../helpers/webhooks';
import { GraphStub } from '../../support/graph-stub';
import { sampleMedia } from '../../support/media-samples';

jest.setTimeout(180_000);

const acme = tenant('acme', '830000000000018', 'acme-secret', { accessToken: 'token-acme' });
const CUSTOMERS = 6;

/**
 * A worker killed with SIGKILL while texts are held behind photos still downloading: after a new
 * worker starts, every event arrives, each conversation in order, with the numbers given before.
 */
describe('per-conversation order through kill -9 of the worker', () => {
  let harness: Harness;
  let graph: GraphStub;
  let api: RunningService;
  let events: QueueReader;
  const workers: Spawned[] = [];

  beforeAll(async () => {
    graph = await new GraphStub().start();
    graph.slowMs = 6000;
    harness = await Harness.create('order-kill', [acme]);
    api = await harness.start('api', { HANDOFF_SHARDS: '2' });
    events = harness.reader(QUEUES.messages);
  });
  afterAll(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await harness.close();
    await graph.stop();
  });

  function startWorker(): Spawned {
    const worker = spawnService({
      ...harness.env(),
      ROLE: 'worker',
      WHATSAPP_GRAPH_URL: graph.url,
      HANDOFF_SHARDS: '2',
      SHARD_LEASE_MS: '1000',
      ORDER_HOLD_MS: '60000',
      MEDIA_CONCURRENCY: '16',
      MEDIA_IDLE_TIMEOUT_MS: '5000',
    });
    workers.push(worker);
    return worker;
  }

  const post = (customer: string, message: ReturnType<typeof text>): Promise<unknown> =>
    harness.post(api, webhook(acme.businessAccountId, [messagesChange({ messages: [message] }, customer)]), acme.appSecret).expect(200);
  const customers = Array.from({ length: CUSTOMERS }, (_, i) => `4477009${String(20_000 + i)}`);
  const mine = (): InboundEvent[] => events.bodies<InboundEvent>().filter((e) => e.messageId?.includes(harness.id));
  const firstIndex = (wamid: string): number => mine().findIndex((e) => e.messageId === wamid);

  it('holds the texts, is killed, and the next worker publishes every event, each conversation in order, with the same numbers', async () => {
    const first = startWorker();
    await first.started();
    await Promise.all(
      customers.map(async (customer, i) => {
        graph.add({ id: `photo-${harness.id}-${i}`, mimeType: 'image/jpeg', body: sampleMedia('image/jpeg', 4000), token: 'token-acme', download: ['slow'] });
        await post(customer, image(`wamid.photo-${harness.id}-${i}`, { id: `photo-${harness.id}-${i}`, mime_type: 'image/jpeg' }, customer));
        await sleep(30);
        await post(customer, text(`wamid.text-${harness.id}-${i}`, 'did you get my photo?', customer));
      }),
    );
    // Every photo downloading, every text built and held behind its photo: nothing published yet.
    await eventually(() => graph.activeDownloads >= CUSTOMERS, 20_000, 'the photos downloading');
    await sleep(300);
    expect(mine()).toEqual([]);
    first.child.kill('SIGKILL');
    await first.exit;

    graph.slowMs = 300;
    await startWorker().started();
    await eventually(
      () => customers.every((_, i) => firstIndex(`wamid.photo-${harness.id}-${i}`) >= 0 && firstIndex(`wamid.text-${harness.id}-${i}`) >= 0),
      60_000,
      'every photo and text after the restart',
    );
    for (const [i] of customers.entries()) {
      const [photo, textMessage] = [`wamid.photo-${harness.id}-${i}`, `wamid.text-${harness.id}-${i}`];
      expect(firstIndex(photo)).toBeLessThan(firstIndex(textMessage));
      const copies = (wamid: string): InboundEvent[] => mine().filter((e) => e.messageId === wamid);
      // At least once: any second copy is the same event, with the same number.
      expect(new Set(copies(photo).map((e) => `${e.eventId}#${e.conversation!.sequence}`)).size).toBe(1);
      expect(new Set(copies(textMessage).map((e) => `${e.eventId}#${e.conversation!.sequence}`)).size).toBe(1);
      expect(copies(textMessage)[0]!.conversation!.sequence).toBe(copies(photo)[0]!.conversation!.sequence! + 1);
      expect(copies(textMessage)[0]!.conversation!.overtook).toEqual([]);
    }
  });
});
