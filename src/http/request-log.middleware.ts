import type { RequestHandler } from 'express';
import type { Logger, Metrics } from '../observability';
import { locals } from './locals';

export interface RequestRecord {
  method: string;
  route: string;
  status: number;
  seconds: number;
  /** The error code of a failed request. */
  code?: string;
  /** Of the log line; `info` unless said otherwise. */
  level?: 'info' | 'debug';
}

/** One log line and one histogram sample for a finished request. */
export function recordRequest(logger: Logger, metrics: Metrics, { method, route, status, seconds, code, level = 'info' }: RequestRecord): void {
  metrics.httpDuration.observe({ route, method, status: String(status) }, seconds);
  if (!logger.isLevelEnabled(level)) return;
  logger.log(level, 'request', { method, route, status, durationMs: Math.round(seconds * 10_000) / 10, code });
}

/** `recordRequest` for every request Express serves, with its route, status and duration. */
export function requestLog(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.on('finish', () => {
      const matched = req.route as { path?: unknown } | undefined;
      recordRequest(logger, metrics, {
        method: req.method,
        route: typeof matched?.path === 'string' ? matched.path : 'unmatched',
        status: res.statusCode,
        seconds: (performance.now() - started) / 1000,
        code: locals(res).errorCode,
      });
    });
    next();
  };
}
