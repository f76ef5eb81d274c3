import { handleError, type HandledError } from '../errors';
import type { Logger } from '../observability';

export interface RetryPolicy {
  retryDelaysMs: readonly number[];
  maxAttempts: number;
  /** An outage is waited out this long (from the first retry), then the message is dead-lettered. */
  transientRetryWindowMs: number;
  /**
   * A delivery the broker has returned to its queue this many times without it being settled (the
   * worker died or lost its connection while holding it, each time) is dead-lettered instead of
   * handled again: below RabbitMQ 4's default quorum-queue delivery limit (20), past which the
   * broker itself would drop it.
   */
  maxRedeliveries: number;
}

export type Decision =
  { action: 'retry'; delayMs: number; attempt: number; retryingSince: string; handled: HandledError } | { action: 'dead-letter'; handled: HandledError };

/**
 * Decides what becomes of a failed message, the same way for every queue the worker consumes:
 * - an outage (TransientError) → retry, the last delay repeating, until it works or until
 *   TRANSIENT_RETRY_WINDOW_SECONDS (7 days) after the first retry;
 * - anything else → retry up to MAX_ATTEMPTS, then dead-letter;
 * - something retrying cannot help (PermanentError) → dead-letter at once.
 * Logs the failure once, through handleError.
 */
export function decide(
  error: unknown,
  message: { attempt: number; retryingSince?: string },
  policy: RetryPolicy,
  logger: Logger,
  context: Record<string, unknown>,
): Decision {
  const handled = handleError(error, logger, 'consumer', { ...context, attempt: message.attempt });
  const retryingSince = message.retryingSince ?? new Date().toISOString();
  const withinWindow = Date.now() - Date.parse(retryingSince) < policy.transientRetryWindowMs;
  const retryable = (handled.retry === 'until-it-works' && withinWindow) || (handled.retry === 'bounded' && message.attempt < policy.maxAttempts);
  if (!retryable) return { action: 'dead-letter', handled };
  return { action: 'retry', delayMs: delayFor(message.attempt, policy), attempt: message.attempt + 1, retryingSince, handled };
}

/** The delay before attempt `attempt + 1`; the last configured delay repeats. */
export function delayFor(attempt: number, policy: RetryPolicy): number {
  const delays = policy.retryDelaysMs;
  return delays[Math.min(attempt - 1, delays.length - 1)] ?? 0;
}
