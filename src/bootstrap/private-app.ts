import express, { type Express, type Router } from 'express';
import { correlationId, errorHandler, metricsRoutes, notFound, requestLog } from '../http';
import type { Logger, Metrics } from '../observability';

/**
 * The routes an operator or Prometheus reaches on a port of their own (ADMIN_PORT, METRICS_PORT),
 * kept off the public webhook port: `/admin/*` when given, `/metrics` when asked for.
 */
export function createPrivateApp(deps: { logger: Logger; metrics: Metrics; admin?: Router; serveMetrics: boolean }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(correlationId(), requestLog(deps.logger, deps.metrics));
  if (deps.serveMetrics) app.use(metricsRoutes(deps.metrics));
  if (deps.admin) app.use(deps.admin);
  app.use(notFound());
  app.use(errorHandler(deps.logger));
  return app;
}
