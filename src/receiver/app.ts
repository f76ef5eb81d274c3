import type { RequestListener } from 'node:http';
import express, { type Express, type Router } from 'express';
import { correlationId, errorHandler, notFound, openapiRoutes, opsRoutes, requestLog } from '../http';
import type { Readiness } from '../observability';
import { verifySubscription } from './subscription.handler';
import { webhookHandler, type WebhookHandlerDeps } from './webhook.handler';

export interface ReceiverDeps extends WebhookHandlerDeps {
  readiness: Readiness;
  /** Operator routes (`/admin/*`), when ADMIN_TOKEN is set and no ADMIN_PORT takes them elsewhere. */
  admin?: Router;
  /** The tenants' API (`/v1/subscriptions`), when DATABASE_URL is set. */
  api?: Router;
  /** False when METRICS_PORT serves `/metrics` instead of this port. */
  serveMetrics: boolean;
}

export interface Receiver {
  /** Every route, for anything that serves or inspects them through Express. */
  app: Express;
  /**
   * What the HTTP server runs: `POST /webhook` goes straight to its handler (no router, no
   * middleware chain: the one route under load), every other request through `app`.
   */
  listener: RequestListener;
}

/** The receiver: `POST /webhook` (see `webhookHandler`), `GET /webhook`, ops, OpenAPI and admin routes. */
export function createApp(deps: ReceiverDeps): Receiver {
  const webhook = webhookHandler(deps);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Self-contained (correlation id, request line, errors): registered before the middleware so
  // that what Express routes here (`/Webhook/`, say) is served exactly as the listener serves it.
  app.post('/webhook', (req, res) => webhook(req, res));
  app.use(correlationId(), requestLog(deps.logger, deps.metrics));
  app.get('/webhook', verifySubscription(deps.tenants));
  app.use(opsRoutes(deps.readiness, deps.metrics, { serveMetrics: deps.serveMetrics }), openapiRoutes());
  if (deps.admin) app.use(deps.admin);
  if (deps.api) app.use(deps.api);
  app.use(notFound());
  app.use(errorHandler(deps.logger));

  const listener: RequestListener = (req, res) => {
    if (req.method === 'POST' && isWebhookPath(req.url)) webhook(req, res);
    else app(req, res);
  };
  return { app, listener };
}

/** `/webhook`, with or without a query string. */
function isWebhookPath(url: string | undefined): boolean {
  return url !== undefined && url.startsWith('/webhook') && (url.length === 8 || url[8] === '?');
}
