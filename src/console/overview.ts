import type { Connection } from 'rabbitmq-client';
import type { QueueAgeStore } from '../cache';
import { everyShard, QUEUES, shardQueueName } from '../messaging';
import type { Metrics } from '../observability';

/** Updates received by this process in one interval: accepted, duplicates, refused (any 4xx/5xx code). */
export interface IntakePoint {
  at: string;
  accepted: number;
  duplicates: number;
  refused: number;
}

export interface TenantIntake {
  tenant: string;
  accepted: number;
  duplicates: number;
  /** Refusals by code (`signature_invalid`, `rate_limited`, …). */
  refused: Record<string, number>;
}

export interface QueueDepth {
  queue: string;
  messages: number | null;
  consumers: number | null;
  /**
   * Seconds since the receiver accepted the oldest message a worker holds from this queue (0: none
   * in progress); null when no worker reports on it (queues our workers do not consume).
   */
  oldestSeconds: number | null;
}

const SAMPLE_EVERY_MS = 10_000;
/** An hour of samples. */
const SAMPLES = 361;

/**
 * The receiver's intake as the console shows it, from `webhook_received_total`: totals per tenant
 * since this process started, and an hour of 10 s samples (what this process received: with
 * several replicas, Prometheus has the sum).
 */
export class IntakeHistory {
  private readonly samples: Array<{ at: number; accepted: number; duplicates: number; refused: number }> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly metrics: Metrics) {
    this.timer = setInterval(() => void this.sample(), SAMPLE_EVERY_MS);
    this.timer.unref();
    void this.sample();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async byTenant(): Promise<TenantIntake[]> {
    const tenants = new Map<string, TenantIntake>();
    for (const { labels, value } of (await this.metrics.webhookReceived.get()).values) {
      const tenant = String(labels.tenant ?? 'unknown');
      const row = tenants.get(tenant) ?? { tenant, accepted: 0, duplicates: 0, refused: {} };
      tenants.set(tenant, row);
      const status = String(labels.status ?? '');
      if (status === 'accepted') row.accepted += value;
      else if (status === 'duplicate') row.duplicates += value;
      else row.refused[status] = (row.refused[status] ?? 0) + value;
    }
    return [...tenants.values()].sort((a, b) => (a.tenant < b.tenant ? -1 : 1));
  }

  /** Per interval since the oldest sample kept (and up to now). */
  async lastHour(): Promise<IntakePoint[]> {
    const now = await this.totals();
    const points = [...this.samples, now];
    return points.slice(1).map((p, i) => ({
      at: new Date(p.at).toISOString(),
      accepted: p.accepted - points[i]!.accepted,
      duplicates: p.duplicates - points[i]!.duplicates,
      refused: p.refused - points[i]!.refused,
    }));
  }

  private async sample(): Promise<void> {
    this.samples.push(await this.totals());
    if (this.samples.length > SAMPLES) this.samples.shift();
  }

  private async totals(): Promise<{ at: number; accepted: number; duplicates: number; refused: number }> {
    const total = { at: Date.now(), accepted: 0, duplicates: 0, refused: 0 };
    for (const row of await this.byTenant()) {
      total.accepted += row.accepted;
      total.duplicates += row.duplicates;
      total.refused += Object.values(row.refused).reduce((a, b) => a + b, 0);
    }
    return total;
  }
}

/**
 * Depth and consumers of the hand-off queues, the contract's queues and the dead letters, each
 * asked of the broker on its own (a queue not declared in this deployment shows null), with the
 * age of the oldest message the workers hold from each (what they report in Redis: RabbitMQ does
 * not tell it of a quorum queue; without Redis, null).
 */
export async function queueDepths(rabbit: Connection, ages: QueueAgeStore, shards: number, more: readonly string[]): Promise<QueueDepth[]> {
  const queues = [...everyShard(shards).map(shardQueueName), QUEUES.archive, QUEUES.messages, QUEUES.notifications, ...more, QUEUES.dead, QUEUES.deadEvents];
  const reported = await ages.ages().catch(() => new Map<string, number>());
  return Promise.all(
    queues.map(async (queue) => {
      const oldestSeconds = reported.get(queue) ?? null;
      try {
        const { messageCount, consumerCount } = await rabbit.queueDeclare({ queue, passive: true });
        return { queue, messages: messageCount, consumers: consumerCount, oldestSeconds };
      } catch {
        return { queue, messages: null, consumers: null, oldestSeconds };
      }
    }),
  );
}
