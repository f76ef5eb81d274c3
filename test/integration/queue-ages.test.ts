import { createHash } from 'node:crypto';
import request from 'supertest';
import type { QueueDepth } from '../../src/console/overview';
import { QUEUES, shardQueueName } from '../../src/messaging';
import { GraphStub } from '../../support/graph-stub';
import { sampleMedia } from '../../support/media-samples';
import { tenant } from '../helpers/fixtures';
import { Harness, type QueueReader, type RunningService } from '../helpers/harness';
import { eventually } from '../helpers/wait';
import { message, messagesChange, webhook } from '../helpers/webhooks';

jest.setTimeout(120_000);

const ADMIN_TOKEN = 'admin-token-for-queue-ages-0123456789abcd';
const acme = tenant('acme', '894000000000001', 'acme-secret', { accessToken: 'token-acme' });

/**
 * RabbitMQ tells a quorum queue's depth, not how old what it holds is: the workers report the age
 * of the oldest hand-off they hold through Redis, and the operator's overview (served by a
 * receiver, another process in production) shows it per queue.
 */
describe('the age of the oldest hand-off in progress, per queue', () => {
  let harness: Harness;
  let graph: GraphStub;
  let api: RunningService;
  let worker: RunningService;
  let events: QueueReader;

  const queues = async (): Promise<Map<string, QueueDepth>> => {
    const res = await request(api.handle.url).get('/admin/overview').set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(res.status).toBe(200);
    return new Map((res.body as { queues: QueueDepth[] }).queues.map((q) => [q.queue, q]));
  };
  /** The largest age the hand-off shards show now. */
  const shardAge = async (): Promise<number | null> => {
    const all = await queues();
    const ages = [0, 1].map((index) => all.get(shardQueueName({ index, count: 2 }))?.oldestSeconds ?? null);
    return ages.every((a) => a === null) ? null : Math.max(...ages.map((a) => a ?? 0));
  };

  beforeAll(async () => {
    graph = await new GraphStub().start();
    graph.slowMs = 6_000;
    harness = await Harness.create('queue-ages', [acme]);
    const fast = { SHARD_LEASE_MS: '1500' };
    worker = await harness.start('worker', { ...fast, WHATSAPP_GRAPH_URL: graph.url });
    api = await harness.start('api', { ...fast, ADMIN_TOKEN });
    events = harness.reader(QUEUES.messages);
  });
  afterAll(async () => {
    await harness.close();
    await graph.stop();
  });

  it('when a worker holds a hand-off (a slow media download), then the receiver’s overview shows its age on the shard queue, and 0 s once it is done', async () => {
    await eventually(async () => (await shardAge()) === 0, 15_000, 'the worker to report its idle shards');
    expect((await queues()).get(QUEUES.messages)?.oldestSeconds).toBeNull();

    const bytes = sampleMedia('image/jpeg', 50_000);
    graph.add({ id: 'slow-photo', mimeType: 'image/jpeg', body: bytes, token: 'token-acme', download: ['slow'] });
    const wamid = `wamid.queue-age-${harness.id}`;
    const photo = message(wamid, 'image', { id: 'slow-photo', mime_type: 'image/jpeg', sha256: createHash('sha256').update(bytes).digest('base64') });
    expect((await harness.post(api, webhook(acme.businessAccountId, [messagesChange({ messages: [photo] })]), acme.appSecret)).status).toBe(200);

    const seen = await eventually(async () => ((await shardAge()) ?? 0) >= 2 || undefined, 15_000, 'an age of 2 s on the shard in progress');
    expect(seen).toBe(true);
    await eventually(() => events.bodies<{ messageId: string }>().some((e) => e.messageId === wamid) || undefined, 30_000, 'the photo’s event');
    await eventually(async () => (await shardAge()) === 0, 15_000, 'the age back to 0 s');
  });

  it('when the worker stops, then its reports are gone and the queues show no age', async () => {
    await worker.handle.stop();
    await eventually(async () => (await shardAge()) === null, 15_000, 'the stopped worker’s reports to go');
  });
});
