import type { RequestHandler } from 'express';
import type { Logger, Metrics } from '../observability';
import { locals } from './locals';

/** One log line and one histogram sample per request, with route, status and duration. */
export function requestLog(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.on('finish', () => {
      const seconds = (performance.now() - started) / 1000;
      const matched = req.route as { path?: unknown } | undefined;
      const route = typeof matched?.path === 'string' ? matched.path : 'unmatched';
      metrics.httpDuration.observe({ route, method: req.method, status: String(res.statusCode) }, seconds);
      logger.info('request', {
        method: req.method,
        route,
        status: res.statusCode,
        durationMs: Math.round(seconds * 10_000) / 10,
        code: locals(res).errorCode,
      });
    });
    next();
  };
}
