import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { QUEUES } from '../../src/messaging';
import type { InboundEvent, MediaContent } from '../../src/contract';
import { tenant } from '../helpers/fixtures';
import { digestOf, GraphStub } from '../../support/graph-stub';
import { Harness } from '../helpers/harness';
import { largePdf } from '../../support/media-samples';
import { eventually } from '../helpers/wait';
import { message, messagesChange, webhook } from '../helpers/webhooks';

jest.setTimeout(300_000);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const acme = tenant('acme', '840000000000001', 'acme-secret', { accessToken: 'token-acme' });
const MiB = 1024 * 1024;

/**
 * A memory test, not a timing test: a 100 MB document flows from the Graph API stand-in through
 * the worker into the object store while the heap is sampled. Streaming means the file is never
 * held: heap growth stays far below the file size.
 */
describe('a 100 MB document', () => {
  let harness: Harness;
  let graph: GraphStub;

  beforeAll(async () => {
    graph = await new GraphStub().start();
    harness = await Harness.create('memory', [acme]);
  });
  afterAll(async () => {
    await harness.close();
    await graph.stop();
  });

  it('when it is downloaded, then it is stored whole while the heap grows by at most 32 MB', async () => {
    const size = 100 * MiB;
    const body = largePdf(size);
    const sha256 = digestOf(body);
    graph.add({ id: 'big-doc', mimeType: 'application/pdf', body, sha256, token: 'token-acme' });
    const service = await harness.start('all', { WHATSAPP_GRAPH_URL: graph.url, MEDIA_IDLE_TIMEOUT_MS: '30000' });
    const events = harness.reader(QUEUES.messages);

    gc();
    const baseline = process.memoryUsage();
    let peakHeap = baseline.heapUsed;
    let peakBuffers = baseline.arrayBuffers;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peakHeap = Math.max(peakHeap, now.heapUsed);
      peakBuffers = Math.max(peakBuffers, now.arrayBuffers);
    }, 10);

    const started = performance.now();
    const payload = webhook(acme.businessAccountId, [
      messagesChange({ messages: [message('wamid.big', 'document', { id: 'big-doc', mime_type: 'application/pdf', filename: 'big.pdf' })] }),
    ]);
    expect((await harness.post(service, payload, acme.appSecret)).status).toBe(200);
    const event = await eventually(() => events.bodies<InboundEvent>().find((e) => e.messageId === 'wamid.big'), 240_000, 'the document event');
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);

    const media = event.content!.media as MediaContent;
    expect(media.error).toBeUndefined();
    expect(media).toMatchObject({ size, sha256 });
    const heapGrowth = (peakHeap - baseline.heapUsed) / MiB;
    const bufferGrowth = (peakBuffers - baseline.arrayBuffers) / MiB;
    process.stdout.write(
      `100 MB document: ${seconds.toFixed(1)} s (${(100 / seconds).toFixed(1)} MB/s), peak heap growth ${heapGrowth.toFixed(1)} MB, peak buffer growth ${bufferGrowth.toFixed(1)} MB\n`,
    );
    // The bound is PRODUCT.md's target; streaming keeps the measured growth far below it. Off-heap
    // buffer growth is reported only: it also counts the in-process Graph stand-in's chunks.
    expect(heapGrowth).toBeLessThan(32);
  });
});
