import type { Logger } from 'winston';
import { AppError, type Retry } from './app-error';

export interface HandledError {
  /** HTTP status to answer with. */
  status: number;
  /** Machine-readable reason (also a metric label). */
  code: string;
  /** What a client may be told: our own wording for AppErrors, a generic one otherwise. */
  publicMessage: string;
  /** What the worker does with a hand-off that failed this way. */
  retry: Retry;
}

export type ErrorSource = 'http' | 'consumer' | 'process';

/**
 * The one place that turns any thrown value into a decision and a log line. Express, the
 * consumer and process-level handlers all call it, so the same failure reads the same everywhere.
 * Errors that are not ours (a bug, a library throwing) count as bounded-retry, status 500.
 */
export function handleError(error: unknown, logger: Logger, source: ErrorSource, context: Record<string, unknown> = {}): HandledError {
  if (error instanceof AppError) {
    const handled: HandledError = { status: error.httpStatus, code: error.code, publicMessage: error.message, retry: error.retry };
    const level = error.httpStatus < 500 || error.retry === 'until-it-works' ? 'warn' : 'error';
    logger.log(level, error.message, { source, code: error.code, ...error.details, ...context, cause: describeCause(error.cause) });
    return handled;
  }
  const err = error instanceof Error ? error : new Error(String(error));
  logger.error(err.message, { source, code: 'internal_error', ...context, stack: err.stack });
  return { status: 500, code: 'internal_error', publicMessage: 'Internal error', retry: 'bounded' };
}

function describeCause(cause: unknown): string | undefined {
  if (cause === undefined) return undefined;
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return typeof cause === 'string' ? cause : JSON.stringify(cause);
}
