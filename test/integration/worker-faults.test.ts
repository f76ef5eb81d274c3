import { QUEUES } from '../../src/messaging';
import type { InboundEvent } from '../../src/contract';
import { tenant } from '../helpers/fixtures';
import { Harness, type QueueReader, type RunningService } from '../helpers/harness';
import { spawnService, type Spawned } from '../helpers/process';
import { stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';
import { messagesChange, status, webhook } from '../helpers/webhooks';

jest.setTimeout(180_000);

const acme = tenant('acme', '810000000000001', 'acme-secret');

/** One webhook carrying `count` status updates (a batch, as Meta sends them under load). */
function statusBatch(batch: string, count: number): string {
  const statuses = Array.from({ length: count }, (_, i) => status(`wamid.${batch}-${i}`, 'delivered'));
  return webhook(acme.businessAccountId, [messagesChange({ statuses })]);
}

describe('worker under faults', () => {
  let harness: Harness;
  let api: RunningService;
  let events: QueueReader;
  const workers: Spawned[] = [];
  const startWorker = (): Spawned => {
    const worker = spawnService({ ...harness.env(), ROLE: 'worker', WORKER_PORT: '0', RABBITMQ_PREFETCH: '4' });
    workers.push(worker);
    return worker;
  };
  const distinctEvents = (prefix: string): Set<string> =>
    new Set(
      events
        .bodies<InboundEvent>()
        .filter((e) => e.messageId?.startsWith(`wamid.${prefix}`))
        .map((e) => e.eventId),
    );

  beforeAll(async () => {
    harness = await Harness.create('faults', [acme]);
    api = await harness.start('api');
    events = harness.reader(QUEUES.messages);
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await harness.close();
  });

  it('when the worker is killed with SIGKILL mid-payload, then a new worker delivers every event (at least once, same eventIds)', async () => {
    const batches = 12;
    const perBatch = 250;
    for (let b = 0; b < batches; b++) expect((await harness.post(api, statusBatch(`kill${b}`, perBatch), acme.appSecret)).status).toBe(200);
    const total = batches * perBatch;

    const first = startWorker();
    await first.started();
    const atKill = await eventually(
      () => (distinctEvents('kill').size >= 300 ? distinctEvents('kill').size : undefined),
      60_000,
      'some events before the kill',
    );
    first.child.kill('SIGKILL');
    expect(await first.exit).toBeNull();
    expect(atKill).toBeLessThan(total);

    const second = startWorker();
    await second.started();
    await eventually(() => distinctEvents('kill').size === total, 120_000, `all ${total} events after the restart (have ${distinctEvents('kill').size})`);
    const all = events.bodies<InboundEvent>().filter((e) => e.messageId?.startsWith('wamid.kill'));
    const duplicates = all.length - total;
    expect(duplicates).toBeGreaterThanOrEqual(0);
    // Redelivered copies carry the same eventId as the first: consumers dedup on it.
    expect(new Set(all.map((e) => e.eventId)).size).toBe(total);
    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
  });

  it('when RabbitMQ restarts while the worker runs, then the worker reconnects by itself and finishes the work', async () => {
    const perBatch = 250;
    const post = async (from: number, to: number): Promise<void> => {
      for (let b = from; b < to; b++) expect((await harness.post(api, statusBatch(`restart${b}`, perBatch), acme.appSecret)).status).toBe(200);
    };
    await post(0, 40);
    const worker = startWorker();
    await worker.started();
    await eventually(() => distinctEvents('restart').size >= 200, 60_000, 'some events before the restart');
    await stack('restart', 'rabbitmq');
    // Work that arrives after the restart can only be done by a worker that reconnected.
    await eventually(
      async () => (await harness.post(api, statusBatch('restart40', perBatch), acme.appSecret)).status === 200,
      30_000,
      'the receiver to reconnect',
    );
    await post(41, 45);
    const total = 45 * perBatch;
    await eventually(
      () => distinctEvents('restart').size === total,
      120_000,
      `all ${total} events after the broker restart (have ${distinctEvents('restart').size})`,
    );
    expect(worker.logs().filter((l) => l.message === 'RabbitMQ connection established').length).toBeGreaterThanOrEqual(2);
    worker.child.kill('SIGTERM');
    expect(await worker.exit).toBe(0);
  });
});
