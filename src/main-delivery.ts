import type { Infrastructure } from './bootstrap/infrastructure';
import type { WorkerHandle } from './main-worker';
import { createDatabase, DeliveryService, DeliveryStore, EndpointClient, SubscriptionStore } from './subscriptions';

/** Composition root of the delivery role (ROLE=delivery, and ROLE=all with DATABASE_URL): events to tenants' endpoints. */
export function startDelivery(infra: Infrastructure): WorkerHandle {
  const { database, config } = infra;
  if (!database || !config.database) throw new Error('the delivery role needs DATABASE_URL');
  const log = createDatabase({ ...config.database, asyncCommit: true }, infra.logger.child({ component: 'delivery-log' }));
  const service = new DeliveryService({
    rabbit: infra.rabbit,
    subscriptions: new SubscriptionStore(database),
    deliveries: new DeliveryStore(database, log),
    client: new EndpointClient(config.endpoints, config.delivery.timeoutMs),
    options: config.delivery,
    logger: infra.logger.child({ component: 'delivery' }),
    metrics: infra.metrics,
  });
  service.start();
  return {
    close: async () => {
      await service.close();
      await log.end();
    },
  };
}
