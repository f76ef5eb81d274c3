export { ApiKeyStore, type ApiKey } from './api-key.store';
export { createDatabase, migrate, MIGRATIONS_DIR, type Database } from './database';
export { checkEndpointUrl, isLoopbackAddress, isPrivateAddress, type EndpointRules } from './endpoint-policy';
export { matchesFilter, parseEventFilter } from './event-filter';
export { apiKeyRoutes, subscriptionRoutes, type ApiKeyRoutesDeps, type SubscriptionRoutesDeps } from './subscription.routes';
export { SubscriptionStore, type Caller, type Subscription, type SubscriptionWithSecrets } from './subscription.store';
