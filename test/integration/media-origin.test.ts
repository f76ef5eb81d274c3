import { QUEUES } from '../../src/messaging';
import type { JsonObject } from '../../src/meta';
import type { InboundEvent, MediaContent } from '../../src/contract';
import { tenant } from '../helpers/fixtures';
import { GraphStub } from '../../support/graph-stub';
import { Harness, type QueueReader, type RunningService } from '../helpers/harness';
import { HttpStub } from '../helpers/http-stub';
import { sampleMedia } from '../../support/media-samples';
import { eventually } from '../helpers/wait';
import { image, messagesChange, webhook } from '../helpers/webhooks';

jest.setTimeout(120_000);

const acme = tenant('acme', '860000000000001', 'acme-secret', { accessToken: 'token-acme' });

/**
 * Media comes only from Meta: the tenant's token goes to the Graph API and the allowed media
 * hosts, never to a URL a payload names elsewhere (here a canary standing in for an internal
 * service: it must receive nothing), and a download that drips or carries unstorable fields ends
 * as `media.error`, never as an outage.
 */
describe('media origin', () => {
  let harness: Harness;
  let graph: GraphStub;
  let canary: HttpStub;
  let service: RunningService;
  let events: QueueReader;
  let seq = 0;

  beforeAll(async () => {
    graph = await new GraphStub().start();
    graph.dripMs = 100;
    canary = await new HttpStub().start();
    canary.handler = () => ({ status: 200, body: { id: 'other', appSecret: 'stolen?' } });
    harness = await Harness.create('media-origin', [acme]);
    service = await harness.start('all', {
      WHATSAPP_GRAPH_URL: graph.url,
      GRAPH_MAX_ATTEMPTS: '1',
      MEDIA_MAX_ATTEMPTS: '3',
      MEDIA_IDLE_TIMEOUT_MS: '1000',
      MEDIA_DOWNLOAD_TIMEOUT_MS: '2000',
    });
    events = harness.reader(QUEUES.messages);
  });
  afterAll(async () => {
    await harness.close();
    await graph.stop();
    await canary.stop();
  });

  async function send(media: JsonObject): Promise<{ event: InboundEvent; postedAt: number }> {
    const wamid = `wamid.origin-${harness.id}-${seq++}`;
    const postedAt = Date.now();
    const res = await harness.post(service, webhook(acme.businessAccountId, [messagesChange({ messages: [image(wamid, media)] })]), acme.appSecret);
    expect(res.status).toBe(200);
    const event = await eventually(() => events.bodies<InboundEvent>().find((e) => e.messageId === wamid), 15_000, `the event of ${wamid}`).catch((e) => {
      console.log(harness.logs.slice(-15).join('\n'));
      throw e;
    });
    return { event, postedAt };
  }
  const mediaOf = (event: InboundEvent): MediaContent => event.content!.media as MediaContent;
  const failures = async (reason: string): Promise<number> =>
    (await service.metrics.mediaFailures.get()).values.filter((v) => v.labels.reason === reason).reduce((n, v) => n + v.value, 0);

  it('when an inline media URL points at another host, then the token never goes there and the media comes from the Graph API lookup instead', async () => {
    graph.add({ id: 'origin-1', mimeType: 'image/jpeg', body: sampleMedia('image/jpeg', 4096), token: 'token-acme' });
    const { event } = await send({ id: 'origin-1', mime_type: 'image/jpeg', url: `${canary.url}/tenants/by-business-account/880000000000002` });
    expect(canary.requests).toEqual([]);
    expect(mediaOf(event)).toMatchObject({ size: 4096, bucket: harness.mediaBucket });
    expect(graph.count('lookup', 'origin-1')).toBe(1);
    expect(
      harness
        .parsedLogs()
        .some((l) => l.message === 'inline media URL is not on an allowed host; asking the Graph API instead' && l.correlationId === event.correlationId),
    ).toBe(true);
  });

  it('when such a URL comes without a media id, then the message is published with media.error media_url_rejected', async () => {
    const { event } = await send({ mime_type: 'image/jpeg', url: `${canary.url}/internal` });
    expect(canary.requests).toEqual([]);
    expect(mediaOf(event).error).toMatchObject({ code: 'media_url_rejected' });
  });

  it('when an allowed download redirects to another host, then the hop is refused before any connection and the token stays home', async () => {
    graph.add({ id: 'origin-2', mimeType: 'image/jpeg', body: sampleMedia('image/jpeg', 1024), token: 'token-acme', redirectTo: `${canary.url}/steal` });
    const { event } = await send({ id: 'origin-2', mime_type: 'image/jpeg' });
    expect(canary.requests).toEqual([]);
    expect(mediaOf(event).error).toMatchObject({ code: 'media_url_rejected' });
    expect(await failures('media_url_rejected')).toBeGreaterThanOrEqual(2);
  });

  it('when the source drips one byte at a time (never idle), then the copy ends at MEDIA_DOWNLOAD_TIMEOUT_MS with media.error download_timeout', async () => {
    graph.add({ id: 'origin-3', mimeType: 'image/jpeg', body: sampleMedia('image/jpeg', 4096), token: 'token-acme', download: ['drip'] });
    const { event, postedAt } = await send({ id: 'origin-3', mime_type: 'image/jpeg' });
    expect(mediaOf(event).error).toMatchObject({ code: 'download_timeout' });
    // One deadline for every attempt (three are allowed): well before 3 x 2 s plus the backoff.
    expect(Date.now() - postedAt).toBeLessThan(5_000);
    await eventually(() => graph.activeDownloads === 0, 5_000, 'the dripping download to be closed');
  });

  it.each([
    ['a MIME type with a line break', { id: 'origin-4', mime_type: 'image/jpeg\r\nX-Injected: 1' }],
    ['a media id with control characters', { id: 'origin\u0000-5', mime_type: 'image/jpeg' }],
  ])('when the media carries %s, then it is a permanent media.error, not an object store outage retried for days', async (_what, media) => {
    const before = (await service.metrics.updateFailures.get()).values.length;
    const { event } = await send(media);
    expect(mediaOf(event).error).toMatchObject({ code: 'media_field_invalid' });
    expect((await service.metrics.updateFailures.get()).values.length).toBe(before);
  });
});
