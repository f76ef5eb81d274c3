import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

/** What the stand-in does for one request: answer with a status, stall, or serve the media. */
export type Step = number | 'ok' | 'stall' | 'cut' | 'slow' | 'drip';

export interface StubMedia {
  id: string;
  mimeType: string;
  /** The bytes served (or a generator of them, for large files never held in memory). */
  body: Buffer | { size: number; chunk: (offset: number, length: number) => Buffer };
  /** What the lookup reports; defaults to the real digest (hex, as the Graph API gives it). */
  sha256?: string;
  /** Reported file_size; defaults to the real size. */
  reportedSize?: number | string;
  /** Lookup answers, in order; the last one repeats. Default: ['ok']. */
  lookup?: Step[];
  /** Download answers, in order; the last one repeats. Default: ['ok']. */
  download?: Step[];
  /** Only this token is accepted (401 otherwise). */
  token?: string;
  /** The download answers 302 with this Location. */
  redirectTo?: string;
}

export interface RecordedRequest {
  kind: 'lookup' | 'download';
  id: string;
  authorization: string | undefined;
  at: number;
}

/**
 * A local stand-in for Meta's Graph API (outside our system): `GET /{version}/{media-id}` and
 * the download URLs it hands out, with scripted failures (404 for an expired URL, 429, 500,
 * 401, a stalled or cut-off transfer) and a log of what was asked.
 */
export class GraphStub {
  readonly requests: RecordedRequest[] = [];
  /** Downloads being served right now, and the most there ever were at once. */
  activeDownloads = 0;
  maxConcurrentDownloads = 0;
  /** How long a `slow` download takes. */
  slowMs = 1500;
  /** A `drip` download sends one byte this often, forever (never idle long enough to look stalled). */
  dripMs = 200;
  private readonly media = new Map<string, StubMedia>();
  private readonly counters = new Map<string, number>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  add(media: StubMedia): StubMedia {
    this.media.set(media.id, media);
    return media;
  }

  /** The URL the lookup returns for a media id (also usable inline in a webhook). */
  downloadUrl(id: string): string {
    return `${this.url}/download/${encodeURIComponent(id)}?hash=stub`;
  }

  count(kind: 'lookup' | 'download', id: string): number {
    return this.requests.filter((r) => r.kind === kind && r.id === id).length;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const download = /^\/download\/([^/]+)$/.exec(url.pathname);
    const lookup = /^\/v\d+\.\d+\/([^/]+)$/.exec(url.pathname);
    const id = decodeURIComponent(download?.[1] ?? lookup?.[1] ?? '');
    const kind = download ? 'download' : 'lookup';
    this.requests.push({ kind, id, authorization: req.headers.authorization, at: Date.now() });
    const media = this.media.get(id);
    if (!media || (!download && !lookup)) return void res.writeHead(404).end('{"error":{"message":"Unsupported get request"}}');
    if (media.token && req.headers.authorization !== `Bearer ${media.token}`) return void res.writeHead(401).end('{"error":{"code":190}}');
    const step = this.next(`${kind}:${id}`, kind === 'download' ? media.download : media.lookup);
    if (typeof step === 'number') return void res.writeHead(step, { 'content-type': 'application/json' }).end('{"error":{}}');
    if (kind === 'lookup') return this.answerLookup(res, media);
    if (media.redirectTo) return void res.writeHead(302, { location: media.redirectTo }).end();
    this.serve(res, media, step);
  }

  private next(counterKey: string, steps: Step[] | undefined): Step {
    const list = steps ?? ['ok'];
    const n = this.counters.get(counterKey) ?? 0;
    this.counters.set(counterKey, n + 1);
    return list[Math.min(n, list.length - 1)] ?? 'ok';
  }

  private answerLookup(res: ServerResponse, media: StubMedia): void {
    const size = Buffer.isBuffer(media.body) ? media.body.length : media.body.size;
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        messaging_product: 'whatsapp',
        url: this.downloadUrl(media.id),
        mime_type: media.mimeType,
        sha256: media.sha256 ?? digestOf(media.body),
        file_size: media.reportedSize ?? size,
        id: media.id,
      }),
    );
  }

  private serve(res: ServerResponse, media: StubMedia, step: Step): void {
    this.activeDownloads += 1;
    this.maxConcurrentDownloads = Math.max(this.maxConcurrentDownloads, this.activeDownloads);
    res.on('close', () => (this.activeDownloads -= 1));
    res.writeHead(200, { 'content-type': media.mimeType.split(';')[0]! });
    if (step === 'slow') {
      // Ten pieces spread over slowMs: slow, but never idle long enough to look stalled.
      const bytes = Buffer.isBuffer(media.body) ? media.body : media.body.chunk(0, media.body.size);
      const piece = Math.ceil(bytes.length / 10);
      let sent = 0;
      const timer = setInterval(() => {
        res.write(bytes.subarray(sent, sent + piece));
        sent += piece;
        if (sent >= bytes.length) {
          clearInterval(timer);
          res.end();
        }
      }, this.slowMs / 10);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (step === 'drip') {
      const bytes = Buffer.isBuffer(media.body) ? media.body : media.body.chunk(0, 4096);
      let sent = 0;
      const timer = setInterval(() => res.write(bytes.subarray(sent % bytes.length, (sent++ % bytes.length) + 1)), this.dripMs);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (step === 'stall') {
      res.write(Buffer.isBuffer(media.body) ? media.body.subarray(0, 16) : media.body.chunk(0, 16));
      return; // never ends: the client's idle timeout must fire
    }
    const stream = bodyStream(media.body);
    if (step === 'cut') {
      stream.once('data', () => res.destroy());
    }
    stream.pipe(res);
  }
}

function bodyStream(body: StubMedia['body']): Readable {
  if (Buffer.isBuffer(body)) return Readable.from([body]);
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= body.size) return void this.push(null);
      const length = Math.min(256 * 1024, body.size - offset);
      this.push(body.chunk(offset, length));
      offset += length;
    },
  });
}

export function digestOf(body: StubMedia['body']): string {
  const hash = createHash('sha256');
  if (Buffer.isBuffer(body)) return hash.update(body).digest('hex');
  for (let offset = 0; offset < body.size; offset += 256 * 1024) hash.update(body.chunk(offset, Math.min(256 * 1024, body.size - offset)));
  return hash.digest('hex');
}
