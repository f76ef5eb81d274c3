import type { Express } from 'express';
import type { Config } from '../config';
import { createAdminRouter, createApiApp } from '../main-api';
import { startDelivery } from '../main-delivery';
import { startLedger } from '../main-ledger';
import { createWorkerOpsApp, startWorker, type WorkerHandle } from '../main-worker';
import { Readiness, type DependencyCheck, type Logger, type Metrics } from '../observability';
import { listen, type HttpServer } from './http-server';
import { createInfrastructure, type Infrastructure } from './infrastructure';
import { createPrivateApp } from './private-app';

export interface ServiceHandle {
  /** Base URL of this process's HTTP server (receiver for api/all, ops endpoints for worker). */
  url: string;
  /** The Express app this process serves (receiver, or the worker's ops endpoints). */
  app: Express;
  /** Base URLs of the private ports, when ADMIN_PORT / METRICS_PORT are set (one URL when they are equal). */
  adminUrl: string | undefined;
  metricsUrl: string | undefined;
  infra: Infrastructure;
  readiness: Readiness;
  /**
   * Graceful shutdown, in this order: readiness off → (SHUTDOWN_DELAY_MS) → HTTP server stops
   * accepting and finishes in-flight requests → consumers drain → publishers wait for confirms
   * → connections close. Idempotent.
   */
  stop(): Promise<void>;
}

/** Starts the role `config.role` asks for, with the given logger and metrics (tests pass their own). */
export async function startService(config: Config, logger: Logger, metrics: Metrics): Promise<ServiceHandle> {
  const infra = await createInfrastructure(config, logger, metrics);
  infra.cacheControl.listen();
  await infra.cacheControl.warm(config.tenants.warmAccountIds).catch((err: unknown) => logger.warn('tenant cache not warmed', { cause: String(err) }));
  let worker: WorkerHandle | undefined;
  let delivery: WorkerHandle | undefined;
  let ledger: WorkerHandle | undefined;
  const servers: HttpServer[] = [];
  // The roles without the receiver serve their ops routes only, on WORKER_PORT.
  const opsRole = config.role === 'worker' || config.role === 'delivery' || config.role === 'ledger';
  try {
    const readiness = new Readiness(readinessChecks(infra), metrics);
    if (config.role === 'worker' || config.role === 'all') worker = await startWorker(infra);
    if (config.role === 'delivery' || (config.role === 'all' && infra.database)) delivery = startDelivery(infra);
    if (config.role === 'ledger' || (config.role === 'all' && config.ledger.enabled)) ledger = await startLedger(infra);
    const { adminPort, metricsPort } = config.http;
    const ports = { adminElsewhere: adminPort !== undefined, metricsElsewhere: metricsPort !== undefined };
    const { app, listener } = opsRole ? opsOnly(createWorkerOpsApp(infra, readiness, !ports.metricsElsewhere)) : createApiApp(infra, readiness, ports);
    const server = await listen(listener, opsRole ? config.http.workerPort : config.http.port, config.http);
    servers.push(server);
    const admin = adminPort !== undefined && !opsRole ? createAdminRouter(infra, true) : undefined;
    const privateUrls = new Map<number, string>();
    for (const port of new Set([adminPort, metricsPort])) {
      if (port === undefined) continue;
      const privateApp = createPrivateApp({
        logger: infra.logger.child({ component: 'private-http' }),
        metrics,
        admin: port === adminPort ? admin : undefined,
        serveMetrics: port === metricsPort,
      });
      const privateServer = await listen(privateApp, port, config.http);
      servers.push(privateServer);
      privateUrls.set(port, privateServer.url);
    }
    const adminUrl = adminPort === undefined ? undefined : privateUrls.get(adminPort);
    const metricsUrl = metricsPort === undefined ? undefined : privateUrls.get(metricsPort);
    logger.info('service started', { role: config.role, url: server.url, adminUrl, metricsUrl });

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopping ??= (async () => {
        readiness.markShuttingDown();
        if (config.http.shutdownDelayMs > 0) await new Promise((r) => setTimeout(r, config.http.shutdownDelayMs));
        await Promise.all(servers.map((s) => s.close()));
        await Promise.all([worker?.close(), delivery?.close(), ledger?.close()]);
        await infra.close();
        logger.info('service stopped', { role: config.role });
      })());
    return { url: server.url, adminUrl, metricsUrl, app, infra, readiness, stop };
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    await Promise.all([worker?.close(), delivery?.close(), ledger?.close()]);
    await infra.close();
    throw err;
  }
}

/** The worker's HTTP server: its ops routes, all through Express. */
function opsOnly(app: Express): { app: Express; listener: Express } {
  return { app, listener: app };
}

/**
 * What `/ready` requires per role. The receiver needs only the broker to make a webhook
 * durable; without Redis it degrades (no dedup, no rate limit, tenants from the source), so
 * Redis is reported but does not pull the receiver out of the load balancer, which would turn
 * a degradation into an outage. The worker needs all three.
 */
function readinessChecks(infra: Infrastructure): DependencyCheck[] {
  const { redis, rabbitmq, s3, database } = infra.checks;
  // The subscriptions API needs PostgreSQL; the webhooks do not: reported, never required here.
  const optional = database ? [{ ...database, required: false }] : [];
  if (infra.config.role === 'api') return [rabbitmq, { ...redis, required: false }, ...optional];
  if (infra.config.role === 'delivery' || infra.config.role === 'ledger') return [rabbitmq, ...(database ? [database] : [])];
  return [rabbitmq, redis, s3, ...optional];
}
