import { Router } from 'express';
import type { Metrics, Readiness } from '../observability';

/**
 * `/health` (no I/O: the process answers), `/ready` (dependencies checked) and, unless it is
 * served on a port of its own (METRICS_PORT), `/metrics`.
 */
export function opsRoutes(readiness: Readiness, metrics: Metrics, options: { serveMetrics: boolean } = { serveMetrics: true }): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/ready', async (_req, res) => {
    const report = await readiness.report();
    res.status(report.ready ? 200 : 503).json({ status: report.status, checks: report.checks });
  });
  if (options.serveMetrics) router.use(metricsRoutes(metrics));
  return router;
}

/** `/metrics`: Prometheus' text format. */
export function metricsRoutes(metrics: Metrics): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  return router;
}
