import { createHash } from 'node:crypto';
import { QUEUES } from '../../src/messaging';
import type { InboundEvent, MediaContent } from '../../src/contract';
import type { JsonObject } from '../../src/meta';
import { tenant } from '../helpers/fixtures';
import { GraphStub, type StubMedia } from '../../support/graph-stub';
import { Harness, type QueueReader, type RunningService } from '../helpers/harness';
import { sampleMedia } from '../../support/media-samples';
import { eventually } from '../helpers/wait';
import { image, message, messagesChange, text, webhook } from '../helpers/webhooks';

jest.setTimeout(120_000);

const acme = tenant('acme', '830000000000001', 'acme-secret', { accessToken: 'token-acme' });
const hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const base64 = (b: Buffer): string => createHash('sha256').update(b).digest('base64');

describe('media', () => {
  let harness: Harness;
  let graph: GraphStub;
  let service: RunningService;
  let events: QueueReader;
  let seq = 0;

  beforeAll(async () => {
    graph = await new GraphStub().start();
    harness = await Harness.create('media', [acme]);
    service = await harness.start('all', {
      WHATSAPP_GRAPH_URL: graph.url,
      GRAPH_MAX_ATTEMPTS: '4',
      GRAPH_RETRY_DELAY_MS: '50',
      GRAPH_TIMEOUT_MS: '2000',
      MEDIA_IDLE_TIMEOUT_MS: '400',
      MEDIA_MAX_ATTEMPTS: '2',
      MEDIA_CONCURRENCY: '2',
    });
    events = harness.reader(QUEUES.messages);
  });
  afterAll(async () => {
    await harness.close();
    await graph.stop();
  });

  /** Posts one media message (as Meta's webhook carries it: id, mime type, base64 sha256) and returns its event. */
  async function send(type: string, media: JsonObject, extra: JsonObject[] = []): Promise<{ event: InboundEvent; wamid: string; all: InboundEvent[] }> {
    const wamid = `wamid.media-${harness.id}-${seq++}`;
    const messages = [message(wamid, type, media), ...extra];
    const body = webhook(acme.businessAccountId, [messagesChange({ messages })]);
    const res = await harness.post(service, body, acme.appSecret);
    expect(res.status).toBe(200);
    const correlationId = res.headers['x-correlation-id'] as string;
    const all = await eventually(
      () => {
        const mine = events.bodies<InboundEvent>().filter((e) => e.correlationId === correlationId);
        return mine.length === messages.length ? mine : undefined;
      },
      30_000,
      `events of ${wamid}`,
    );
    return { event: all.find((e) => e.messageId === wamid)!, wamid, all };
  }

  function media(event: InboundEvent): MediaContent {
    return event.content!.media as MediaContent;
  }

  function stub(id: string, mimeType: string, body: Buffer, extra: Partial<StubMedia> = {}): StubMedia {
    return graph.add({ id, mimeType, body, token: 'token-acme', ...extra });
  }

  const day = new Date().toISOString().slice(0, 10);

  describe.each([
    ['image', 'image/jpeg', 'image/jpeg', 'jpg', {}],
    ['image', 'image/png', 'image/png', 'png', {}],
    ['video', 'video/mp4', 'video/mp4', 'mp4', {}],
    ['audio', 'audio/ogg; codecs=opus', 'audio/ogg', 'ogg', { voice: true }],
    ['audio', 'audio/mpeg', 'audio/mpeg', 'mp3', {}],
    ['document', 'application/pdf', 'application/pdf', 'pdf', { filename: 'invoice.pdf' }],
    ['sticker', 'image/webp', 'image/webp', 'webp', { animated: false }],
    ['sticker', 'image/webp', 'image/webp;animated', 'webp', { animated: true }],
  ] as const)('when a %s (%s) arrives', (type, mimeType, sample, ext, extra) => {
    it('then it is stored under its tenant, type, day and wamid with identical bytes and sha256, and its presigned URL serves it', async () => {
      const bytes = sampleMedia(sample, type === 'sticker' ? 40_000 : 300_000);
      const id = `${type}-${ext}-${harness.id}-${seq}`;
      stub(id, mimeType, bytes);
      const { event, wamid } = await send(type, { id, mime_type: mimeType, sha256: base64(bytes), ...extra });
      const m = media(event);
      expect(m.error).toBeUndefined();
      expect(m).toMatchObject({
        id,
        mimeType,
        sha256: hex(bytes),
        size: bytes.length,
        bucket: harness.mediaBucket,
        key: `acme/${type}/${day}/${wamid}.${ext}`,
      });
      const stored = await harness.objects().get(harness.mediaBucket, m.key!);
      expect(stored!.body.equals(bytes)).toBe(true);
      expect(stored!.contentType).toBe(mimeType);
      expect(stored!.metadata.sha256).toBe(hex(bytes));
      const served = await fetch(m.url!);
      expect(served.status).toBe(200);
      expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
      expect(Date.parse(m.urlExpiresAt!) - Date.now()).toBeGreaterThan(3_500_000);
      expect(Date.parse(m.urlExpiresAt!) - Date.now()).toBeLessThanOrEqual(3_600_000);
      expect(graph.requests.filter((r) => r.id === id).every((r) => r.authorization === 'Bearer token-acme')).toBe(true);
    });
  });

  it('when the webhook carries the media URL inline, then it is downloaded from there without a lookup', async () => {
    const bytes = sampleMedia('image/jpeg', 50_000);
    const id = `inline-${harness.id}`;
    stub(id, 'image/jpeg', bytes);
    const { event } = await send('image', { id, mime_type: 'image/jpeg', sha256: base64(bytes), url: graph.downloadUrl(id) });
    expect(media(event).error).toBeUndefined();
    expect(graph.count('lookup', id)).toBe(0);
    expect(graph.count('download', id)).toBe(1);
  });

  it('when the download URL has expired (404), then a fresh URL is looked up and the download succeeds', async () => {
    const bytes = sampleMedia('image/png', 50_000);
    const id = `expired-${harness.id}`;
    stub(id, 'image/png', bytes, { download: [404, 'ok'] });
    const { event } = await send('image', { id, mime_type: 'image/png', sha256: base64(bytes) });
    expect(media(event)).toMatchObject({ sha256: hex(bytes) });
    expect(media(event).error).toBeUndefined();
    expect(graph.count('lookup', id)).toBe(2);
    expect(graph.count('download', id)).toBe(2);
  });

  it('when the Graph API answers 500 and then 200, then it is retried and succeeds', async () => {
    const bytes = sampleMedia('video/mp4', 80_000);
    const id = `flaky-${harness.id}`;
    stub(id, 'video/mp4', bytes, { lookup: [500, 'ok'], download: [503, 'ok'] });
    const { event } = await send('video', { id, mime_type: 'video/mp4', sha256: base64(bytes) });
    expect(media(event).error).toBeUndefined();
    expect(graph.count('lookup', id)).toBe(2);
    expect(graph.count('download', id)).toBe(2);
  });

  it('when the Graph API answers 429, then it backs off and retries until it may', async () => {
    const bytes = sampleMedia('image/jpeg', 20_000);
    const id = `limited-${harness.id}`;
    stub(id, 'image/jpeg', bytes, { lookup: [429, 429, 'ok'] });
    const { event } = await send('image', { id, mime_type: 'image/jpeg', sha256: base64(bytes) });
    expect(media(event).error).toBeUndefined();
    const times = graph.requests.filter((r) => r.id === id && r.kind === 'lookup').map((r) => r.at);
    expect(times).toHaveLength(3);
    const counts = await service.metrics.graphRequests.get();
    expect(counts.values.find((v) => v.labels.operation === 'media_info' && v.labels.outcome === '429')?.value).toBeGreaterThanOrEqual(2);
  });

  it('when Meta is down past the retries, then the message is still published, with media.error', async () => {
    const id = `down-${harness.id}`;
    stub(id, 'image/jpeg', sampleMedia('image/jpeg', 1000), { lookup: [500] });
    const { event } = await send('image', { id, mime_type: 'image/jpeg', sha256: 'x' });
    expect(media(event)).toMatchObject({ id, bucket: null, key: null, url: null, error: { code: 'graph_unavailable' } });
    expect(graph.count('lookup', id)).toBe(4);
  });

  it("when Meta refuses the cached token (401), then the tenant's token is re-read once and the download succeeds", async () => {
    await harness.redis().set(`${harness.prefix}token:acme`, 'stale-token', 'EX', 3600);
    const bytes = sampleMedia('image/jpeg', 20_000);
    const id = `stale-${harness.id}`;
    stub(id, 'image/jpeg', bytes);
    const { event } = await send('image', { id, mime_type: 'image/jpeg', sha256: base64(bytes) });
    expect(media(event).error).toBeUndefined();
    expect(graph.requests.filter((r) => r.id === id).map((r) => r.authorization)).toEqual(['Bearer stale-token', 'Bearer token-acme', 'Bearer token-acme']);
    expect(await harness.redis().get(`${harness.prefix}token:acme`)).toBe('token-acme');
    expect(await harness.redis().ttl(`${harness.prefix}token:acme`)).toBeGreaterThan(86_000);
  });

  it('when the token is refused even after re-reading it (401), then it is a counted media.error and not retried further', async () => {
    const id = `unauthorized-${harness.id}`;
    graph.add({ id, mimeType: 'image/jpeg', body: sampleMedia('image/jpeg', 1000), token: 'some-other-token' });
    const before = (await service.metrics.mediaFailures.get()).values.find((v) => v.labels.reason === 'graph_unauthorized')?.value ?? 0;
    const { event } = await send('image', { id, mime_type: 'image/jpeg', sha256: 'x' });
    expect(media(event).error).toMatchObject({ code: 'graph_unauthorized' });
    expect(graph.count('lookup', id)).toBe(1);
    const after = (await service.metrics.mediaFailures.get()).values.find((v) => v.labels.reason === 'graph_unauthorized')?.value;
    expect(after).toBe(before + 1);
  });

  it('when the download stalls, then it times out, is retried, and ends as media.error', async () => {
    const id = `stall-${harness.id}`;
    stub(id, 'image/jpeg', sampleMedia('image/jpeg', 10_000), { download: ['stall'] });
    const { event } = await send('image', { id, mime_type: 'image/jpeg', sha256: 'x' });
    expect(media(event).error).toMatchObject({ code: 'download_stalled' });
    expect(graph.count('download', id)).toBe(2);
  });

  it("when the bytes do not match Meta's sha256, then the copy is deleted and the event says so", async () => {
    const bytes = sampleMedia('image/jpeg', 20_000);
    const id = `mismatch-${harness.id}`;
    stub(id, 'image/jpeg', bytes, { sha256: hex(Buffer.from('something else')) });
    const { event, wamid } = await send('image', { id, mime_type: 'image/jpeg', sha256: 'x' });
    expect(media(event).error).toMatchObject({ code: 'sha256_mismatch' });
    expect(await harness.objects().exists(harness.mediaBucket, `acme/image/${day}/${wamid}.jpg`)).toBe(false);
  });

  it('when Meta reports a size over the limit, then nothing is downloaded', async () => {
    const id = `huge-${harness.id}`;
    stub(id, 'image/jpeg', sampleMedia('image/jpeg', 1000), { reportedSize: '6291456' });
    const { event } = await send('image', { id, mime_type: 'image/jpeg', sha256: 'x' });
    expect(media(event).error).toMatchObject({ code: 'too_large' });
    expect(graph.count('download', id)).toBe(0);
  });

  it('when the bytes turn out larger than the limit, then the transfer is cut and nothing is kept', async () => {
    const bytes = sampleMedia('image/webp', 150_000);
    const id = `bigsticker-${harness.id}`;
    stub(id, 'image/webp', bytes, { reportedSize: 1000 });
    const { event, wamid } = await send('sticker', { id, mime_type: 'image/webp', sha256: base64(bytes), animated: false });
    expect(media(event).error).toMatchObject({ code: 'too_large' });
    expect(await harness.objects().exists(harness.mediaBucket, `acme/sticker/${day}/${wamid}.webp`)).toBe(false);
  });

  it('when a PDF is sent as image/jpeg, then its magic number gives it away and nothing is kept', async () => {
    const bytes = sampleMedia('application/pdf', 30_000);
    const id = `lie-${harness.id}`;
    stub(id, 'image/jpeg', bytes);
    const { event, wamid } = await send('image', { id, mime_type: 'image/jpeg', sha256: base64(bytes) });
    expect(media(event).error).toMatchObject({ code: 'type_mismatch' });
    expect(await harness.objects().exists(harness.mediaBucket, `acme/image/${day}/${wamid}.jpg`)).toBe(false);
  });

  it("when slow downloads and another customer's text share a payload, then the text is published first, and downloads stay within the concurrency bound", async () => {
    graph.maxConcurrentDownloads = 0;
    const ids = [0, 1, 2, 3].map((i) => `slow-${harness.id}-${i}`);
    const bytes = sampleMedia('image/jpeg', 10_000);
    for (const id of ids) stub(id, 'image/jpeg', bytes, { download: ['slow'] });
    const extra = [
      ...ids.slice(1).map((id, i) => image(`wamid.slow-${harness.id}-${i}`, { id, mime_type: 'image/jpeg', sha256: base64(bytes) })),
      // Another conversation: nothing holds it back (the same customer's text would wait for its photos, in order).
      text(`wamid.fast-${harness.id}`, 'quick', '447700900999'),
    ];
    const started = Date.now();
    const { all, wamid } = await send('image', { id: ids[0], mime_type: 'image/jpeg', sha256: base64(bytes) }, extra);
    expect(all.every((e) => e.type === 'text' || !(e.content!.media as MediaContent).error)).toBe(true);
    const at = (messageId: string): number => events.arrivalOf((e) => e.messageId === messageId)! - started;
    const textAt = at(`wamid.fast-${harness.id}`);
    const imageTimes = [wamid, ...extra.slice(0, 3).map((m) => m.id as string)].map(at);
    expect(textAt).toBeLessThan(graph.slowMs);
    expect(Math.max(...imageTimes)).toBeGreaterThan(2 * graph.slowMs - 100); // four slow downloads, two at a time
    expect(graph.maxConcurrentDownloads).toBe(2);
  });

  it('then media metrics are exported', async () => {
    const text = await service.metrics.registry.metrics();
    expect(text).toMatch(/media_download_duration_seconds_count\{media_type="image"\} \d+/);
    expect(text).toMatch(/media_download_size_bytes_sum\{media_type="document"\} \d+/);
    expect(text).toMatch(/minio_upload_duration_seconds_count\{kind="media"\} \d+/);
    expect(text).toMatch(/media_failures_total\{tenant="acme",reason="type_mismatch"\} 1/);
  });
});
