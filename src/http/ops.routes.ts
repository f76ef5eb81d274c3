import { Router } from 'express';
import type { Metrics, Readiness } from '../observability';

/** `/health` (no I/O: the process answers), `/ready` (dependencies checked), `/metrics`. */
export function opsRoutes(readiness: Readiness, metrics: Metrics): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/ready', async (_req, res) => {
    const report = await readiness.report();
    res.status(report.ready ? 200 : 503).json({ status: report.status, checks: report.checks });
  });
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  return router;
}
