/**
 * The shapes of the API's answers the page reads: the server's own types (type-only imports, gone
 * from the bundle), so that the page and the API cannot drift apart; openapi/openapi.yaml is their reference.
 */
import type { ReplayCounts as Counts } from '../../src/admin/replay.service';
import type { CachedTenantState } from '../../src/cache/tenant.cache';
import type { IntakePoint, QueueDepth, TenantIntake } from '../../src/console/overview';
import type { DayStats } from '../../src/ledger/stats';
import type { Delivery, DeliveryAttempt, EndpointHour } from '../../src/subscriptions/delivery.store';
import type { Subscription as Stored } from '../../src/subscriptions/subscription.store';

export type { CachedTenantState, DayStats, Delivery, DeliveryAttempt, EndpointHour, TenantIntake };
export type { MessageTrace } from '../../src/ledger/trace';
export type { Funnel } from '../../src/ledger/stats';

export interface Overview {
  intake: TenantIntake[];
  lastHour: IntakePoint[];
  queues: QueueDepth[];
}

/** A dead letter's headers, as `/admin/dead-letters` gives them (whatever the publisher put there). */
export interface DeadLetter {
  tenantId?: string;
  source?: string;
  rawKey?: string;
  failedKey?: string;
  attempts?: number;
  lastError?: string;
  correlationId?: string;
  receivedAt?: string;
}

/** A dry run also names what it would replay. */
export type ReplayCounts = Counts & { keys?: string[] };

/** As listed; with its secret when just made or rotated. */
export type Subscription = Stored & { secret?: string };

export interface Stats {
  from: string;
  to: string;
  days: DayStats[];
}
