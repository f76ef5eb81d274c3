import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Connection, type AsyncMessage, type Consumer } from 'rabbitmq-client';
import request from 'supertest';
import Transport from 'winston-transport';
import { startService, type ServiceHandle } from '../../src/bootstrap/service';
import { QUEUES, shardQueueName, everyShard } from '../../src/messaging';
import { loadConfig, type Config } from '../../src/config';
import { createLogger, Metrics } from '../../src/observability';
import { signPayload } from '../../src/receiver';
import { createMinio, createS3, ObjectStore } from '../../src/storage';
import type { Tenant } from '../../src/tenants';
import { stack } from './stack';
import { LOCAL_POSTGRES, postgresAdmin } from '../../support/postgres';
import { unlinkKeys } from '../../support/redis-keys';
import { eventually } from './wait';

const MESSAGE = Symbol.for('message');

/** The local broker's management API (the services apply their queue policies through it). */
export const MANAGEMENT_URL = 'http://guest:guest@127.0.0.1:15672';

/** HANDOFF_SHARDS of the services a harness starts, unless overridden. */
export const HARNESS_SHARDS = 2;

/** Keeps every log line exactly as it would be written to stdout. */
class CaptureTransport extends Transport {
  constructor(private readonly lines: string[]) {
    super();
  }
  override log(info: Record<string | symbol, unknown>, callback: () => void): void {
    this.lines.push(String(info[MESSAGE]));
    callback();
  }
}

export interface RunningService {
  handle: ServiceHandle;
  metrics: Metrics;
  config: Config;
}

/**
 * One test file's world: its own RabbitMQ vhost (so the contract's fixed queue names are
 * isolated), its own Redis key prefix, its own buckets, its own tenants file, and services
 * started in-process against the real local stack, with their log lines captured.
 */
export class Harness {
  readonly id = randomUUID().slice(0, 8);
  readonly vhost: string;
  readonly prefix: string;
  readonly rawBucket: string;
  readonly mediaBucket: string;
  readonly logs: string[] = [];
  readonly running: RunningService[] = [];
  private readonly dir: string;
  private connection: Connection | undefined;
  private redisClient: Redis | undefined;
  private objectStore: ObjectStore | undefined;
  private readonly readers: QueueReader[] = [];
  private databaseName: string | undefined;

  private constructor(
    label: string,
    readonly tenants: Tenant[],
  ) {
    this.vhost = `test-${label}-${this.id}`;
    this.prefix = `test:${this.id}:`;
    this.rawBucket = `raw-${label}-${this.id}`.slice(0, 63);
    this.mediaBucket = `media-${label}-${this.id}`.slice(0, 63);
    this.dir = mkdtempSync(join(tmpdir(), 'wws-test-'));
    writeFileSync(join(this.dir, 'tenants.json'), JSON.stringify(tenants));
  }

  static async create(label: string, tenants: Tenant[]): Promise<Harness> {
    const harness = new Harness(label, tenants);
    await stack('vhost', 'add', harness.vhost);
    return harness;
  }

  /** A PostgreSQL database of this harness's own on the local stack (made on first use, dropped by close); its URL. */
  async database(): Promise<string> {
    if (!this.databaseName) {
      const name = `t_${this.id}`;
      await postgresAdmin(`CREATE DATABASE ${name}`);
      this.databaseName = name;
    }
    return `${LOCAL_POSTGRES}/${this.databaseName}`;
  }

  get amqpUrl(): string {
    return `amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(this.vhost)}`;
  }

