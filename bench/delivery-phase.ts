import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Pool } from 'pg';
import { SubscriptionStore } from '../src/subscriptions';
import { LOCAL_POSTGRES as POSTGRES, postgresAdmin as admin } from '../support/postgres';
import type { EventCounter } from './event-counter';
import { openLoop, percentile } from './load';
import type { BenchTenant, PayloadMix, PlannedRequest } from './payloads';
import { log, round, sleep, startChild, type Child } from './processes';

export interface DeliveryPhaseResult {
  /** Events delivered per second by one delivery process draining a backlog (fan-out, POST, log). */
  backlog: { events: number; seconds: number; perSecond: number };
  /** POST due (at the receiver) → received by the subscriber's endpoint, for webhooks sent at `rate`. */
  endToEnd: { rate: number; events: number; p50: number; p95: number };
  /** Distinct deliveries (by webhook-id) expected and received, and copies received more than once. */
  loss: { expected: number; received: number; duplicates: number };
}

/** The subscribers' endpoint: answers 204 at once and keeps when each `webhook-id` first arrived. */
class CountingEndpoint {
  readonly firstArrival = new Map<string, { at: number; correlationId: string }>();
  copies = 0;
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = performance.now();
        const id = String(req.headers['webhook-id']);
        this.copies += 1;
        if (!this.firstArrival.has(id)) {
          const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { correlationId: string };
          this.firstArrival.set(id, { at, correlationId: event.correlationId });
        }
        res.writeHead(204).end();
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/**
 * Event subscriptions under load, with the service idle otherwise: one delivery process
 * (ROLE=delivery, defaults) beside the run's receivers and worker, a subscription per bench tenant
 * (filter `#`) to a local endpoint.
 * - backlog: the delivery process is paused while `backlogWebhooks` webhooks go through the rest of
 *   the service, then resumed: deliveries per second until every one arrived;
 * - end to end: webhooks at `rate` for `seconds`, POST due → the endpoint's first copy;
 * - loss: every event of those webhooks (as counted on the queue) must arrive, by webhook-id.
 */
export async function deliveryPhase(
  urls: readonly string[],
  counter: EventCounter,
  mix: PayloadMix,
  tenants: readonly BenchTenant[],
  settings: { run: string; dir: string; env: NodeJS.ProcessEnv; rate: number; seconds: number; backlogWebhooks: number; timeoutMs: number },
): Promise<DeliveryPhaseResult> {
  const database = `bench_${settings.run.replace(/[^a-z0-9]/g, '')}`;
  await admin(`CREATE DATABASE ${database}`);
  const endpoint = await new CountingEndpoint().start();
  let delivery: Child | undefined;
  const pool = new Pool({ connectionString: `${POSTGRES}/${database}`, max: 2 });
  try {
    const started = (l: Record<string, unknown>): string | undefined => (l.message === 'service started' ? (l.url as string) : undefined);
    delivery = await startChild(
      ['--no-warnings', 'dist/main.js'],
      { ...settings.env, ROLE: 'delivery', DATABASE_URL: `${POSTGRES}/${database}`, ALLOW_INSECURE_ENDPOINTS: 'true', LEDGER_ENABLED: 'false' },
      join(settings.dir, 'delivery.log'),
      started,
    );
    const subscriptions = new SubscriptionStore(pool);
    for (const tenant of tenants)
      await subscriptions.create(tenant.id, { url: `${endpoint.url}/${tenant.id}`, description: 'bench', filter: ['#'], enabled: true });

    // Backlog: made while the delivery process is paused, drained once it is resumed.
    log(`deliveries: ${settings.backlogWebhooks} webhooks while the delivery process is paused, then its drain`);
    delivery.process.kill('SIGSTOP');
    const burstRate = Math.min(1000, settings.backlogWebhooks);
    const burst = await openLoop(urls, 'deliveries: backlog', burstRate, settings.backlogWebhooks / burstRate, () => mix.next('text'));
    const burstRequests = burst.samples.filter((s) => s.status === 200).map((s) => s.request);
    await waitFor(() => eventsOf(counter, burstRequests) !== undefined, settings.timeoutMs);
    const burstEvents = eventsOf(counter, burstRequests) ?? 0;
    const before = endpoint.firstArrival.size;
    const resumed = performance.now();
    delivery.process.kill('SIGCONT');
    await waitFor(() => endpoint.firstArrival.size - before >= burstEvents, settings.timeoutMs);
    const drainSeconds = (performance.now() - resumed) / 1000;

    // End to end at the target rate, from an idle delivery process.
    log(`deliveries: end to end at ${settings.rate}/s for ${settings.seconds} s`);
    const loop = await openLoop(urls, `deliveries: ${settings.rate}/s`, settings.rate, settings.seconds, () => mix.next('text'));
    const loopOk = loop.samples.filter((s) => s.status === 200);
    await waitFor(
      () =>
        eventsOf(
          counter,
          loopOk.map((s) => s.request),
        ) !== undefined,
      settings.timeoutMs,
    );
    const loopEvents =
      eventsOf(
        counter,
        loopOk.map((s) => s.request),
      ) ?? 0;
    const expected = burstEvents + loopEvents;
    await waitFor(() => endpoint.firstArrival.size - before >= expected, settings.timeoutMs);
    await sleep(1000);

    const dueAt = new Map(loopOk.map((s) => [s.request.correlationId, loop.startedAt + s.at]));
    const latencies = [...endpoint.firstArrival.values()]
      .filter((a) => dueAt.has(a.correlationId))
      .map((a) => a.at - dueAt.get(a.correlationId)!)
      .sort((a, b) => a - b);
    const received = endpoint.firstArrival.size - before;
    return {
      backlog: { events: burstEvents, seconds: round(drainSeconds), perSecond: Math.round(burstEvents / Math.max(0.001, drainSeconds)) },
      endToEnd: { rate: settings.rate, events: latencies.length, p50: round(percentile(latencies, 0.5)), p95: round(percentile(latencies, 0.95)) },
      loss: { expected, received, duplicates: endpoint.copies - endpoint.firstArrival.size },
    };
  } finally {
    delivery?.process.kill('SIGCONT');
    await delivery?.stop();
    await pool.end();
    await endpoint.stop();
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
}

/** Events the queue counter saw for these requests, once every one of them has at least one; undefined before. */
function eventsOf(counter: EventCounter, requests: readonly PlannedRequest[]): number | undefined {
  let total = 0;
  for (const request of requests) {
    const arrivals = counter.arrivalsByRequest.get(request.correlationId);
    if (!arrivals || arrivals.length === 0) return undefined;
    total += arrivals.length;
  }
  return total;
}

async function waitFor(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`deliveries: not done within ${timeoutMs} ms`);
    await sleep(100);
  }
}
