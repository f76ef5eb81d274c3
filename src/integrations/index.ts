export { GraphApiClient, type GraphApiOptions, type MediaInfo } from './graph-api.client';
export { ResilientCall, type ResilienceOptions } from './resilient-call';
export { StateManagerClient, type StateMessage } from './state-manager.client';
export { TenantServiceSource } from './tenant-service.client';
export { TenantThrottle } from './tenant-throttle';
export { MediaHostPolicy } from './media-host.policy';