  /** The environment a service of this harness starts with; an override of '' removes the variable. */
  env(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      NODE_ENV: 'test',
      ROLE: 'all',
      PORT: '0',
      WORKER_PORT: '0',
      LOG_LEVEL: 'info',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: this.prefix,
      RABBITMQ_URL: this.amqpUrl,
      RABBITMQ_MANAGEMENT_URL: MANAGEMENT_URL,
      MINIO_ENDPOINT: '127.0.0.1',
      MINIO_PORT: '9000',
      MINIO_ACCESS_KEY: 'minioadmin',
      MINIO_SECRET_KEY: 'minioadmin',
      MINIO_BUCKET_RAW: this.rawBucket,
      MINIO_BUCKET_MEDIA: this.mediaBucket,
      TENANTS_FILE: join(this.dir, 'tenants.json'),
      RETRY_DELAYS_MS: '200,400,800',
      MAX_ATTEMPTS: '3',
      PUBLISH_CONFIRM_TIMEOUT_MS: '1500',
      WHATSAPP_GRAPH_URL: 'http://127.0.0.1:9',
      GRAPH_RETRY_DELAY_MS: '20',
      // Two shards unless a test says otherwise: fewer queues to declare per vhost, still more than one.
      HANDOFF_SHARDS: String(HARNESS_SHARDS),
      ...overrides,
    };
    for (const [key, value] of Object.entries(env)) if (value === '') delete env[key];
    return env;
  }

  async start(
    role: 'all' | 'api' | 'worker' = 'all',
    overrides: Record<string, string> = {},
    options: { defaultMetrics?: boolean } = {},
  ): Promise<RunningService> {
    const config = loadConfig(this.env({ ROLE: role, ...overrides }));
    const metrics = new Metrics({ defaultMetrics: options.defaultMetrics ?? false });
    const logger = createLogger({ level: config.logLevel, transport: new CaptureTransport(this.logs), defaultMeta: { role } });
    const handle = await startService(config, logger, metrics);
    const running = { handle, metrics, config };
    this.running.push(running);
    return running;
  }

  /** Signs `body` with `secret` the way Meta does and POSTs it to the service. */
  post(service: RunningService, body: Buffer | string, secret: string, headers: Record<string, string> = {}): request.Test {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
    return (
      request(service.handle.url)
        .post('/webhook')
        .set('Content-Type', 'application/json')
        .set('X-Hub-Signature-256', signPayload(bytes, secret))
        .set(headers)
        // A string: superagent would JSON-encode a Buffer. Fixtures are valid UTF-8, so the bytes are unchanged.
        .send(bytes.toString('utf8'))
    );
  }

  amqp(): Connection {
    if (!this.connection) {
      this.connection = new Connection({ url: this.amqpUrl, retryLow: 100, retryHigh: 500 });
      this.connection.on('error', () => undefined);
    }
    return this.connection;
  }

  redis(): Redis {
    this.redisClient ??= new Redis('redis://127.0.0.1:6379', { lazyConnect: false, maxRetriesPerRequest: 1 });
    return this.redisClient;
  }

  objects(): ObjectStore {
    const s3Config = loadConfig(this.env()).s3;
    this.objectStore ??= new ObjectStore(createS3(s3Config), createMinio(s3Config), new Metrics({ defaultMetrics: false }));
    return this.objectStore;
  }

  /** Messages waiting in a queue of this vhost (not counting those delivered and unacked). */
  async depth(queue: string): Promise<number> {
    const { messageCount } = await this.amqp().queueDeclare({ queue, passive: true });
    return messageCount;
  }

  /** Whether every hand-off shard of this vhost has a consumer (a worker has won its leases, which needs Redis). */
  async shardsConsumed(shards = HARNESS_SHARDS): Promise<boolean> {
    const declared = await Promise.all(everyShard(shards).map((shard) => this.amqp().queueDeclare({ queue: shardQueueName(shard), passive: true })));
    return declared.every(({ consumerCount }) => consumerCount > 0);
  }

  /** Hand-offs waiting to be processed: in every shard queue (of `shards`) and the unsharded queue. */
  async handoffDepth(shards = HARNESS_SHARDS): Promise<number> {
    const queues = [QUEUES.process, ...everyShard(shards).map(shardQueueName)];
    const depths = await Promise.all(queues.map((queue) => this.depth(queue)));
    return depths.reduce((n, d) => n + d, 0);
  }

  /** Starts consuming a queue of this vhost into memory. */
  reader(queue: string): QueueReader {
    const reader = new QueueReader(this.amqp(), queue);
    this.readers.push(reader);
    return reader;
  }

  /** Forgets dedup, event and status marks and event claims (fixtures reuse each other's wamids). */
  async clearMarks(): Promise<void> {
    const keys = await this.redis().keys(`${this.prefix}*`);
    const marks = keys.filter((key) => /:(rx|ev|ev-claim|status):/.test(key));
    if (marks.length > 0) await this.redis().del(...marks);
  }

  parsedLogs(): Array<Record<string, unknown>> {
    return this.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  async stopServices(): Promise<void> {
    const running = this.running.splice(0);
    await Promise.all(running.map((r) => r.handle.stop()));
  }

  async close(): Promise<void> {
    await this.stopServices();
    await Promise.all(this.readers.map((r) => r.close()));
    await this.connection?.close();
    await unlinkKeys(this.redis(), this.prefix);
    this.redis().disconnect();
    await stack('vhost', 'delete', this.vhost);
    if (this.databaseName) await postgresAdmin(`DROP DATABASE ${this.databaseName} WITH (FORCE)`);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Collects what arrives on a queue (JSON bodies parsed), acking each message. */
export class QueueReader {
  readonly messages: AsyncMessage[] = [];
  /** When each message arrived (epoch ms), in the same order as `messages`. */
  readonly arrivals: number[] = [];
  private readonly consumer: Consumer;

  constructor(rabbit: Connection, queue: string) {
    this.consumer = rabbit.createConsumer({ queue, queueOptions: { queue, passive: true }, qos: { prefetchCount: 500 } }, (msg) => {
      this.messages.push(msg);
      this.arrivals.push(Date.now());
    });
    this.consumer.on('error', () => undefined);
  }

  /** Resolves with the messages once at least `count` arrived. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<AsyncMessage[]> {
    await eventually(() => this.messages.length >= count, timeoutMs, `${count} message(s) (have ${this.messages.length})`);
    return this.messages;
  }

  /** Arrival time of the first message whose body matches. */
  arrivalOf(match: (body: Record<string, unknown>) => boolean): number | undefined {
    const index = this.messages.findIndex((m) => match(m.body as Record<string, unknown>));
    return index < 0 ? undefined : this.arrivals[index];
  }

  bodies<T = Record<string, unknown>>(): T[] {
    return this.messages.map((m) => m.body as T);
  }

  close(): Promise<void> {
    return this.consumer.close();
  }
}
