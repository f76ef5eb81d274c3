import axios, { type AxiosInstance } from 'axios';
import { PermanentError, TransientError } from '../errors';
import type { ResilientCall } from './resilient-call';

/** What the State Manager is told about each inbound message (`POST /state/message`). */
export interface StateMessage {
  tenantId: string;
  eventId: string;
  messageId: string | null;
  type: string;
  direction: 'inbound';
  from: { waId: string | null; userId: string | null; phone: string | null };
  timestamp: string;
  receivedAt: string;
  correlationId: string;
}

/**
 * The State Manager (outside our system), when STATE_MANAGER_URL is set: `GET /state/mapping/:waId`
 * (the customer's conversation mapping, carried as `metadata.conversation` in the event) and
 * `POST /state/message` (message tracking, delivered through a durable outbox queue). Timeouts,
 * retries and a circuit breaker; the tenant goes in `X-Tenant-Id`, the correlation id in
 * `X-Correlation-Id`.
 */
export class StateManagerClient {
  private readonly http: AxiosInstance;

  constructor(
    baseUrl: string,
    private readonly call: ResilientCall,
    options: { timeoutMs: number },
  ) {
    this.http = axios.create({ baseURL: baseUrl, timeout: options.timeoutMs, validateStatus: () => true });
  }

  /** The mapping, or null when the State Manager has none for this customer. */
  async mapping(tenantId: string, waId: string, correlationId: string): Promise<Record<string, unknown> | null> {
    return this.call.run(async () => {
      const response = await this.request(() =>
        this.http.get(`/state/mapping/${encodeURIComponent(waId)}`, { headers: { 'X-Tenant-Id': tenantId, 'X-Correlation-Id': correlationId } }),
      );
      if (response.status === 404) return null;
      check(response.status);
      const body: unknown = response.data;
      return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
    });
  }

  async recordMessage(message: StateMessage): Promise<void> {
    await this.call.run(async () => {
      const response = await this.request(() =>
        this.http.post('/state/message', message, { headers: { 'X-Tenant-Id': message.tenantId, 'X-Correlation-Id': message.correlationId } }),
      );
      check(response.status);
    });
  }

  private async request<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (cause) {
      throw new TransientError('state_manager_unavailable', 'State Manager did not answer', { cause });
    }
  }
}

function check(status: number): void {
  if (status >= 200 && status < 300) return;
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    throw new PermanentError('state_manager_rejected', `State Manager refused the request (${status})`, { details: { status } });
  }
  throw new TransientError('state_manager_unavailable', `State Manager answered ${status}`, { details: { status } });
}
