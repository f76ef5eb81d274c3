import type { Infrastructure } from './bootstrap/infrastructure';
import { LedgerService, LedgerStore } from './ledger';
import type { WorkerHandle } from './main-worker';

/** Composition root of the ledger role (ROLE=ledger, and ROLE=all with DATABASE_URL and LEDGER_ENABLED): events into PostgreSQL. */
export async function startLedger(infra: Infrastructure): Promise<WorkerHandle> {
  const { database, config } = infra;
  if (!database || !config.ledger.enabled) throw new Error('the ledger role needs DATABASE_URL and LEDGER_ENABLED');
  const service = new LedgerService({
    rabbit: infra.rabbit,
    store: new LedgerStore(database, config.ledger.retentionDays),
    options: config.ledger,
    logger: infra.logger.child({ component: 'ledger' }),
    metrics: infra.metrics,
  });
  await service.start();
  return { close: () => service.close() };
}
