/**
 * The few error types of the service. Each one drives a decision, not a message:
 * - HTTP: which status Meta (or an operator) gets;
 * - worker: whether a hand-off is retried without limit (an outage is waited out), retried a
 *   bounded number of times (something in the payload or in our code), or dead-lettered at once.
 */
export type Retry = 'never' | 'bounded' | 'until-it-works';

interface AppErrorOptions {
  cause?: unknown;
  /** Safe, non-PII facts for the log line (ids, counts, names of fields). */
  details?: Record<string, unknown>;
}

export abstract class AppError extends Error {
  abstract readonly httpStatus: number;
  abstract readonly retry: Retry;

  constructor(
    /** Stable, machine-readable reason, e.g. `signature_invalid`; also a metric label. */
    readonly code: string,
    message: string,
    readonly options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }

  get details(): Record<string, unknown> | undefined {
    return this.options.details;
  }
}

/** The request is malformed (JSON, envelope, content type, size). Nothing is stored. */
export class ValidationError extends AppError {
  readonly retry = 'never' as const;
  constructor(
    code: string,
    message: string,
    readonly httpStatus: 400 | 413 | 415 | 422 = 400,
    options?: AppErrorOptions,
  ) {
    super(code, message, options);
  }
}

/** The caller is not who it must be: a bad webhook signature (401), a wrong verify or admin token (403/401). */
export class SignatureError extends AppError {
  readonly retry = 'never' as const;
  constructor(
    code: string,
    message: string,
    readonly httpStatus: 401 | 403 = 401,
    options?: AppErrorOptions,
  ) {
    super(code, message, options);
  }
}

/** No tenant owns the account the payload is for. */
export class UnknownTenantError extends AppError {
  readonly httpStatus = 404;
  readonly retry = 'never' as const;
}

/** What the request names does not exist, or is not the caller's to see (the two are not told apart). */
export class NotFoundError extends AppError {
  readonly httpStatus = 404;
  readonly retry = 'never' as const;
}

/** A tenant is over its request budget. */
export class RateLimitedError extends AppError {
  readonly httpStatus = 429;
  readonly retry = 'never' as const;
  constructor(
    readonly retryAfterSeconds: number,
    options?: AppErrorOptions,
  ) {
    super('rate_limited', 'Too many requests for this account', options);
  }
}

/** A dependency is unavailable (broker, Redis, object store, a remote service). Try again later. */
export class TransientError extends AppError {
  readonly httpStatus = 503;
  readonly retry = 'until-it-works' as const;
}

/** Retrying cannot help (an unparseable hand-off, an unknown hand-off version). */
export class PermanentError extends AppError {
  readonly httpStatus = 500;
  readonly retry = 'never' as const;
}

/** Bad configuration found at start-up; `problems` name every variable at fault. */
export class ConfigError extends AppError {
  readonly httpStatus = 500;
  readonly retry = 'never' as const;
  constructor(readonly problems: string[]) {
    super('invalid_configuration', `Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
