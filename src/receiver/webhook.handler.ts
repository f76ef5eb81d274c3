import type { IncomingMessage, ServerResponse } from 'node:http';
import { TransientError, ValidationError } from '../errors';
import { answerError, correlationIdFrom, CORRELATION_HEADER, recordRequest, sendJson } from '../http';
import { checkEnvelopeBounds, parseEnvelope, scanEnvelope, type EnvelopeLimits } from '../meta';
import { currentContext, runWithContext, type Logger, type Metrics } from '../observability';
import type { TenantResolver } from '../tenants';
import type { BodyBudget } from './body-budget';
import { readBody } from './body-reader';
import { parseSignatureHeader, verifySignature } from './signature';
import { tenantShares, withParsedEntries } from './tenant-shares';
import type { WebhookIntake } from './webhook-intake';
import type { WebhookRateLimit } from './webhook-rate-limit';

export interface WebhookHandlerDeps {
  logger: Logger;
  metrics: Metrics;
  tenants: TenantResolver;
  intake: WebhookIntake;
  rateLimit: WebhookRateLimit;
  /** Largest body accepted; a larger Content-Length gets 413 before the body is read. */
  bodyLimitBytes: number;
  /** Bodies held at once by this process (RECEIVER_MAX_INFLIGHT_BYTES); past it, 503 before reading. */
  bodyBudget: BodyBudget;
  /** Accounts and updates one POST may carry (checked before any tenant lookup). */
  envelopeLimits: EnvelopeLimits;
}

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * `POST /webhook`, on Node's own request and response: every POST from Meta is this handler and
 * nothing else (no router, no middleware chain), as it is the one route under load. It does only
 * what the acknowledgement needs, in this order: correlation id → content type → signature
 * header present → room in the body budget → raw bytes (size limit) → envelope scanned from the
 * bytes and its bounds (valid JSON, short plain ids, few accounts, not far more updates than Meta
 * batches) → tenant → HMAC over the exact bytes → the payload parsed (only once authenticated) →
 * per-tenant rate limit (with the dedup lookup, in one Redis round trip) → durable hand-off → 200.
 * Archiving, normalization and media happen in the worker.
 *
 * Every request ends with one `http_request_duration_seconds` sample and one `request` log
 * line, as the routes served by Express do; the line of an accepted webhook is at `debug` (at
 * 2,500/s, one info line per webhook cost 7 % of the receiver's CPU; `webhook_received_total`
 * counts them). A refused one gets its `request` line at `info`, an error line with the reason,
 * and a `webhook_received_total` sample labelled with the error code.
 */
export function webhookHandler(deps: WebhookHandlerDeps): NodeHandler {
  return (req, res) => {
    const started = performance.now();
    const correlationId = correlationIdFrom(req.headers['x-correlation-id']);
    res.setHeader(CORRELATION_HEADER, correlationId);
    let code: string | undefined;
    res.once('finish', () => {
      const status = res.statusCode;
      const seconds = (performance.now() - started) / 1000;
      recordRequest(deps.logger, deps.metrics, { method: 'POST', route: '/webhook', status, seconds, code, level: status < 400 ? 'debug' : 'info' });
    });
    runWithContext({ correlationId }, () => {
      handle(deps, req, res, correlationId).catch((err: unknown) => {
        code = answerError(err, res, deps.logger, correlationId);
        deps.metrics.webhookReceived.inc({ tenant: currentContext()?.tenantId ?? 'unknown', message_type: 'unknown', status: code });
      });
    });
  };
}

async function handle(deps: WebhookHandlerDeps, req: IncomingMessage, res: ServerResponse, correlationId: string): Promise<void> {
  if (mediaType(req.headers['content-type']) !== 'application/json') {
    throw new ValidationError('unsupported_media_type', 'Content-Type must be application/json', 415);
  }
  // Checked before the body is read, so an unsigned request never costs a 3 MB read.
  const signature = parseSignatureHeader(single(req.headers['x-hub-signature-256']));
  reserveBody(deps, req, res);
  const raw = await readBody(req, deps.bodyLimitBytes);
  // Before the signature, the envelope as scanned from the bytes: nothing of it decoded but its ids.
  const scanned = scanEnvelope(raw, deps.envelopeLimits.maxUpdates);
  checkEnvelopeBounds(scanned, deps.envelopeLimits);
  const resolved = await tenantShares(deps.tenants, scanned.entries);
  const tenants = resolved.map((share) => share.tenant);
  const matched = verifySignature(raw, signature, tenants);
  matched.forEach((secret, i) => deps.metrics.signatureMatched.inc({ tenant: tenants[i]!.id, secret }));
  // Authenticated: parsed now, and it must name the accounts the scan found.
  const shares = withParsedEntries(resolved, scanned, parseEnvelope(raw));
  const seen = deps.intake.lookup(shares);
  await deps.rateLimit.check(tenants, res);
  const status = await deps.intake.accept(raw, await seen, correlationId);
  sendJson(res, 200, { status, correlationId });
}

/**
 * Holds the body's bytes in the budget until the answer is sent: what Content-Length says (a larger
 * one is refused by the reader), else the whole limit. When they do not fit, the request is shed
 * with 503 and its body is never read: once the answer is out the connection goes, since reading
 * the body off would cost what shedding saves.
 */
function reserveBody(deps: WebhookHandlerDeps, req: IncomingMessage, res: ServerResponse): void {
  const length = Number(req.headers['content-length']);
  const bytes = Number.isSafeInteger(length) && length >= 0 ? Math.min(length, deps.bodyLimitBytes) : deps.bodyLimitBytes;
  if (deps.bodyBudget.tryReserve(bytes)) {
    res.once('close', () => deps.bodyBudget.release(bytes));
    return;
  }
  deps.metrics.receiverShed.inc();
  res.setHeader('Retry-After', '1');
  res.setHeader('Connection', 'close');
  res.once('finish', () => req.socket.destroySoon());
  req.socket.pause();
  throw new TransientError('receiver_busy', 'The receiver is reading as many webhook bodies as it can hold; retry shortly');
}

/** Node joins repeated headers into one string; only a few (set-cookie) come as a list. */
function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `application/json` whatever its parameters (`; charset=utf-8`) and case. */
function mediaType(header: string | undefined): string | undefined {
  return header?.split(';', 1)[0]?.trim().toLowerCase();
}
