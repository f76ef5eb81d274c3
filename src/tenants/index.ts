export { keysOf, tenantSchema, TENANT_ID_PATTERN, type Tenant, type TenantKey, type TenantSource } from './tenant';
export { TenantResolver } from './tenant.resolver';
export { parseTenants, TenantsFileSource } from './tenants-file.source';
