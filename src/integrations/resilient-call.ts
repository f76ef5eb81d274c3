import { backOff } from 'exponential-backoff';
import CircuitBreaker from 'opossum';
import { PermanentError, TransientError } from '../errors';
import type { Logger, Metrics } from '../observability';

export interface ResilienceOptions {
  /** Metric label and error code prefix, e.g. `tenant_service`. */
  name: string;
  /** Attempts per call on TransientError (exponential backoff with full jitter). */
  maxAttempts: number;
  retryDelayMs: number;
  /** Percentage of failed calls (in the last 10 s) that opens the circuit. */
  errorThresholdPercentage: number;
  /** Calls (in the last 10 s) before the circuit may open at all. */
  volumeThreshold: number;
  /** How long the circuit stays open before one trial call is let through. */
  resetTimeoutMs: number;
}

const STATE = { closed: 0, halfOpen: 0.5, open: 1 } as const;

/**
 * Calls to a service outside our system: retries with backoff on outages (TransientError), and a
 * circuit breaker (opossum) around them, so a service that keeps failing is not called for a
 * while and callers get an immediate TransientError (`<name>_unavailable`) instead of waiting
 * for timeouts. Answers the service gives on purpose (PermanentError: a 4xx) do not count
 * against it. The state is the `circuit_breaker_state{name}` gauge.
 */
export class ResilientCall {
  private readonly breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;

  constructor(
    private readonly options: ResilienceOptions,
    private readonly metrics: Metrics,
    logger: Logger,
  ) {
    this.breaker = new CircuitBreaker((operation: () => Promise<unknown>) => this.withRetries(operation), {
      timeout: false,
      errorThresholdPercentage: options.errorThresholdPercentage,
      volumeThreshold: options.volumeThreshold,
      resetTimeout: options.resetTimeoutMs,
      rollingCountTimeout: 10_000,
      errorFilter: (err: unknown) => err instanceof PermanentError,
    });
    const name = options.name;
    metrics.circuitState.set({ name }, STATE.closed);
    this.breaker.on('open', () => {
      metrics.circuitState.set({ name }, STATE.open);
      logger.warn('circuit opened: calls fail fast until a trial call succeeds', { service: name, resetTimeoutMs: options.resetTimeoutMs });
    });
    this.breaker.on('halfOpen', () => metrics.circuitState.set({ name }, STATE.halfOpen));
    this.breaker.on('close', () => {
      metrics.circuitState.set({ name }, STATE.closed);
      logger.info('circuit closed: calls go through again', { service: name });
    });
  }

  async run<T>(operation: () => Promise<T>): Promise<T> {
    const name = this.options.name;
    try {
      const result = (await this.breaker.fire(operation)) as T;
      this.metrics.externalCalls.inc({ name, outcome: 'ok' });
      return result;
    } catch (err) {
      if ((err as { code?: string }).code === 'EOPENBREAKER') {
        this.metrics.circuitRejected.inc({ name });
        this.metrics.externalCalls.inc({ name, outcome: 'rejected' });
        throw new TransientError(`${name}_unavailable`, `${name} is failing; its circuit is open, so it was not called`);
      }
      this.metrics.externalCalls.inc({ name, outcome: 'failed' });
      throw err;
    }
  }

  shutdown(): void {
    this.breaker.shutdown();
  }

  private withRetries(operation: () => Promise<unknown>): Promise<unknown> {
    return backOff(operation, {
      numOfAttempts: this.options.maxAttempts,
      startingDelay: this.options.retryDelayMs,
      timeMultiple: 2,
      maxDelay: 2_000,
      jitter: 'full',
      retry: (err: unknown) => err instanceof TransientError,
    });
  }
}
