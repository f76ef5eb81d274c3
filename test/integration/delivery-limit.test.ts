import { ConsumerStatus } from 'rabbitmq-client';
import type { InboundEvent } from '../../src/contract';
import { declareTopology, QUEUES, QUEUE_POLICIES, shardQueueName, shardRetryQueueName } from '../../src/messaging';
import { tenant } from '../helpers/fixtures';
import { Harness, type QueueReader } from '../helpers/harness';
import { queuesOf, rabbitmq4Defaults } from '../helpers/management';
import { eventually, sleep } from '../helpers/wait';
import { messagesChange, text, webhook } from '../helpers/webhooks';

jest.setTimeout(120_000);

const acme = tenant('acme', '830000000000023', 'acme-secret', { accessToken: 'token-acme' });
const RETRY_DELAYS = [200, 400, 800];

/**
 * RabbitMQ 4 gives every quorum queue a delivery limit of 20 and drops a message delivered more
 * often when the queue has nowhere to dead-letter it. Each test runs with that default reproduced
 * by a policy on its vhost (3.10 has no such default).
 */
describe('quorum-queue delivery limits', () => {
  let harness: Harness;
  let events: QueueReader;

  beforeAll(async () => {
    harness = await Harness.create('limit', [acme]);
    await rabbitmq4Defaults(harness.vhost);
  });
  afterAll(async () => {
    await harness.close();
  });
  afterEach(async () => {
    await harness.stopServices();
    await events?.close();
  });

  const post = async (service: Parameters<Harness['post']>[0], message: ReturnType<typeof text>): Promise<void> => {
    const body = webhook(acme.businessAccountId, [messagesChange({ messages: [message] })]);
    expect((await harness.post(service, body, acme.appSecret)).status).toBe(200);
  };

  it('a hand-off whose retry copy the broker refuses is held until the copy goes through, not requeued until the limit drops it (no policy of ours applied)', async () => {
    const service = await harness.start('all', { HANDOFF_SHARDS: '1', RABBITMQ_MANAGEMENT_URL: '' });
    // The broker refuses both the event and the retry copy (no queue bound: unroutable), as it
    // refuses publishers under a memory or disk alarm.
    await harness.amqp().queueDelete({ queue: QUEUES.messages });
    await harness.amqp().queueDelete({ queue: shardRetryQueueName(RETRY_DELAYS[0]!) });

    await post(service, text('wamid.held', 'hold me'));
    await eventually(() => harness.parsedLogs().some((line) => line.holding !== undefined && line.step === 'retry'), 10_000, 'the copy refused');
    await sleep(3000);
    // Held: one attempt, not a loop of redeliveries (each of which counts against the delivery limit).
    const outcomes = (await service.metrics.handoffOutcome.get()).values;
    expect(outcomes.filter((v) => v.labels.outcome === 'requeue').reduce((n, v) => n + v.value, 0)).toBe(0);
    const refused = (await service.metrics.rabbitmqPublish.get()).values.filter((v) => v.labels.target === 'event' && v.labels.status === 'failed');
    expect(refused.reduce((n, v) => n + v.value, 0)).toBe(1);

    // The queues come back: the held copy goes, comes back to its shard, and the event is published.
    await declareTopology(harness.amqp(), RETRY_DELAYS, [1]);
    events = harness.reader(QUEUES.messages);
    await eventually(() => events.bodies<InboundEvent>().some((e) => e.messageId === 'wamid.held'), 30_000, 'the event');
    expect(harness.parsedLogs().some((line) => line.message === 'copy published after the broker refused it')).toBe(true);
  });

  it('a delivery the broker has handed out and taken back MAX_REDELIVERIES times is dead-lettered unhandled: dead-letter queue and failed store', async () => {
    const api = await harness.start('api', { HANDOFF_SHARDS: '1' });
    await post(api, text('wamid.crashes-workers', 'poison'));
    const shard = shardQueueName({ index: 0, count: 1 });
    await eventually(async () => (await harness.depth(shard)) === 1, 10_000, 'the hand-off in its shard');

    // Ten workers died holding it: handed out and taken back ten times (x-delivery-count 10, or 11).
    let rawKey: unknown;
    let returns = 0;
    // Past ten it is held until the consumer is cancelled: a fast loop must not reach the broker's own limit (50).
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const looping = harness.amqp().createConsumer({ queue: shard, queueOptions: { queue: shard, passive: true }, qos: { prefetchCount: 1 } }, async (msg) => {
      rawKey = msg.headers?.['x-raw-key'];
      returns += 1;
      if (returns > 10) await held;
      return ConsumerStatus.REQUEUE;
    });
    await eventually(() => returns >= 10, 10_000, 'ten returns');
    const cancelled = looping.close();
    release();
    await cancelled;
    events = harness.reader(QUEUES.messages);
    const dead = harness.reader(QUEUES.dead);

    await harness.start('worker', { HANDOFF_SHARDS: '1', MAX_REDELIVERIES: '10' });
    const [copy] = await dead.waitFor(1, 20_000);
    expect(copy!.headers?.['x-last-error']).toMatch(/^redelivered_too_often: /);
    expect(typeof rawKey).toBe('string');
    expect(await harness.objects().exists(harness.rawBucket, `failed/${String(rawKey)}`)).toBe(true);
    await sleep(500);
    expect(events.bodies<InboundEvent>().some((e) => e.messageId === 'wamid.crashes-workers')).toBe(false);
    await dead.close();
  });

  it('on queues that exist from an earlier version, the policies take hold at start: every queue has an explicit limit and a dead-letter target, and an event a consumer requeues 20 times is kept', async () => {
    // A vhost of its own: what an earlier version left there is the queues, without policies, and a hand-off waiting.
    const harness = await Harness.create('upgrade', [acme]);
    try {
      await upgrade(harness);
    } finally {
      await harness.close();
    }
  });
});

