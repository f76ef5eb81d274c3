import { QUEUES } from '../../src/messaging';
import type { InboundEvent } from '../../src/contract';
import { tenant } from '../helpers/fixtures';
import { Harness, type QueueReader, type RunningService } from '../helpers/harness';
import { spawnService, type Spawned } from '../helpers/process';
import { stack } from '../helpers/stack';
import { eventually, sleep } from '../helpers/wait';
import { messagesChange, text, webhook } from '../helpers/webhooks';

jest.setTimeout(300_000);

const acme = tenant('acme', '899000000000001', 'acme-secret', { rateLimitPerMinute: 100_000 });
const TOTAL = 4500;
const CONCURRENCY = 8;
/** Pause of each client between webhooks: about 130 webhooks/s in all, so the traffic outlasts the fault schedule (~20 s). */
const PAUSE_MS = 55;

function payload(wamid: string): string {
  return webhook(acme.businessAccountId, [messagesChange({ messages: [text(wamid, 'x')] })]);
}

/**
 * Invariant 1 under every fault at once: webhooks keep arriving while RabbitMQ restarts, Redis
 * restarts, the object store is away for ten seconds and the worker is killed with SIGKILL.
 * Meta's behaviour is imitated: whatever did not get a 2xx is sent again until it does.
 */
describe('fault injection', () => {
  let harness: Harness;
  let api: RunningService;
  let events: QueueReader;
  const workers: Spawned[] = [];
  const startWorker = (): Spawned => {
    const w = spawnService({ ...harness.env(), ROLE: 'worker', WORKER_PORT: '0' });
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    harness = await Harness.create('faults-all', [acme]);
    api = await harness.start('api', { PUBLISH_CONFIRM_TIMEOUT_MS: '1000' });
    events = harness.reader(QUEUES.messages);
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await harness.close();
  });

  it('when RabbitMQ and Redis restart, the object store goes away and the worker is killed during traffic, then every acknowledged webhook becomes its event', async () => {
    let worker = startWorker();
    await worker.started();

    const acknowledged = new Set<string>();
    let refused = 0;
    const pending = Array.from({ length: TOTAL }, (_, i) => `wamid.fault-${harness.id}-${i}`);
    /** Refused webhooks, resent a second later (Meta retries what got no 2xx). */
    const retries: Array<{ wamid: string; at: number }> = [];
    let sending = true;

    const send = async (wamid: string): Promise<void> => {
      let status: number;
      try {
        status = (await harness.post(api, payload(wamid), acme.appSecret)).status;
      } catch {
        status = 0; // connection refused or reset
      }
      if (status === 200) acknowledged.add(wamid);
      else {
        refused += 1;
        retries.push({ wamid, at: Date.now() + 1_000 });
      }
    };
    const nextToSend = (): string | undefined => {
      const due = retries.findIndex((r) => r.at <= Date.now());
      if (due >= 0) return retries.splice(due, 1)[0]!.wamid;
      return pending.shift();
    };
    const clients = Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (sending) {
          const next = nextToSend();
          if (next === undefined) {
            await sleep(100);
            continue;
          }
          await send(next);
          await sleep(PAUSE_MS);
        }
      }),
    );

    const faults: string[] = [];
    const started = Date.now();
    const during = (): number => acknowledged.size;
    const stamp = (): string => `${((Date.now() - started) / 1000).toFixed(1)}s`;
    const atFault: number[] = [];
    await sleep(3_000);
    await stack('restart', 'rabbitmq');
    faults.push(`rabbitmq restarted at ${acknowledged.size} acknowledged (${stamp()})`);
    atFault.push(during());
    await sleep(3_000);
    await stack('restart', 'redis');
    faults.push(`redis restarted at ${acknowledged.size} (${stamp()})`);
    atFault.push(during());
    await sleep(2_000);
    await stack('stop', 's3');
    faults.push(`s3 stopped at ${acknowledged.size} (${stamp()})`);
    atFault.push(during());
    await sleep(10_000);
    await stack('start', 's3');
    faults.push(`s3 started at ${acknowledged.size} (${stamp()})`);
    atFault.push(during());
    await sleep(1_000);
    worker.child.kill('SIGKILL');
    await worker.exit;
    faults.push(`worker killed at ${acknowledged.size} (${stamp()})`);
    atFault.push(during());
    worker = startWorker();
    // Starting while 20 clients send and the stack recovers can take long on a busy CI machine.
    await worker.started(90_000);

    await eventually(() => acknowledged.size === TOTAL, 120_000, `every webhook acknowledged (have ${acknowledged.size})`);
    sending = false;
    await clients;

    const distinct = (): Set<string> => new Set(events.bodies<InboundEvent>().map((e) => e.messageId ?? ''));
    await eventually(() => [...acknowledged].every((w) => distinct().has(w)), 180_000, `every acknowledged webhook as an event (have ${distinct().size})`);
    const all = events.bodies<InboundEvent>().filter((e) => e.messageId?.startsWith(`wamid.fault-${harness.id}`));
    const report = {
      sent: TOTAL + refused,
      unique: TOTAL,
      acknowledged: acknowledged.size,
      refusedThenResent: refused,
      delivered: distinct().size,
      duplicates: all.length - distinct().size,
      faults,
    };
    process.stdout.write(`fault injection: ${JSON.stringify(report)}\n`);

    expect(acknowledged.size).toBe(TOTAL);
    // Each fault hit live traffic: webhooks were still arriving when it happened.
    for (const count of atFault) expect(count).toBeLessThan(TOTAL);
    expect(new Set(all.map((e) => e.messageId)).size).toBe(TOTAL);
    // Every copy of an event carries the same eventId, so consumers can dedup.
    expect(new Set(all.map((e) => e.eventId)).size).toBe(TOTAL);
    expect(refused).toBeGreaterThan(0); // the broker restart really refused some webhooks (503), which were sent again
    worker.child.kill('SIGTERM');
    expect(await worker.exit).toBe(0);
  });
});
