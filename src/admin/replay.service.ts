import { randomUUID } from 'node:crypto';
import type { DedupStore } from '../cache';
import { UnknownTenantError, ValidationError } from '../errors';
import { shardHandoffs, type HandoffPublisher } from '../messaging';
import { parseEnvelope, selectUpdates, type EntryRef } from '../meta';
import type { Logger } from '../observability';
import type { RawPayloadStore } from '../storage';
import { TENANT_ID_PATTERN, type TenantResolver } from '../tenants';
import { eventIdOf } from '../contract';

export interface ReplayRequest {
  tenantId: string;
  /** First day (yyyy-MM-dd, UTC), inclusive. */
  from: string;
  /** Last day (yyyy-MM-dd, UTC), inclusive. */
  to: string;
  /** `failed` (default): payloads that were dead-lettered; `raw`: every archived payload. */
  source: 'failed' | 'raw';
  /** Count what would be replayed without handing anything off. */
  dryRun: boolean;
  /**
   * Replay raw payloads older than the dedup window too. Their events' marks have expired, so
   * events that were published then are published again (same eventId: consumers can drop them).
   */
  allowRepublish?: boolean;
}

export interface ReplayOptions {
  /** How long event marks live (DEDUP_TTL_SECONDS): the window in which a replay can tell what was published. */
  dedupWindowSeconds: number;
  /** HANDOFF_SHARDS: a replayed payload goes to the shards of its conversations, as live traffic does. */
  shards: number;
}

export interface ReplayCounts {
  /** Payloads found in the range. */
  found: number;
  /** Handed to the worker again (or, in a dry run, that would be). */
  replayed: number;
  /** Every event of the payload is already published: nothing to do. */
  skipped: number;
  /** Could not be read or handed off (see the log lines). */
  failed: number;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MAX_DAYS = 31;

/**
 * Puts stored payloads back through the same pipeline: each one is handed to the worker's
 * process queue exactly as the receiver would have (source `replay`). Events keep their stable
 * ids, so replaying is idempotent: payloads whose events are all published already are skipped,
 * and the worker publishes only what is missing. A failed payload is replayed for the updates
 * that failed only (recorded with it); raw payloads only within the dedup window, where the
 * marks still tell what was published, unless `allowRepublish` says otherwise.
 */
export class ReplayService {
  constructor(
    private readonly rawStore: RawPayloadStore,
    private readonly publisher: HandoffPublisher,
    private readonly eventDedup: DedupStore,
    private readonly tenants: TenantResolver,
    private readonly logger: Logger,
    private readonly options: ReplayOptions,
  ) {}

  /** Throws ValidationError (400) when the request does not make sense. */
  static validate(request: ReplayRequest, options?: ReplayOptions, now = Date.now()): void {
    if (!request.tenantId) throw new ValidationError('invalid_replay', 'tenant is required');
    if (!TENANT_ID_PATTERN.test(request.tenantId)) throw new ValidationError('invalid_replay', 'tenant must be a tenant id (letters, digits, "-", "_")');
    if (!DAY.test(request.from) || !DAY.test(request.to) || Number.isNaN(Date.parse(request.from)) || Number.isNaN(Date.parse(request.to))) {
      throw new ValidationError('invalid_replay', 'from and to must be days as yyyy-MM-dd');
    }
    const days = (Date.parse(request.to) - Date.parse(request.from)) / 86_400_000 + 1;
    if (days < 1) throw new ValidationError('invalid_replay', 'from must not be after to');
    if (days > MAX_DAYS) throw new ValidationError('invalid_replay', `at most ${MAX_DAYS} days per replay`);
    if (request.source !== 'failed' && request.source !== 'raw') throw new ValidationError('invalid_replay', 'source must be failed or raw');
    // The first day must lie wholly inside the window in which event marks still exist.
    const windowStart = now - (options?.dedupWindowSeconds ?? Infinity) * 1000;
    if (request.source === 'raw' && !request.allowRepublish && Date.parse(`${request.from}T00:00:00Z`) < windowStart) {
      throw new ValidationError(
        'replay_outside_dedup_window',
        `raw payloads before ${new Date(windowStart).toISOString()} are past the dedup window (DEDUP_TTL_SECONDS): what they published can no longer be told apart; pass allowRepublish to replay them anyway`,
      );
    }
  }

  async run(request: ReplayRequest, onProgress?: (counts: ReplayCounts, key: string) => void): Promise<ReplayCounts> {
    ReplayService.validate(request, this.options);
    if ((await this.tenants.knows(request.tenantId)) === false) {
      throw new UnknownTenantError('unknown_tenant', 'No tenant has this id in the registry');
    }
    const counts: ReplayCounts = { found: 0, replayed: 0, skipped: 0, failed: 0 };
    for await (const object of this.rawStore.list(request.source, request.tenantId, request.from, request.to)) {
      counts.found += 1;
      try {
        counts[await this.replayOne(request, object.key)] += 1;
      } catch (err) {
        counts.failed += 1;
        this.logger.error('payload could not be replayed', { key: object.key, cause: String(err) });
      }
      onProgress?.(counts, object.key);
    }
    this.logger.info('replay finished', {
      ...counts,
      tenantId: request.tenantId,
      source: request.source,
      from: request.from,
      to: request.to,
      dryRun: request.dryRun,
    });
    return counts;
  }

  private async replayOne(request: ReplayRequest, key: string): Promise<'replayed' | 'skipped'> {
    const stored = await this.rawStore.read(key);
    if (!stored) throw new Error('object disappeared while listing');
    const entries = await this.entriesOf(request.tenantId, stored.body, stored.metadata.entries);
    // A failed payload records the updates that failed: the others were published then.
    const only = request.source === 'failed' && stored.metadata.only ? stored.metadata.only.split(',') : undefined;
    const updates = selectUpdates(entries, only);
    const ids = [...new Set(updates.map((update) => eventIdOf(request.tenantId, update.kind, update.key)))];
    const published = await this.eventDedup.seen(request.tenantId, ids);
    if (published.length > 0 && published.every(Boolean)) return 'skipped';
    if (request.dryRun) return 'replayed';
    const handoffs = shardHandoffs(
      {
        tenantId: request.tenantId,
        correlationId: stored.metadata['correlation-id'] || randomUUID(),
        receivedAt: stored.metadata['received-at'] || new Date().toISOString(),
        rawKey: stored.metadata['raw-key'] || key,
        entryIndexes: entries.map((entry) => entry.index),
        source: 'replay',
        only,
        body: stored.body,
      },
      // The whole share: shards are worked out on it (as the receiver did), then `only` picks.
      selectUpdates(entries),
      this.options.shards,
    );
    await Promise.all(handoffs.map((handoff) => this.publisher.toShard(handoff)));
    return 'replayed';
  }

  /** The tenant's entries: as recorded when it was archived, else resolved again. */
  private async entriesOf(tenantId: string, body: Buffer, recorded: string | undefined): Promise<EntryRef[]> {
    const { entries } = parseEnvelope(body);
    if (recorded) {
      const indexes = new Set(recorded.split(',').map(Number));
      return entries.filter((entry) => indexes.has(entry.index));
    }
    const owners = await Promise.all(entries.map((entry) => this.tenants.resolveEntry(entry)));
    return entries.filter((_, i) => owners[i]?.id === tenantId);
  }
}
