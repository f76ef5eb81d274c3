import axios, { type AxiosInstance } from 'axios';
import { TransientError } from '../errors';
import { tenantSchema, type Tenant, type TenantKey, type TenantSource } from '../tenants';
import type { ResilientCall } from './resilient-call';

/**
 * Tenants from the Tenant Service: `GET {TENANT_SERVICE_URL}/tenants/by-business-account/:id`,
 * with a timeout, retries and a circuit breaker. 404 means no such tenant; anything else that is
 * not a valid tenant record means the service cannot answer right now (TransientError: the
 * receiver answers 503 and Meta retries; tenants already cached keep being served). The service
 * only knows account ids; phone-number lookups are answered from the cache.
 */
export class TenantServiceSource implements TenantSource {
  readonly name = 'tenant-service';
  private readonly http: AxiosInstance;

  constructor(
    baseUrl: string,
    private readonly call: ResilientCall,
    options: { timeoutMs: number },
  ) {
    this.http = axios.create({ baseURL: baseUrl, timeout: options.timeoutMs, validateStatus: () => true });
  }

  async find(key: TenantKey): Promise<Tenant | null> {
    if (key.by !== 'account') return null;
    return this.call.run(() => this.fetch(key.id));
  }

  async list(): Promise<null> {
    return null;
  }

  private async fetch(accountId: string): Promise<Tenant | null> {
    let response;
    try {
      response = await this.http.get(`/tenants/by-business-account/${encodeURIComponent(accountId)}`);
    } catch (cause) {
      throw new TransientError('tenant_service_unavailable', 'Tenant Service did not answer', { cause });
    }
    if (response.status === 404) return null;
    if (response.status !== 200) {
      throw new TransientError('tenant_service_unavailable', `Tenant Service answered ${response.status}`, { details: { status: response.status } });
    }
    const parsed = tenantSchema.safeParse(response.data);
    if (!parsed.success) {
      throw new TransientError('tenant_service_invalid', 'Tenant Service returned a record that is not a valid tenant', {
        details: { problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) },
      });
    }
    return parsed.data;
  }
}
