/** The shapes of the API's answers the page reads (openapi/openapi.yaml is their reference). */

export interface TenantIntake {
  tenant: string;
  accepted: number;
  duplicates: number;
  refused: Record<string, number>;
}

export interface Overview {
  intake: TenantIntake[];
  lastHour: Array<{ at: string; accepted: number; duplicates: number; refused: number }>;
  queues: Array<{ queue: string; messages: number | null; consumers: number | null }>;
}

export interface DeadLetter {
  tenantId?: string;
  source?: string;
  rawKey?: string;
  failedKey?: string;
  attempts?: number;
  lastError?: string;
  correlationId?: string;
  receivedAt?: string;
}

export interface ReplayCounts {
  found: number;
  replayed: number;
  skipped: number;
  failed: number;
  keys?: string[];
}

export interface Subscription {
  id: string;
  tenantId: string;
  url: string;
  description: string;
  filter: string[];
  enabled: boolean;
  disabledReason: string | null;
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
  secret?: string;
}

export interface Delivery {
  id: string;
  eventId: string;
  routingKey: string;
  webhookId: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface DeliveryAttempt {
  attempt: number;
  startedAt: string;
  latencyMs: number;
  statusCode: number | null;
  error: string | null;
  response: string | null;
}

export interface EndpointHour {
  hour: string;
  attempts: number;
  delivered: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface MessageTrace {
  tenantId: string;
  messageId: string;
  message: {
    direction: string | null;
    type: string | null;
    state: string | null;
    waId: string | null;
    userId: string | null;
    updatedAt: string;
  } | null;
  steps: string[];
}

export interface Funnel {
  sent: number;
  delivered: number;
  read: number;
  played: number;
  failed: number;
  failedByCode: Record<string, number>;
  byCategory: Record<string, { sent: number; delivered: number; read: number; played: number; failed: number }>;
}

export interface Stats {
  from: string;
  to: string;
  days: Array<{ tenantId: string; day: string; total: number; events: Record<string, Record<string, number>>; funnel: Funnel }>;
}
