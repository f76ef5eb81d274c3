import express, { type Express, type RequestHandler, type Router } from 'express';
import { ValidationError } from '../errors';
import { correlationId, errorHandler, locals, notFound, openapiRoutes, opsRoutes, requestLog } from '../http';
import { parseEnvelope } from '../meta';
import { currentContext, type Logger, type Metrics, type Readiness } from '../observability';
import type { TenantResolver } from '../tenants';
import { parseSignatureHeader, verifySignature } from './signature';
import { verifySubscription } from './subscription.handler';
import { tenantShares } from './tenant-shares';
import type { WebhookIntake } from './webhook-intake';
import type { WebhookRateLimit } from './webhook-rate-limit';

export interface ReceiverDeps {
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
  tenants: TenantResolver;
  intake: WebhookIntake;
  rateLimit: WebhookRateLimit;
  /** Operator routes (`/admin/*`), when ADMIN_TOKEN is set. */
  admin?: Router;
  /** Largest body accepted; larger ones get 413 without being read to the end. */
  bodyLimitBytes: number;
}

/**
 * The receiver. `POST /webhook` does only what the acknowledgement needs, in this order:
 * content type → signature header present → raw bytes (size limit) → envelope → tenant →
 * HMAC over the exact bytes → per-tenant rate limit (with the dedup lookup, in one Redis round trip) →
 * durable hand-off → 200. Everything else (archive,
 * normalization, media) happens in the worker.
 */
export function createApp(deps: ReceiverDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(correlationId(), requestLog(deps.logger, deps.metrics));

  // The webhook routes first: every POST from Meta passes no other route on its way.
  app.post('/webhook', requireJson, requireSignature, express.raw({ type: () => true, limit: deps.bodyLimitBytes, inflate: false }), async (req, res) => {
    const raw = req.body as Buffer;
    const { correlationId, signature } = locals(res);
    const envelope = parseEnvelope(raw);
    const shares = await tenantShares(deps.tenants, envelope.entries);
    const tenants = shares.map((share) => share.tenant);
    verifySignature(
      raw,
      signature ?? Buffer.alloc(0),
      tenants.map((tenant) => tenant.appSecret),
    );
    const seen = deps.intake.lookup(shares);
    await deps.rateLimit.check(tenants, res);
    const status = await deps.intake.accept(raw, await seen, correlationId);
    res.status(200).json({ status, correlationId });
  });
  app.get('/webhook', verifySubscription(deps.tenants));
  app.use(opsRoutes(deps.readiness, deps.metrics), openapiRoutes());

  if (deps.admin) app.use(deps.admin);
  app.use(notFound());
  app.use(
    errorHandler(deps.logger, (req, code) => {
      if (req.method === 'POST' && req.path === '/webhook') {
        deps.metrics.webhookReceived.inc({ tenant: currentContext()?.tenantId ?? 'unknown', message_type: 'unknown', status: code });
      }
    }),
  );
  return app;
}

const requireJson: RequestHandler = (req, _res, next) => {
  next(req.is('application/json') ? undefined : new ValidationError('unsupported_media_type', 'Content-Type must be application/json', 415));
};

/** Checked before the body is read, so an unsigned request never costs a 3 MB read. */
const requireSignature: RequestHandler = (req, res, next) => {
  locals(res).signature = parseSignatureHeader(req.get('X-Hub-Signature-256'));
  next();
};