async function upgrade(harness: Harness): Promise<void> {
  await rabbitmq4Defaults(harness.vhost);
  const old = await harness.start('api', { HANDOFF_SHARDS: '1', RABBITMQ_MANAGEMENT_URL: '' });
  const body = webhook(acme.businessAccountId, [messagesChange({ messages: [text('wamid.rejected-by-consumer', 'hello')] })]);
  expect((await harness.post(old, body, acme.appSecret)).status).toBe(200);
  await harness.stopServices();
  await eventually(
    async () => (await queuesOf(harness.vhost)).find((q) => q.name === QUEUES.messages)?.policy === 'rabbitmq-4-default-delivery-limit',
    10_000,
    'the 4.x default on the queues as they were',
  );

  await harness.start('all', { HANDOFF_SHARDS: '1' });
  const queues = await eventually(
    async () => {
      const now = await queuesOf(harness.vhost);
      return now.every((q) => q.policy?.startsWith('whatsapp-webhook-service.')) ? now : undefined;
    },
    10_000,
    'policies on every queue',
  );
  const names = new Set(QUEUE_POLICIES.map((p) => p.name));
  for (const queue of queues) {
    expect(names.has(queue.policy!)).toBe(true);
    const effective = { ...queue.effective_policy_definition, ...queue.arguments };
    expect(typeof effective['delivery-limit']).toBe('number');
    // A retry copy goes back by its own routing key (a sharded one finds its shard by it): no policy may replace it.
    if (/\.retry\.\d+ms$/.test(queue.name)) expect(queue.effective_policy_definition?.['dead-letter-routing-key']).toBeUndefined();
    // The dead-letter queues are the end of the line; everything else dead-letters somewhere.
    if (queue.name !== QUEUES.dead && queue.name !== QUEUES.deadEvents) {
      expect(effective['dead-letter-exchange'] ?? effective['x-dead-letter-exchange']).toBeDefined();
      expect(effective['dead-letter-strategy'] ?? effective['x-dead-letter-strategy']).toBe('at-least-once');
    }
  }

  // A consumer of the contract's queue that fails on the event and requeues it, again and again.
  const channel = await harness.amqp().acquire();
  const returned = await eventually(
    async () => {
      const msg = await channel.basicGet({ queue: QUEUES.messages, noAck: false });
      if (!msg) return undefined;
      channel.basicNack({ deliveryTag: msg.deliveryTag, requeue: true });
      return (await harness.depth(QUEUES.deadEvents)) === 1 ? true : undefined;
    },
    30_000,
    'the event dead-lettered past the limit',
  );
  expect(returned).toBe(true);
  await channel.close();
  const kept = harness.reader(QUEUES.deadEvents);
  const [message] = await kept.waitFor(1);
  expect((message!.body as InboundEvent).messageId).toBe('wamid.rejected-by-consumer');
  expect(message!.headers?.['x-first-death-reason']).toBe('delivery_limit');
  expect(await harness.depth(QUEUES.messages)).toBe(0);
  await kept.close();
}
