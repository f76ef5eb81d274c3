export { ledgerEntryOf, messageChanges, type LedgerEntry, type MessageChange } from './ledger-entry';
export { LedgerStore, type DailyRow, type WriteResult } from './ledger.store';
export { LedgerService, type LedgerOptions } from './ledger.worker';
export { adminLedgerRoutes, tenantLedgerRoutes, type LedgerRoutesDeps } from './ledger.routes';
export { dayStats, type DayStats, type Funnel } from './stats';
export { MessageTracer, type MessageTrace } from './trace';
