import { createServer, type Server, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config';
import { TransientError } from '../../src/errors';
import { Metrics } from '../../src/observability';
import { createMinio, createS3, ObjectStore } from '../../src/storage';
import { Harness } from '../helpers/harness';

describe('object store writes', () => {
  let harness: Harness;
  let s3Config: ReturnType<typeof loadConfig>['s3'];
  let s3: ReturnType<typeof createS3>;
  let store: ObjectStore;
  const bucket = `store-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    harness = await Harness.create('store', []);
    s3Config = loadConfig(harness.env()).s3;
    s3 = createS3(s3Config);
    store = new ObjectStore(s3, createMinio(s3Config), new Metrics({ defaultMetrics: false }));
    await store.ensureBucket(bucket);
  });
  afterAll(async () => {
    s3.destroy();
    await harness.close();
  });

  it('stores the exact bytes with their content type and metadata', async () => {
    const body = Buffer.from('{"text":"caf\\u00e9 \\/ \\ud83d\\ude00","raw":"é"}');
    await store.put(
      'raw',
      bucket,
      'acme/2026-11-23/1-wamid.A.json',
      body,
      'application/json',
      { 'tenant-id': 'acme', 'correlation-id': 'c-1' },
      { kind: 'raw' },
    );

    const stored = await store.get(bucket, 'acme/2026-11-23/1-wamid.A.json');
    expect(stored?.body.equals(body)).toBe(true);
    expect(stored?.contentType).toBe('application/json');
    expect(stored?.metadata).toMatchObject({ 'tenant-id': 'acme', 'correlation-id': 'c-1' });
  });

  it('turns a missing bucket into a TransientError naming the operation', async () => {
    const err = await store.put('raw', `missing-${randomUUID().slice(0, 8)}`, 'k.json', Buffer.from('{}'), 'application/json').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as TransientError).message).toBe('Object store put failed');
    expect((err as TransientError).options.cause).toMatchObject({ code: 'NoSuchBucket' });
  });

  describe('against a server that accepts connections and never answers', () => {
    let server: Server;
    const sockets: Socket[] = [];
    beforeAll(async () => {
      server = createServer((socket) => void sockets.push(socket.on('error', () => undefined)));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    });

    it('gives up after the request deadline with a TransientError, so the message is retried', async () => {
      const port = (server.address() as { port: number }).port;
      const hung = new ObjectStore(
        s3,
        createMinio({ ...s3Config, endpoint: '127.0.0.1', port }, { requestTimeoutMs: 300 }),
        new Metrics({ defaultMetrics: false }),
      );
      const started = performance.now();
      const err = await hung.put('raw', bucket, 'k.json', Buffer.from('{}'), 'application/json').catch((e: unknown) => e);
      const waited = performance.now() - started;
      expect(err).toBeInstanceOf(TransientError);
      expect(String((err as TransientError).options.cause)).toMatch(/did not answer for 300 ms/);
      expect(waited).toBeGreaterThanOrEqual(290);
    });
  });
});
