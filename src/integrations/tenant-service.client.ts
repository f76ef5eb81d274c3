import axios, { type AxiosInstance } from 'axios';
import { PermanentError, TransientError } from '../errors';
import { tenantSchema, type Tenant, type TenantKey, type TenantSource } from '../tenants';
import type { ResilientCall } from './resilient-call';

/**
 * Tenants from the Tenant Service: `GET {TENANT_SERVICE_URL}/tenants/by-business-account/:id`,
 * with a timeout, retries and a circuit breaker. 404 (and 400, 410, 422: the service refuses the
 * id itself) means no such tenant. Any other 4xx is the service refusing us (credentials, a
 * changed API): a PermanentError, never retried and never counted by the breaker, so a sender
 * of bogus ids cannot open it for every tenant. 408, 429, 5xx and network errors mean the service
 * cannot answer right now (TransientError: the receiver answers 503 and Meta retries; tenants
 * already cached keep being served). The service only knows account ids; phone-number lookups
 * are answered from the cache.
 */
/** Answers that say the id belongs to no tenant (the service may also refuse an id it finds malformed). */
const NO_SUCH_TENANT = new Set([400, 404, 410, 422]);

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
    if (NO_SUCH_TENANT.has(response.status)) return null;
    if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
      throw new PermanentError('tenant_service_rejected', `Tenant Service refused the lookup (${response.status})`, { details: { status: response.status } });
    }
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
