import { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../errors';
import { callerOf } from '../subscriptions';
import { TENANT_ID_PATTERN } from '../tenants';
import type { LedgerStore } from './ledger.store';
import { dayStats } from './stats';
import type { MessageTrace, MessageTracer } from './trace';

export interface LedgerRoutesDeps {
  ledger: LedgerStore;
  tracer: MessageTracer;
}

/** Longest range of days one stats request may span. */
const MAX_STATS_DAYS = 92;
const DAY_MS = 86_400_000;

const tenantId = z.string().regex(TENANT_ID_PATTERN, 'must be a tenant id');
const day = z.iso.date();
const statsQuery = z.object({ tenantId: tenantId.optional(), from: day.optional(), to: day.optional() }).strict();
const traceQuery = z.object({ tenantId: tenantId.optional() }).strict();
/** Meta's wamids are base64-ish text of about 60 characters; anything else cannot be one. */
const WAMID = /^[\w.=+/:-]{1,512}$/;

/**
 * `/admin/messages/:wamid` and `/admin/stats` (mounted behind the admin token): any tenant, or the
 * one `tenantId` names.
 */
export function adminLedgerRoutes(deps: LedgerRoutesDeps): Router {
  const router = Router();
  router.get('/admin/messages/:wamid', async (req, res) => {
    const query = parse(traceQuery, req.query);
    const traces = await deps.tracer.trace(wamidOf(req), query.tenantId);
    if (traces.length === 0) throw notFound();
    // A wamid is Meta's and unique; two tenants holding one is a data problem the operator sees whole.
    res.json(traces.length === 1 ? traces[0] : { messageId: wamidOf(req), traces });
  });
  router.get('/admin/stats', async (req, res) => {
    const query = parse(statsQuery, req.query);
    const { from, to } = range(query.from, query.to);
    res.json({ from, to, days: dayStats(await deps.ledger.daily(from, to, query.tenantId)) });
  });
  return router;
}

/** `/v1/messages/:wamid` and `/v1/stats` for a tenant's API key (its own tenant only) or, on the admin port, the operator. */
export function tenantLedgerRoutes(deps: LedgerRoutesDeps, authenticate: RequestHandler): Router {
  const router = Router();
  router.use(['/v1/messages', '/v1/stats'], authenticate);
  router.get('/v1/messages/:wamid', async (req, res) => {
    const caller = callerOf(res);
    const query = parse(traceQuery, req.query);
    const scope = caller.kind === 'tenant' ? caller.tenantId : query.tenantId;
    // Another tenant's message is not found, the same as one that does not exist.
    if (caller.kind === 'tenant' && query.tenantId !== undefined && query.tenantId !== caller.tenantId) throw notFound();
    const traces: MessageTrace[] = await deps.tracer.trace(wamidOf(req), scope);
    if (traces.length === 0) throw notFound();
    res.json(traces.length === 1 ? traces[0] : { messageId: wamidOf(req), traces });
  });
  router.get('/v1/stats', async (req, res) => {
    const caller = callerOf(res);
    const query = parse(statsQuery, req.query);
    if (caller.kind === 'tenant' && query.tenantId !== undefined && query.tenantId !== caller.tenantId) {
      throw new ValidationError('invalid_request', 'tenantId: a tenant key reads its own tenant only');
    }
    const { from, to } = range(query.from, query.to);
    const scope = caller.kind === 'tenant' ? caller.tenantId : query.tenantId;
    res.json({ from, to, days: dayStats(await deps.ledger.daily(from, to, scope)) });
  });
  return router;
}

function wamidOf(req: Request): string {
  const wamid = String(req.params.wamid);
  if (!WAMID.test(wamid)) throw notFound();
  return wamid;
}

/** From and to (inclusive, UTC days); today when neither is given, at most MAX_STATS_DAYS apart. */
function range(from: string | undefined, to: string | undefined): { from: string; to: string } {
  const end = to ?? new Date().toISOString().slice(0, 10);
  const start = from ?? end;
  const days = (Date.parse(end) - Date.parse(start)) / DAY_MS;
  if (days < 0) throw new ValidationError('invalid_request', 'from: must not be after to');
  if (days >= MAX_STATS_DAYS) throw new ValidationError('invalid_request', `from, to: at most ${MAX_STATS_DAYS} days at once`);
  return { from: start, to: end };
}

function notFound(): NotFoundError {
  return new NotFoundError('not_found', 'No such message in the ledger for this caller');
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ValidationError('invalid_request', result.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; '));
  }
  return result.data;
}
