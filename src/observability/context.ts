import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line inside a request or a hand-off carries without anyone passing it by hand. */
export interface LogContext {
  correlationId: string;
  tenantId?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

export function runWithContext<T>(context: LogContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentContext(): LogContext | undefined {
  return storage.getStore();
}

/** Records the tenant once it is known (the context object is shared by the whole request). */
export function setContextTenant(tenantId: string): void {
  const context = storage.getStore();
  if (context) context.tenantId = tenantId;
}
