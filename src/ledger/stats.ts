import type { DailyRow } from './ledger.store';

/** The outbound funnel of one day: messages reaching each state (a status counts once per message and state). */
export interface Funnel {
  sent: number;
  delivered: number;
  read: number;
  played: number;
  failed: number;
  failedByCode: Record<string, number>;
  /** The same counts per pricing category (Meta's category of the message; `unknown` when it gave none). */
  byCategory: Record<string, { sent: number; delivered: number; read: number; played: number; failed: number }>;
}

export interface DayStats {
  tenantId: string;
  day: string;
  /** Events written by kind, then type. */
  events: Record<string, Record<string, number>>;
  total: number;
  funnel: Funnel;
}

const FUNNEL_STATES = ['sent', 'delivered', 'read', 'played', 'failed'] as const;
type FunnelState = (typeof FUNNEL_STATES)[number];

/** The daily counts as one record per tenant and day. */
export function dayStats(rows: readonly DailyRow[]): DayStats[] {
  const days = new Map<string, DayStats>();
  for (const row of rows) {
    const key = `${row.tenant_id}\u0000${row.day}`;
    const stats = days.get(key) ?? blank(row.tenant_id, row.day);
    days.set(key, stats);
    const byType = (stats.events[row.kind] ??= {});
    byType[row.type] = (byType[row.type] ?? 0) + row.events;
    stats.total += row.events;
    if (row.kind !== 'status' || !isFunnelState(row.type)) continue;
    stats.funnel[row.type] += row.events;
    const category = (stats.funnel.byCategory[row.category || 'unknown'] ??= { sent: 0, delivered: 0, read: 0, played: 0, failed: 0 });
    category[row.type] += row.events;
    if (row.type === 'failed') stats.funnel.failedByCode[row.error_code || 'none'] = (stats.funnel.failedByCode[row.error_code || 'none'] ?? 0) + row.events;
  }
  return [...days.values()];
}

function blank(tenantId: string, day: string): DayStats {
  return { tenantId, day, events: {}, total: 0, funnel: { sent: 0, delivered: 0, read: 0, played: 0, failed: 0, failedByCode: {}, byCategory: {} } };
}

function isFunnelState(type: string): type is FunnelState {
  return (FUNNEL_STATES as readonly string[]).includes(type);
}
