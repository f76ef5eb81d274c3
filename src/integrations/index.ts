export { GraphApiClient, type GraphApiOptions, type MediaInfo } from './graph-api.client';
export { TenantServiceSource } from './tenant-service.client';
export { TenantThrottle } from './tenant-throttle';
