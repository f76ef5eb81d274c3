import type { DedupStore } from '../cache';
import { shardHandoffs, type HandoffPublisher } from '../messaging';
import { listUpdates, updateTypeLabel, type EntryRef, type Update } from '../meta';
import { LogThrottle, type Logger, type Metrics } from '../observability';
import type { Tenant } from '../tenants';
import { buildRawKey } from './raw-key';

/** The entries of one payload that belong to one tenant. */
export interface TenantShare {
  tenant: Tenant;
  entries: EntryRef[];
}

export type IntakeResult = 'accepted' | 'duplicate';

/** Per tenant share: its updates and, for each, whether it was already handed off. */
export type SeenUpdates = Array<{ share: TenantShare; updates: Update[]; seen: boolean[] }>;

/**
 * Makes a verified payload durable: per tenant, skip it when every update was already handed
 * off (dedup), otherwise hand it to the worker with publisher confirms (one hand-off per shard its
 * conversations fall in), and only then mark its updates as seen. A failed hand-off throws (503: Meta retries) and leaves no mark behind, so
 * the retry is not mistaken for a duplicate. Archiving and processing happen in the worker.
 */
export class WebhookIntake {
  private readonly throttle = new LogThrottle();

  constructor(
    private readonly dedup: DedupStore,
    private readonly handoff: HandoffPublisher,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    /** HANDOFF_SHARDS: a payload's updates go to the shards of their conversations. */
    private readonly shards: number,
  ) {}

  /**
   * Which updates of each share were already handed off. Started beside the rate-limit check so
   * both go to Redis in one round trip (auto-pipelining); never rejects (dedup degrades open).
   */
  lookup(shares: readonly TenantShare[]): Promise<SeenUpdates> {
    return Promise.all(
      shares.map(async (share) => {
        const updates = listUpdates(share.entries);
        return {
          share,
          updates,
          seen: await this.seen(
            share.tenant.id,
            updates.map((update) => update.key),
          ),
        };
      }),
    );
  }

  async accept(raw: Buffer, lookedUp: SeenUpdates, correlationId: string): Promise<IntakeResult> {
    const receivedAt = new Date();
    const results = await Promise.all(lookedUp.map((share) => this.acceptShare(raw, share, correlationId, receivedAt)));
    return results.includes('accepted') ? 'accepted' : 'duplicate';
  }

  private async acceptShare(
    raw: Buffer,
    { share: { tenant, entries }, updates, seen }: SeenUpdates[number],
    correlationId: string,
    receivedAt: Date,
  ): Promise<IntakeResult> {
    const keys = updates.map((update) => update.key);
    if (updates.length > 0 && seen.every(Boolean)) {
      this.count(tenant.id, updates, 'duplicate');
      this.logger.info('duplicate webhook absorbed', { tenantId: tenant.id, updates: updates.length });
      return 'duplicate';
    }

    const rawKey = buildRawKey(tenant.id, receivedAt, updates, raw);
    const handoffs = shardHandoffs(
      {
        tenantId: tenant.id,
        correlationId,
        receivedAt: receivedAt.toISOString(),
        rawKey,
        entryIndexes: entries.map((entry) => entry.index),
        source: 'meta',
        body: raw,
      },
      updates,
      this.shards,
    );
    await Promise.all(handoffs.map((handoff) => this.handoff.toShard(handoff)));
    this.count(tenant.id, updates, 'accepted');
    this.dedup.mark(tenant.id, keys).catch((err: unknown) => {
      this.logger.warn('dedup marks not written; a redelivery will be absorbed by the worker instead', { cause: String(err) });
    });
    return 'accepted';
  }

  /** Dedup degrades open: without Redis every update counts as new (the worker still dedups events). */
  private async seen(tenantId: string, keys: string[]): Promise<boolean[]> {
    try {
      return await this.dedup.seen(tenantId, keys);
    } catch (err) {
      this.metrics.dependencyDegraded.inc({ dependency: 'redis', feature: 'dedup' });
      this.throttle.run('dedup', (suppressed) => this.logger.warn('dedup unavailable, handing off without it', { cause: String(err), suppressed }));
      return keys.map(() => false);
    }
  }

  private count(tenant: string, updates: readonly Update[], status: IntakeResult): void {
    for (const update of updates) {
      const type = update.kind !== 'message' ? update.kind : updateTypeLabel(update.kind, update.type);
      this.metrics.webhookReceived.inc({ tenant, message_type: type, status });
    }
  }
}
